"""`relais stats`: what went out, what waits, who reads, over bot.services.stats.

`--chart PATH` writes the PNG that `/stats` sends in the chat (French labels).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import console, with_app
from bot.errors import UsageError
from bot.services import stats as service
from bot.services.stats import Stats

ROWS = (("posts published", "posts_published"), ("publications sent", "publications_sent"),
        ("publications given up (dead)", "publications_dead"), ("notifications sent", "deliveries_sent"),
        ("notifications failed", "deliveries_failed"), ("new readers", "new_readers"))


def _as_json(result: Stats) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data["now"] = result.now.isoformat()
    data["days"] = [{**d, "day": d["day"].isoformat()} for d in data["days"]]
    return data


def _print(result: Stats) -> None:
    table = Table(title=f"Statistics (calendar days in {result.timezone}, today included)")
    table.add_column("")
    for window in result.windows:
        table.add_column(f"last {window.days} days", justify="right")
    for label, field in ROWS:
        table.add_row(label, *(str(getattr(w, field)) for w in result.windows))
    console.print(table)
    console.print(f"Queue: {result.queue_length} publication(s) waiting ({result.queued_posts} post(s)).")
    console.print(f"Readers: {result.readers_active} active, {result.readers_inactive} inactive.")
    tags = ", ".join(f"#{t.tag} ({t.followers})" for t in result.top_tags) or "none yet"
    console.print(f"Most followed tags: {tags}", soft_wrap=True, highlight=False)


def stats(
    ctx: typer.Context,
    days: int = typer.Option(30, "--days", help="Span of the per-day series and the chart: 7 or 30."),
    top: int = typer.Option(service.TOP_TAGS, "--top", help="How many of the most followed tags."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write the chart to this PNG file.",
                                      dir_okay=False),
) -> None:
    """Posts published, queue length, readers, follows per tag, deliveries, over the last 7 and 30 days."""
    if chart is not None and not chart.parent.is_dir():
        raise UsageError(f"cannot write the chart to {chart}: the folder {chart.parent} does not exist")
    now = datetime.now(UTC)
    result = with_app(ctx, lambda relais: service.stats(relais, now, days=days, top=top))
    if chart is not None:
        from bot.chart import stats_png  # matplotlib: loaded only when a chart is drawn

        chart.write_bytes(stats_png(result, "fr"))
    if as_json:
        typer.echo(json.dumps(_as_json(result), ensure_ascii=False, indent=2))
        return
    _print(result)
    if chart is not None:
        console.print(f"Chart written to {chart}.")
