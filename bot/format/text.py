"""Body HTML → styled text runs, parsed with the standard library's ``html.parser``.

Never slices HTML: the body is parsed into runs of plain text, each carrying the only
styles Telegram HTML can keep from an article (bold, italic, an http(s) link); every other
element becomes text or disappears (https://core.telegram.org/bots/api#html-style lists
what Telegram knows — ``<p>`` is an error there). Paragraphs become a blank line, ``<br>``
a line break, list items "• " lines. Script, style and other code-bearing elements are
dropped with their content, so hostile HTML leaves no trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

PARAGRAPH = "\n\n"
LINE = "\n"

_BLOCK = frozenset(
    ["address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul"]  # noqa: E501
)
_DROP = frozenset(["script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "head", "title", "select", "textarea", "button"])  # noqa: E501
_VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"])
_BOLD = frozenset({"b", "strong"})
_ITALIC = frozenset({"i", "em"})
# HTML collapses these; U+00A0 (and U+202F) are NOT among them: French typography survives.
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# Characters no platform wants: C0/C1 controls (except newline), lone surrogates, non-characters.
_INVISIBLE_JUNK = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None

    def restyled(self, text: str) -> Run:
        return Run(text, self.bold, self.italic, self.href)


def clean_text(text: str) -> str:
    return _INVISIBLE_JUNK.sub("", text)


def safe_href(href: str | None) -> str | None:
    """Only absolute http(s) links survive; javascript:, data:, relative links do not."""
    if not href:
        return None
    href = clean_text(href).strip()
    if re.match(r"https?://[^\s/?#]+", href, re.IGNORECASE) and not re.search(r"\s", href):
        return href
    return None


class _RunCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[Run] = []
        self.pending_break = ""
        self.bold = 0
        self.italic = 0
        self.hrefs: list[str | None] = []
        self.dropping: list[str] = []

    def _break(self, kind: str) -> None:
        if self.runs and len(kind) > len(self.pending_break):
            self.pending_break = kind

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping:
            if tag == self.dropping[-1] and tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag in _DROP:
            if tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag == "br":
            self._break(LINE)
        elif tag == "li":
            self._break(LINE)
            self._emit("• ", force=True)
        elif tag in _BLOCK:
            self._break(PARAGRAPH)
        elif tag in _BOLD:
            self.bold += 1
        elif tag in _ITALIC:
            self.italic += 1
        elif tag == "a":
            self.hrefs.append(safe_href(dict(attrs).get("href")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID or tag == "br":
            self.handle_starttag(tag, attrs)
        # a self-closed non-void element (<b/>) opens nothing

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in _BLOCK and tag != "li":
            self._break(PARAGRAPH)
        elif tag in _BOLD:
            self.bold = max(0, self.bold - 1)
        elif tag in _ITALIC:
            self.italic = max(0, self.italic - 1)
        elif tag == "a" and self.hrefs:
            self.hrefs.pop()

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            if "  " in data or "\n" in data or "\t" in data or "\r" in data or "\f" in data:
                data = _HTML_SPACE.sub(" ", data)
            self._emit(data)

    def _emit(self, text: str, *, force: bool = False) -> None:
        if not text:
            return
        if self.pending_break:
            text = text.lstrip(" ")
            if not text:
                return
            last = self.runs[-1]
            if last.text.endswith(" "):
                self.runs[-1] = last.restyled(last.text.rstrip(" "))
                if not self.runs[-1].text:
                    self.runs.pop()
            self.runs.append(Run(self.pending_break))
            self.pending_break = ""
        elif not self.runs or self.runs[-1].text.endswith(("\n", " ")):
            text = text.lstrip(" ") if not force else text
            if not text:
                return
        href = next((h for h in reversed(self.hrefs) if h), None) if self.hrefs else None
        self.runs.append(Run(text, self.bold > 0, self.italic > 0, href))


CHUNK = 1024


def html_to_runs(html: str, enough: Callable[[str], bool] | None = None) -> list[Run]:
    """Styled runs of the body's text, whitespace collapsed, no leading or trailing space.

    With ``enough``, parsing stops once the text gathered so far, up to its last word
    boundary, satisfies it (already longer than any excerpt can be): a channel post needs
    the beginning of a long article, not all of it. The runs then end at that boundary,
    never inside a word.
    """
    collector = _RunCollector()
    for start in range(0, len(html), CHUNK if enough else max(len(html), 1)):
        # Cleaned per chunk fed, not per text node, and never the part left unread.
        collector.feed(clean_text(html[start: start + CHUNK] if enough else html))
        if enough is not None and start + CHUNK < len(html):
            text = plain(collector.runs)
            boundary = max(text.rfind(" "), text.rfind("\n"))
            if boundary > 0 and enough(text[:boundary]):
                return trim_runs(cut_runs(collector.runs, boundary))
    collector.close()
    return trim_runs(collector.runs)


def cut_runs(runs: list[Run], length: int) -> list[Run]:
    out: list[Run] = []
    for run in runs:
        if length <= 0:
            break
        out.append(run if len(run.text) <= length else run.restyled(run.text[:length]))
        length -= len(run.text)
    return out


def trim_runs(runs: list[Run]) -> list[Run]:
    while runs and not runs[-1].text.strip():
        runs.pop()
    if runs:
        runs[-1] = runs[-1].restyled(runs[-1].text.rstrip())
    return runs


def plain(runs: list[Run]) -> str:
    return "".join(run.text for run in runs)
