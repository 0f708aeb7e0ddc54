"""The language an article is written in, when its feed says otherwise.

Feeds declare one language for everything (``<language>en-us</language>`` is WordPress's
default even on French blogs), and the declared one puts "Read more" under French text
(issue 11 item 13). py3langid (a maintained fork of langid.py; its model ships inside the
wheel, nothing is downloaded) reads the text; its answer replaces the declaration only when
the text is long enough and the answer clear.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# The languages blogs we publish are written in; restricting the model makes it surer.
CANDIDATES = ("fr", "en", "de", "es", "it", "pt", "nl", "ca")
MIN_LETTERS = 120  # shorter texts (a title, a teaser) are not enough to overrule the feed
MIN_CONFIDENCE = 0.99
_SAMPLE = 600


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # 0.1 s and 30 MB: only when needed

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def detect(text: str) -> str | None:
    """The text's language code when it is clear, else None (too short, or a close call)."""
    sample = text[:_SAMPLE]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(sample)
    return str(code) if confidence >= MIN_CONFIDENCE else None


def article_language(declared: str, text: str) -> str:
    """``declared`` unless the text clearly says another language. A declared language the
    model was not asked about is kept: among the candidates, Swedish would come out German."""
    if declared not in CANDIDATES:
        return declared
    detected = detect(text)
    return detected if detected and detected != declared else declared
