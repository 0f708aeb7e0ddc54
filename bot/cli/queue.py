"""`relais queue`, `relais publish`, `relais unschedule`, `relais channel …`: the queue, over bot.services.publishing.

These commands only queue and move due times; the outbox worker (`relais run`) sends.
Times are shown in the configured time zone; naive times typed here are read in it too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from bot.cli.common import console, err_console, settings, with_app
from bot.errors import UsageError

if TYPE_CHECKING:  # `relais queue --help` must not import the queue, its models and SQLAlchemy (issue 12 item 7)
    from bot.publish.queue import ChannelQueue, Mode
    from bot.services.publishing import ChannelOutcome

channel_app = typer.Typer(help="Publishing channels: list, pause, resume.", no_args_is_help=True)


def local_text(instant: datetime, tz: Any) -> str:
    return f"{instant.astimezone(tz):%Y-%m-%d %H:%M %Z}"


def parse_when(text: str, tz: Any) -> datetime:
    """'2026-12-01 09:00' (read in ``tz``) or a full ISO 8601 time with an offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read the time {text!r}: write it as YYYY-MM-DD HH:MM (local time, {tz.key})"
        ) from None
    from bot.schedule.slots import naive_to_utc

    return naive_to_utc(value, tz)


def _listing_json(listing: list[ChannelQueue]) -> list[dict[str, Any]]:
    return [
        {
            "channel": c.name, "platform": c.platform, "enabled": c.enabled, "paused": c.paused,
            "slots": [s.strftime("%H:%M") for s in c.slots], "total": c.total,
            "queue": [
                {"position": e.position, "post_id": e.post_id, "title": e.title, "state": e.state,
                 "due_at": e.due_at.isoformat(), "due_local": e.due_local.isoformat(),
                 "overdue": e.overdue, "publication_id": e.publication_id}
                for e in c.entries
            ],
        }
        for c in listing
    ]


def _queue_table(queue_: ChannelQueue, tz: Any) -> Table:
    flags = [f for f, on in (("paused", queue_.paused), ("disabled", not queue_.enabled)) if on]
    slots = ", ".join(s.strftime("%H:%M") for s in queue_.slots) or "none (publish when queued)"
    shown = f"; the first {len(queue_.entries)} of {queue_.total}" if len(queue_.entries) < queue_.total else ""
    table = Table(title=f"{queue_.name} ({queue_.platform}{', ' + ', '.join(flags) if flags else ''})",
                  caption=f"slots ({tz.key}): {slots}{shown}")
    for column in ("#", f"slot ({tz.key})", "UTC", "post", "title", "state"):
        table.add_column(column)
    for e in queue_.entries:
        state = f"{e.state} (overdue)" if e.overdue and e.state == "pending" else e.state
        table.add_row(str(e.position), local_text(e.due_at, tz), f"{e.due_at:%Y-%m-%d %H:%M}",
                      str(e.post_id), e.title[:60], state)
    if not queue_.entries:
        table.add_row("", "", "", "", "(empty)", "")
    return table


