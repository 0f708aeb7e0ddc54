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
_HTTP_URL = re.compile(r"https?://[^\s/?#]+", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None

    def restyled(self, text: str) -> Run:
        return Run(text, self.bold, self.italic, self.href)


_Style = tuple[bool, bool, str | None]  # bold, italic, href: the fields of a Run after its text
_PLAIN: _Style = (False, False, None)


def clean_text(text: str) -> str:
    return _INVISIBLE_JUNK.sub("", text)


def safe_href(href: str | None) -> str | None:
    """Only absolute http(s) links survive; javascript:, data:, relative links do not."""
    if not href:
        return None
    href = clean_text(href).strip()
    if _HTTP_URL.match(href) and not _WHITESPACE.search(href):
        return href
    return None


class _RunCollector(HTMLParser):
    """Collects runs as it parses; adjacent text of one style is one run.

    The run being written is kept as pieces (``_open``, style ``_style``) and joined only
    when the style changes: a text node split by a chunk boundary, or text around an
    element that carries no style (<span>), never becomes two entities.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.closed: list[Run] = []
        self._open: list[str] = []
        self._style: _Style = _PLAIN
        self.pending_break = ""
        self.bold = 0
        self.italic = 0
        self.hrefs: list[str | None] = []
        self.dropping: list[str] = []

    def runs(self) -> list[Run]:
        if not self._open:
            return list(self.closed)
        return [*self.closed, Run("".join(self._open), *self._style)]

    def text(self) -> str:
        return "".join(run.text for run in self.closed) + "".join(self._open)

    def _last_text(self) -> str:
        return self._open[-1] if self._open else self.closed[-1].text if self.closed else ""

    def _append(self, text: str, style: _Style) -> None:
        if style != self._style:
            if self._open:
                self.closed.append(Run("".join(self._open), *self._style))
                self._open = []
            elif self.closed and (self.closed[-1].bold, self.closed[-1].italic, self.closed[-1].href) == style:
                self._open = [self.closed.pop().text]  # the run in between was stripped away: rejoin
            self._style = style
        self._open.append(text)

    def _break(self, kind: str) -> None:
        if (self._open or self.closed) and len(kind) > len(self.pending_break):
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
        if not self.pending_break and self._open and not self.hrefs and not self._open[-1].endswith(("\n", " ")):
            style = (self.bold > 0, self.italic > 0, None)  # the common case, in short
            if style == self._style:
                self._open.append(text)
            else:
                self._append(text, style)
            return
        if self.pending_break:
            text = text.lstrip(" ")
            if not text:
                return
            self._strip_trailing_space()
            self._append(self.pending_break, _PLAIN)
            self.pending_break = ""
        elif self._last_text().endswith(("\n", " ")) or not (self._open or self.closed):
            text = text.lstrip(" ") if not force else text
            if not text:
                return
        href = next((h for h in reversed(self.hrefs) if h), None) if self.hrefs else None
        self._append(text, (self.bold > 0, self.italic > 0, href))

    def _strip_trailing_space(self) -> None:
        """Spaces before a line or paragraph break are dropped (from the last piece written)."""
        if self._open:
            self._open[-1] = self._open[-1].rstrip(" ")
            if not self._open[-1]:
                self._open.pop()
        elif self.closed and self.closed[-1].text.endswith(" "):
            last = self.closed.pop()
            if last.text.rstrip(" "):
                self.closed.append(last.restyled(last.text.rstrip(" ")))


CHUNK = 1024


def html_to_runs(html: str, enough: Callable[[str], bool] | None = None, *, chunk: int = CHUNK) -> list[Run]:
    """Styled runs of the body's text, whitespace collapsed, no leading or trailing space.

    With ``enough``, the body is read ``chunk`` characters first, then half as many at a
    time, and parsing stops once the text gathered so far, up to its last word boundary,
    satisfies it (already longer than any excerpt can be): a channel post needs the
    beginning of a long article, not all of it. The runs then end at that boundary, never
    inside a word. Callers size ``chunk`` to the limit: parsing is most of a render's cost,
    and each extra chunk costs a parser call and a measure.
    """
    collector = _RunCollector()
    start, step = 0, max(chunk, 2) if enough else len(html)
    while start < len(html):
        # Cleaned per chunk fed, not per text node, and never the part left unread.
        collector.feed(clean_text(html[start: start + step]))
        start += step
        if enough is not None and start < len(html):
            text = collector.text()
            boundary = max(text.rfind(" "), text.rfind("\n"))
            if boundary > 0 and enough(text[:boundary]):
                return trim_runs(cut_runs(collector.runs(), boundary))
            step = max(chunk // 2, 1)  # the first chunk is usually enough; then smaller bites
    collector.close()
    return trim_runs(collector.runs())


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
