"""What migrator rendered, so the validator need not parse its own output again.

A transpiler hands over, with each file's text, the value the text was rendered from (HCL
blocks, YAML documents). The validator uses that value in place of a parse only while the file
on disk is byte-identical to the rendering: `Known` holds the SHA-256 of the rendered text and
the parse it stands for; any file a fixer, a model or a human changed is parsed for real, and so
is a rendered value whose parse is not mirrored exactly (agents/validator/tf_model.py). Every other check
(limits, schemas, policies, Terraform's core) runs on the real text as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.validator.tf_model import Unmirrored, hcl2_document
from transpilers.hcl import Block


@dataclass(frozen=True)
class Known:
    digest: str  # SHA-256 of the rendered text
    document: Any  # HCL: what hcl2.loads returns; YAML: the list of documents (read-only)

    def matches(self, text: str) -> bool:
        return digest(text) == self.digest


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known_files(
    files: Mapping[str, str],
    blocks: Mapping[str, Sequence[Block]],
    documents: Mapping[str, Sequence[Any]],
) -> dict[str, Known]:
    """The known parse of every rendered file that has one."""
    out = {name: Known(digest(files[name]), list(docs)) for name, docs in documents.items() if name in files}
    for name, file_blocks in blocks.items():
        if name in files:
            try:
                out[name] = Known(digest(files[name]), hcl2_document(file_blocks))
            except Unmirrored:
                continue
    return out
