"""Character-set repairs feedparser does not make.

feedparser decodes a whole document with one codec: when a UTF-8 feed holds a single
invalid byte, it falls back to windows-1252 for every byte, and all 44 KB come out as
``Ã©pisode`` (issue 11 item 10). ``mend_utf8`` keeps such a document UTF-8, with a
replacement character for the few bad bytes. ``fix_mojibake`` is the guard at entry
level: text that was UTF-8 read as windows-1252 upstream is repaired with ftfy.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

import ftfy

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
# A few bad bytes, or one per this many well-formed non-ASCII characters, and the document
# is still UTF-8; a legacy 8-bit one has (almost) no well-formed multi-byte sequence at all.
_FEW = 3
_BAD_PER_GOOD = 20
# UTF-8 read as windows-1252 or latin-1: "Ã©", "Ã¨", "â€™", "Â ". A cheap test before ftfy's own.
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00c5][\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                            "\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|\u00e2\u20ac")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def declared_encoding(data: bytes, headers: Mapping[str, str] | None = None) -> str | None:
    """The charset the HTTP header gives (it wins, RFC 7303 §3.2), else the XML declaration's."""
    found = _CHARSET.search((headers or {}).get("content-type", ""))
    if found:
        return _codec(found.group(1))
    declared = _XML_DECLARATION.match(data[:512])
    return _codec(declared.group(1).decode("ascii")) if declared else None


def mend_utf8(data: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """``data`` as valid UTF-8 when it is UTF-8 (declared, or undeclared: XML's default) with
    a few bad bytes; unchanged otherwise, for feedparser's own detection."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    if data.startswith(_WIDE_BOMS) or declared_encoding(data, headers) not in (None, "utf-8"):
        return data
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for _ in _NON_ASCII.finditer(text))
    if good == 0 or (bad > _FEW and bad * _BAD_PER_GOOD > good):
        return data  # mostly single high bytes: a legacy 8-bit document
    return text.encode("utf-8")


def fix_mojibake(text: str) -> str:
    """Repair UTF-8-read-as-windows-1252 text; anything else is returned as it is."""
    if not text or not _MOJIBAKE_HINT.search(text):
        return text
    fixed = ftfy.fix_encoding(text)
    if fixed != text:
        return fixed
    # ftfy leaves short runs alone ("ÃŽle"); a text that is, as a whole, UTF-8 bytes read as
    # windows-1252 is repaired all the same: clean text does not survive that round trip.
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text
