"""Tag keys: one spelling per tag, whatever the accents, case or Unicode form.

``Santé``, ``santé``, ``SANTÉ``, ``sante`` and decomposed ``Sante\u0301`` share the key
``sante``; ``e-santé`` (key ``e-sante``) and ``esante`` stay different tags.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def clean_display(raw: str) -> str:
    """The display form: NFC, no leading '#', inner whitespace folded to one space."""
    text = unicodedata.normalize("NFC", raw).strip().lstrip("#").strip()
    return " ".join(text.split())


@lru_cache(maxsize=16384)  # pure, and called several times per tag per entry by ingest and the formatter
def tag_key(raw: str) -> str:
    """NFKC, case-folded, accents removed, whitespace folded."""
    text = unicodedata.normalize("NFKC", clean_display(raw)).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).split())
