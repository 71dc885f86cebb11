"""Stable, valid identifiers from VM and network names.

vCenter names may hold spaces, non-ASCII letters, punctuation and 80 characters; Terraform wants
`[A-Za-z_][A-Za-z0-9_-]*` and Kubernetes wants DNS-1123 labels of at most 63 characters. A name
that had to be shortened, or whose slug collides with another's, gets a short hash of the
original name, so the identifier never depends on which other VMs happen to be in the wave.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable

DNS1123_MAX = 63
_SPECIAL = {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"}


def ascii_fold(text: str) -> str:
    """'Prüfstand Straße' -> 'Prufstand Strasse': decompose and drop the marks."""
    text = "".join(_SPECIAL.get(ch, ch) for ch in text.lower())
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def dns_slug(name: str, limit: int = DNS1123_MAX) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(name)).strip("-")
    if not slug:
        return "x-" + short_hash(name)
    if len(slug) > limit:
        return _with_hash(slug, name, limit)
    return slug


def tf_slug(name: str, limit: int = 64) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_fold(name)).strip("_")
    if not slug:
        return "x_" + short_hash(name)
    if slug[0].isdigit():
        slug = "n_" + slug
    if len(slug) > limit:
        return _with_hash(slug, name, limit, sep="_")
    return slug


def _with_hash(slug: str, original: str, limit: int, sep: str = "-") -> str:
    suffix = sep + short_hash(original)
    return slug[: limit - len(suffix)].rstrip(sep) + suffix


def unique(names: Iterable[str], slugger: Callable[[str], str], sep: str = "-") -> dict[str, str]:
    """name -> slug, with a hash suffix on every name whose slug is shared with another name."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(names)):
        by_slug[slugger(name)].append(name)
    result: dict[str, str] = {}
    for slug, owners in by_slug.items():
        for name in owners:
            if len(owners) == 1:
                result[name] = slug
            else:
                suffix = sep + short_hash(name)
                result[name] = slug[: DNS1123_MAX - len(suffix)].rstrip(sep) + suffix
    return result


def dns_names(names: Iterable[str], limit: int = DNS1123_MAX) -> dict[str, str]:
    return unique(names, lambda n: dns_slug(n, limit))


def tf_names(names: Iterable[str]) -> dict[str, str]:
    return unique(names, tf_slug, sep="_")
