"""The statistics chart: French labels and dates by default, English on request, a real PNG."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from PIL import Image

from bot.chart import DPI, HEIGHT, WIDTH, figure_png, stats_figure, stats_png
from bot.services.stats import Day, Stats, TagFollows, Window

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def _stats(days: int) -> Stats:
    series = tuple(Day(date(2026, 5, 4) - timedelta(days=days - 1 - k), k % 3, 2 * k) for k in range(days))
    return Stats(NOW, "Europe/Paris", 4, 3, 120, 7, (TagFollows("IA", 40),), (Window(7, 2, 3, 0, 90, 1, 5),
                 Window(30, 9, 12, 1, 400, 3, 20)), series)


def _texts(figure) -> list[str]:  # type: ignore[no-untyped-def]
    texts = [figure.get_suptitle()]
    for axes in figure.axes:
        texts += [axes.get_title(loc="left"), *(label.get_text() for label in axes.get_xticklabels())]
    return [text for text in texts if text]


def test_the_chart_speaks_french_with_french_dates() -> None:
    texts = _texts(stats_figure(_stats(30)))
    assert texts[0] == "Relais, du 5 avril au 4 mai 2026"
    assert "Publications envoyées par jour" in texts and "Notifications aux lecteurs par jour" in texts
    assert {"9 avr.", "14 avr.", "4 mai"} <= set(texts)  # every fifth day, today always


def test_a_week_labels_every_day_and_english_readers_get_english() -> None:
    texts = _texts(stats_figure(_stats(7), "en-GB"))
    assert texts[0] == "Relais, 28 April to 4 May 2026"
    assert "Publications sent per day" in texts
    assert [t for t in texts if t[0].isdigit()] == ["28 Apr", "29 Apr", "30 Apr", "1 May", "2 May", "3 May", "4 May"]


def test_the_chart_is_a_png_of_the_announced_size() -> None:
    data = stats_png(_stats(30))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (WIDTH * DPI, HEIGHT * DPI)
    assert figure_png(stats_figure(_stats(7)))[:8] == b"\x89PNG\r\n\x1a\n"
