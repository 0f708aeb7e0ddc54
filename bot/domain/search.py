"""A reader's search query, parsed into a small safe tree (never raises, whatever the text).

The language: plain words (all required), ``"phrases"``, ``prefix*``, ``-word`` or
``-"phrase"`` to exclude, ``#tag`` to keep only posts with that tag (tag keys:
:func:`bot.domain.tags.tag_key`). Everything else — unbalanced quotes, bare ``*`` or ``-``,
FTS5 or tsquery operators, emoji — is plain text or nothing. The store builds its own
query language (FTS5 ``MATCH`` string, PostgreSQL tsquery) from this tree, quoting each
word itself: the reader's text never reaches either parser.

Words are what SQLite's ``unicode61`` tokenizer sees: runs of letters and digits; ’ ' - .
and the like split them (``e-santé`` → ``e`` ``santé``, ``l’anxiété`` → ``l`` ``anxiété``).
A chunk that splits into several words is searched as a phrase, so it matches the text it
came from. A French elision before a lone word is dropped (``l’anxiété`` finds ``anxiété``
without the article); inside a phrase it stays, because the index keeps it too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain.hashtags import ELISION, written_hashtags
from bot.domain.tags import tag_key

MAX_QUERY = 500  # characters read; the rest of a pasted article is ignored
MAX_TERMS = 12  # words, phrases and tags together: more says nothing a reader meant
_ELIDED = frozenset({"c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})
_OPERATORS = frozenset({"AND", "ET"})  # the default already; a reader typing them means nothing more
_CHUNK = re.compile(r'(-?)"([^"]*)("?)|(\S+)')
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case, no accents, compatibility forms composed: what both indexes compare."""
    return tag_key(text)


@dataclass(frozen=True, slots=True)
class Term:
    """One required (or, ``negated``, excluded) word or phrase."""

    words: tuple[str, ...]  # folded; several = a phrase
    text: str  # as written (NFC, elision dropped): PostgreSQL parses it with its own rules
    prefix: bool = False  # the last word is a prefix
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...] = ()
    tags: tuple[str, ...] = ()  # tag keys, all required
    blank: bool = False  # nothing typed at all

    @property
    def required(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)

    @property
    def understood(self) -> bool:
        """Something to look for: a word, a phrase or a tag (exclusions alone select nothing)."""
        return self.blank or bool(self.required or self.tags)

    @property
    def words(self) -> tuple[str, ...]:
        """Every folded word looked for, for excerpts and highlighting."""
        return tuple(w for t in self.required for w in t.words)


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _term(raw: str, *, phrase: bool, negated: bool) -> Term | None:
    prefix = not phrase and raw.endswith("*")
    raw = raw.rstrip("*") if prefix else raw
    words = _words(raw)
    text = unicodedata.normalize("NFC", raw)
    if not phrase and len(words) > 1 and words[0] in _ELIDED and ELISION.match(text):
        words, text = words[1:], ELISION.sub("", text)
    if not words:
        return None
    return Term(tuple(words), text, prefix=prefix and len(words[-1]) >= 2, negated=negated)


def _tag(chunk: str) -> str | None:
    found = written_hashtags(unicodedata.normalize("NFC", chunk))
    if found and found[0].start == 0 and found[0].tag:
        return tag_key(found[0].tag)
    return None


def _printable(text: str) -> str:
    """Control, private-use and unassigned characters become spaces (PostgreSQL refuses NUL outright)."""
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def parse(text: str) -> Query:
    """The query a reader typed; never raises."""
    text = _printable(unicodedata.normalize("NFC", text[:MAX_QUERY]))
    if not text.strip():
        return Query(blank=True)
    terms: list[Term] = []
    tags: list[str] = []
    for match in _CHUNK.finditer(text):
        negated_phrase, phrase, _closing, chunk = match.groups()
        if phrase is not None:
            term = _term(phrase, phrase=True, negated=bool(negated_phrase))
        elif chunk.startswith("#"):
            key = _tag(chunk)
            if key and key not in tags:
                tags.append(key)
            continue
        elif chunk in _OPERATORS:
            continue
        else:
            negated = chunk.startswith("-") and len(chunk) > 1
            term = _term(chunk[1:] if negated else chunk, phrase=False, negated=negated)
        if term is not None and term not in terms:
            terms.append(term)
    kept = terms[:MAX_TERMS]
    return Query(tuple(kept), tuple(tags[:max(0, MAX_TERMS - len(kept))]))
