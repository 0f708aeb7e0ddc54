"""The statistics chart authors get from `/stats` and `relais stats --chart`: a PNG, labels from the catalog.

Pure: a :class:`~bot.services.stats.Stats` in, a figure or PNG bytes out. Matplotlib is
imported here only, when a chart is asked for (it takes a good part of a second to load),
and used through its object API with the Agg canvas: no pyplot, no global state, safe in
a worker thread. Dates are written by Babel in the reader's language (``4 mai``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from babel.dates import format_date

from bot.i18n import base_language, t
from bot.services.stats import Stats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 8, 5, 100  # inches and dots per inch: an 800 × 500 px image, readable on a phone
BAR_COLOURS = ("#2a6f97", "#c05a3a")


def _tick_step(days: int) -> int:
    return 1 if days <= 10 else 5


def stats_figure(stats: Stats, language: str | None = "fr") -> Figure:
    """Publications and deliveries per day, one bar chart above the other."""
    from matplotlib.figure import Figure

    locale = base_language(language)
    days = [d.day for d in stats.days]
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(days)))
    for axes, values, label, colour in (
        (top, [d.publications_sent for d in stats.days], t("stats_chart_publications", locale), BAR_COLOURS[0]),
        (bottom, [d.deliveries_sent for d in stats.days], t("stats_chart_deliveries", locale), BAR_COLOURS[1]),
    ):
        axes.bar(positions, values, color=colour)
        axes.set_title(label, fontsize=10, loc="left")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.spines[["top", "right"]].set_visible(False)
    step = _tick_step(len(days))
    ticks = positions[::-1][::step][::-1]  # always label today, the last bar
    bottom.set_xticks(ticks, [format_date(days[i], "d MMM", locale=locale) for i in ticks], fontsize=8)
    figure.suptitle(t("stats_chart_title", locale, first=format_date(days[0], "d MMMM", locale=locale),
                      last=format_date(days[-1], "d MMMM y", locale=locale)))
    return figure


def figure_png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def stats_png(stats: Stats, language: str | None = "fr") -> bytes:
    """The chart as PNG bytes (a few tens of kB)."""
    return figure_png(stats_figure(stats, language))