def show_queue(
    ctx: typer.Context,
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many per channel, first due first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """List what is queued, per channel, with its slot time (local and UTC)."""
    from bot.services import publishing

    now = datetime.now(UTC)
    listing = with_app(ctx, lambda relais: publishing.queue_listing(relais, now, channel=channel, limit=limit))
    if as_json:
        typer.echo(json.dumps(_listing_json(listing), ensure_ascii=False, indent=2))
        return
    if not listing:
        console.print("No channels configured: add [[channels]] to the configuration file.")
    for queue_ in listing:
        console.print(_queue_table(queue_, settings(ctx).tz))


def publish(
    ctx: typer.Context,
    post_id: int = typer.Argument(..., help="The post's id (see `relais post list`)."),
    now: bool = typer.Option(False, "--now", help="Share now: due immediately (moves it if already queued)."),
    next_: bool = typer.Option(False, "--next", help="Share next: the first slot; the queue moves back."),
    at: str | None = typer.Option(None, "--at", help='An exact time, e.g. "2026-12-01 09:00" (local time).'),
) -> None:
    """Queue a post on every matching channel (default: the next free slot after the queue).

    With --now, --next or --at a post already queued moves there.
    """
    from bot.services import publishing

    chosen = [name for name, on in (("--now", now), ("--next", next_), ("--at", at is not None)) if on]
    if len(chosen) > 1:
        raise UsageError(f"choose one of --now, --next, --at (got {' and '.join(chosen)})")
    mode: Mode | None = "now" if now else "next" if next_ else "at" if at is not None else None
    tz = settings(ctx).tz
    when = parse_when(at, tz) if at is not None else None
    started = datetime.now(UTC)
    result = with_app(ctx, lambda relais: publishing.publish(relais, post_id, started, mode=mode, at=when))
    if not result.matched:
        err_console.print(f"[yellow]No enabled channel matches post {post_id}[/yellow] "
                          "(check the channels' tags and enabled flags); nothing was queued.")
        raise typer.Exit(1)
    console.print(f"Post {post_id}: {result.title}", soft_wrap=True, highlight=False)
    print_outcomes(result.matched, tz)


def unschedule(
    ctx: typer.Context,
    post_id: int = typer.Argument(..., help="The post's id."),
) -> None:
    """Take a post off every queue; what already went out stays. `relais publish` queues it again."""
    from bot.services import publishing
    from bot.services.publishing import Outcome

    result = with_app(ctx, lambda relais: publishing.unschedule(relais, post_id))
    console.print(f"Post {post_id}: {result.title}", soft_wrap=True, highlight=False)
    print_outcomes(result.matched, settings(ctx).tz)
    if not any(o.outcome is Outcome.UNSCHEDULED for o in result.matched):
        err_console.print(f"Post {post_id} was on no queue: nothing was withdrawn.")
        raise typer.Exit(1)


def _verb(outcome: ChannelOutcome) -> str:
    from bot.services.publishing import Outcome

    verbs = {Outcome.QUEUED: "queued on", Outcome.MOVED: "moved on", Outcome.UNSCHEDULED: "withdrawn from",
             Outcome.RETRIED: "sent again on"}
    if outcome.outcome in verbs:
        return verbs[outcome.outcome]
    return "already queued on" if outcome.state == "pending" else f"already {outcome.state} on"


def _when(outcome: ChannelOutcome, tz: Any) -> str:
    from bot.services.publishing import Outcome

    if outcome.due_at is None:
        return ""
    due = f"{local_text(outcome.due_at, tz)} ({outcome.due_at:%H:%M} UTC)"
    if outcome.outcome is Outcome.MOVED and outcome.moved_from is not None:
        return f" from {local_text(outcome.moved_from, tz)} to {due}"
    if outcome.outcome is Outcome.UNSCHEDULED:
        return f" (was due {local_text(outcome.due_at, tz)}, {outcome.due_at:%H:%M} UTC)"
    return f" for {due}"


def print_outcomes(outcomes: tuple[ChannelOutcome, ...], tz: Any) -> None:
    """One line per channel the post is on: what happened and when it is due."""
    from bot.services.publishing import Outcome

    shown = [o for o in outcomes if o.outcome is not Outcome.NOT_MATCHING]
    if not shown:
        console.print("  no enabled channel matches it (check the channels' tags); it is not on any queue.")
    for o in shown:
        note = " — channel paused: sent after `relais channel resume`" if o.paused else ""
        console.print(f"  {_verb(o)} {o.channel}{_when(o, tz)}{note}", soft_wrap=True)


@channel_app.command("list")
def list_channels(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List configured channels with their slots, state and queue length."""
    from bot.services import publishing

    now = datetime.now(UTC)
    channels = with_app(ctx, lambda relais: publishing.list_channels(relais, now))
    loaded = settings(ctx)
    rows = [{"name": c.name, "platform": c.platform, "target": c.target, "state": c.state,
             "slots": [s.strftime("%H:%M") for s in c.slots], "tags": list(c.tags), "queued": c.queued}
            for c in channels]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Channels")
    for column in ("name", "platform", "target", "state", f"slots ({loaded.timezone})", "tags", "queued"):
        table.add_column(column)
    for c in channels:
        table.add_row(c.name, c.platform, c.target or "", c.state, ", ".join(s.strftime("%H:%M") for s in c.slots) or "—",
                      " ".join(f"#{t}" for t in c.tags) or "all posts", str(c.queued))
    console.print(table)


@channel_app.command("pause")
def pause(ctx: typer.Context, name: str = typer.Argument(..., help="The channel's name.")) -> None:
    """Pause a channel: nothing is sent to it until it is resumed; its queue is kept."""
    from bot.services import publishing

    with_app(ctx, lambda relais: publishing.pause(relais, name))
    console.print(f"Channel {name} paused; its queue is kept. Resume with `relais channel resume {name}`.",
                  soft_wrap=True)


@channel_app.command("resume")
def resume(ctx: typer.Context, name: str = typer.Argument(..., help="The channel's name.")) -> None:
    """Resume a channel; slots it missed while paused are caught up (late within the grace, else re-slotted)."""
    from bot.services import publishing

    now = datetime.now(UTC)
    tz = settings(ctx).tz

    report = with_app(ctx, lambda relais: publishing.resume(relais, name, now))
    console.print(f"Channel {name} resumed.")
    if report.late:
        console.print(f"  {len(report.late)} missed publication(s) within the grace period are sent now.")
    for move in report.moved:
        console.print(f"  post {move.post_id} moved from {local_text(move.old_due_at, tz)} "
                      f"to {local_text(move.new_due_at, tz)}", soft_wrap=True)
