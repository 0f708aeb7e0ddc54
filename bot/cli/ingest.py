"""`relais import SOURCE…`: bring feeds and WordPress exports into the content store (bot.services.feeds)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import console, err_console, with_app
from bot.errors import PARTIAL_FAILURE
from bot.ingest.decide import Policy
from bot.ingest.fetch import DEFAULT_MAX_BYTES, is_url
from bot.ingest.service import ImportReport
from bot.services import feeds

BIG_FILE = 1024 * 1024  # a progress bar is worth it from here on
_COLUMNS = ("added", "updated", "unchanged", "archived", "skipped", "errors")


def _wants_progress(sources: list[str]) -> bool:
    if len(sources) > 1:
        return True
    location = sources[0]
    return is_url(location) or (os.path.isfile(location) and os.path.getsize(location) > BIG_FILE)


class _Bar:
    """A progress bar line per source, hidden once the source is done."""

    def __init__(self, bar: Progress) -> None:
        self.bar, self.tasks = bar, dict[str, TaskID]()

    def started(self, location: str) -> None:
        self.tasks[location] = self.bar.add_task(location[-50:], total=None)

    def stored(self, location: str, done: int, total: int) -> None:
        self.bar.update(self.tasks[location], completed=done, total=total)

    def finished(self, location: str, report: ImportReport) -> None:
        self.bar.update(self.tasks[location], visible=False)


def import_(
    ctx: typer.Context,
    sources: list[str] = typer.Argument(..., metavar="SOURCE…", help="Feed URLs (http/https) or local files."),
    policy: Policy | None = typer.Option(
        None, "--policy", help="queue: new entries take the next free slot; draft: wait for an author. "
        "Default: the configured feed's policy, else draft for WXR exports and queue for feeds."),
    max_age_days: int | None = typer.Option(
        None, "--max-age-days", min=0,
        help="On a first import, entries older than this are archived. Default: the feed's setting, else 7."),
    max_bytes: int = typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", min=1, help="Refuse bodies larger than this."),
    force: bool = typer.Option(False, "--force", help="Import even if the source has not changed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Import articles from RSS/Atom/WordPress feeds or WordPress WXR export files."""
    now = datetime.now(UTC)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json or not _wants_progress(sources)) as bar:
        reports = with_app(ctx, lambda relais: feeds.import_sources(
            relais, sources, now=now, policy=policy, max_age_days=max_age_days, max_bytes=max_bytes, force=force,
            progress=_Bar(bar)))
    if as_json:
        totals = {column: sum(getattr(r, column) for r in reports) for column in _COLUMNS}
        typer.echo(json.dumps({"sources": [r.as_dict() for r in reports], "totals": totals,
                               "failed": [r.source for r in reports if r.failed]}, ensure_ascii=False, indent=2))
    else:
        _print_table(reports)
    failed = sum(report.failed for report in reports)
    if failed:
        raise typer.Exit(1 if failed == len(reports) else PARTIAL_FAILURE)


def _print_table(reports: list[ImportReport]) -> None:
    table = Table(title="Import")
    table.add_column("source", no_wrap=True, overflow="ellipsis")  # never folded mid-word
    table.add_column("kind")
    for column in _COLUMNS:
        table.add_column(column, justify="right")
    table.add_column("note")
    for report in reports:
        note = "failed" if report.failed else "error" if report.error else "not modified" if report.not_modified else ""
        shown = report.source if is_url(report.source) else Path(report.source).name  # full path below on error
        table.add_row(shown, report.kind, *(str(getattr(report, c)) for c in _COLUMNS), note)
    console.print(table)
    for report in reports:  # full reasons below the table, one line each, never folded
        lines = [report.error] if report.error else []
        if report.error and report.failures and report.next_poll_at:
            lines[0] += f" (failure {report.failures}, next try {report.next_poll_at:%Y-%m-%d %H:%M} UTC)"
        if report.feed_url:
            lines.insert(0, f"HTML page: read its feed {report.feed_url}")
        lines += [f"skipped {skip}" for skip in report.skips]
        for line in lines:
            console.print(f"{report.source}: {line}", markup=False, highlight=False, soft_wrap=True)
