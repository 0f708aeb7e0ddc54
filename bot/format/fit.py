"""What a render is made of, and how it is shrunk until it fits the limit.

Order of sacrifice when space runs out: the excerpt first (cut cleanly, see excerpt.py),
then trailing hashtags from the least relevant, then the title (cut at a word, "…").
The read-more link is never dropped: it is the point of a channel post.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.format import hashtags as tags
from bot.format.excerpt import excerpt
from bot.format.model import Article, Profile
from bot.format.text import Run, clean_text, html_to_runs, plain

SEPARATOR = "\n\n"
_MIN_CHUNK = 256


_ASCII_SPACES = re.compile(r"[ \t\r\n\f\v]+")


@dataclass(frozen=True, slots=True)
class Parts:
    title: str
    body_html: str  # parsed by ``fit`` only as far as the excerpt's budget needs
    summary: str  # plain text, the body when ``body_html`` has none
    link_label: str
    trailing: tuple[tags.Hashtag, ...]
    hashtags: tuple[tags.Hashtag, ...]  # every hashtag this render carries (inline + trailing)
    excerpt: tuple[Run, ...] = ()  # the part of the body that fits, set by ``fit``

    @classmethod
    def build(cls, article: Article, profile: Profile, *, link_label: str) -> Parts:
        selected = tags.select(article.tags, profile.max_hashtags)
        # Fold line breaks and runs of ASCII spaces only: French typography's non-breaking
        # spaces (before : ; ! ?, inside « ») are part of the title.
        title = tags.platform_text(_ASCII_SPACES.sub(" ", clean_text(article.title)).strip(" "))
        if profile.hashtag_style == "inline":
            title, trailing = tags.inline(title, selected)
        else:
            present = tags.existing_hashtags(title)
            trailing = [h for h in selected if not tags.already_written(h, present)]
        return cls(title, article.body_html, article.summary, link_label if profile.read_more else "",
                   tuple(trailing), tuple(selected))

    # dataclasses.replace() is generic and several times slower; fit() calls these on every render.
    def with_excerpt(self, runs: tuple[Run, ...]) -> Parts:
        return Parts(self.title, self.body_html, self.summary, self.link_label, self.trailing, self.hashtags, runs)

    def with_trailing(self, trailing: tuple[tags.Hashtag, ...]) -> Parts:
        return Parts(self.title, self.body_html, self.summary, self.link_label, trailing, self.hashtags, self.excerpt)


def _body(parts: Parts, budget: int, measure: Callable[[str], int]) -> list[Run]:
    """The beginning of the body: enough text to fill ``budget``, not the whole article.

    Parsing is most of a render's cost (bench/render.py), so it stops once the text
    measures more than the budget; the first chunk read is 1.25 times the budget.
    """
    def enough(text: str) -> bool:
        return measure(text) > budget

    chunk = max(_MIN_CHUNK, budget * 5 // 4)
    # the summary is stored as plain text (ingest's to_text): escape it, never re-read it as HTML
    body = (html_to_runs(parts.body_html, enough, chunk=chunk)
            or html_to_runs(html.escape(parts.summary), enough, chunk=chunk))
    # Author-written hashtags the platforms would cut (#e-santé) shown whole (#ESanté).
    return [run.restyled(tags.platform_text(run.text)) if "#" in run.text else run for run in body]


def fit(parts: Parts, limit: int, measure: Callable[[str], int],
        plain_of: Callable[[Parts], str]) -> tuple[Parts, int]:
    """The richest version of ``parts`` whose plain text measures at most ``limit``, and its measure."""
    bare = parts.with_excerpt(())
    size = measure(plain_of(bare))
    while size > limit and bare.trailing:
        bare = bare.with_trailing(bare.trailing[:-1])
        size = measure(plain_of(bare))
    if size > limit:
        bare = _shorten_title(bare, limit, measure, plain_of)
        size = measure(plain_of(bare))
    budget = limit - size - measure(SEPARATOR)
    body = _body(parts, budget, measure) if budget > 0 else []
    # The excerpt is measured alone; joins rarely change the sum, but re-check and shrink.
    for _ in range(8):
        if budget <= 0 or not body:
            break
        candidate = bare.with_excerpt(tuple(excerpt(body, budget, measure)))
        if not candidate.excerpt:
            break
        excess = measure(plain_of(candidate)) - limit
        if excess <= 0:
            return candidate, excess + limit
        budget -= excess
    return bare, size


def _shorten_title(parts: Parts, limit: int, measure: Callable[[str], int], plain_of: Callable[[Parts], str]) -> Parts:
    without = replace(parts, title="")
    room = limit - measure(plain_of(without)) - (measure(SEPARATOR) if plain_of(without) else 0)
    title = plain(excerpt([Run(parts.title)], room, measure)) if room > 0 else ""
    if re.fullmatch(r"\W*", title):
        title = ""
    return replace(parts, title=title)
