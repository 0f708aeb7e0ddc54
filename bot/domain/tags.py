"""Tag keys: one spelling per tag, whatever the accents, case or Unicode form; and the words
that are never tags.

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


# French and English function words (articles, pronouns, prepositions, conjunctions, common forms
# of être/avoir/be/have, negation), as tag keys: nobody follows #un, #est or #the, yet podcast
# keywords and careless categories make them tags. Kept short on purpose: the lists shipped on
# PyPI were tried and do not fit — `stop-words` counts "research", "computer", "web", "état" and
# "essai" as stop words (real tags here), `stopwords` has no French articles ("un", "de", "à").
# Left out on purpose: "ai" (AI), "it" (IT), "us" (US), "eu" (EU), "ete" (été, the season).
_STOP_WORDS = """
a aie as au aucun aucune aux avait avec avez avoir avons ayant c ca ce ceci cela celle celles celui ces cet
cette ceux chez ci comme d dans de des donc dont du elle elles en entre es est et etaient etait etant etes
etre eux ici il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni non nos notre nous
on ont ou par pas plus pour qu quand que quel quelle quelles quels qui s sa sans se ses si son sont sous sur t ta
te tes toi ton tous tout toute toutes tu un une vos votre vous y
about after all also am an and any are at be been being but by can could did do does for from had has have he
her him his how i if in into is its me my no not of on or our out she so than that the their them then there
these they this those to too up was we were what when where which who why will with would you your
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def is_stop_word(key: str) -> bool:
    return key in STOP_WORDS
