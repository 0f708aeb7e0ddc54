"""`relais demo`: publish the bundled sample articles to a local Telegram and Mastodon, show the result."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.app import App
from bot.cli.common import console, err_console, options
from bot.logs import configure_logging, secrets_of

DEMO_MODULES = ("aiohttp", "tdjson", "mastodon_mock")
# Telegram entity type → rich style (https://core.telegram.org/bots/api#messageentity).
ENTITY_STYLES = {"bold": "bold", "italic": "italic", "underline": "underline", "strikethrough": "strike",
                 "text_link": "underline bright_blue", "url": "underline bright_blue", "hashtag": "cyan",
                 "code": "reverse", "pre": "reverse", "spoiler": "reverse"}


# Built here rather than as the docstring: typer's help keeps a docstring's line breaks.
HELP = (
    "Show Relais working end to end, on this machine only, with no account anywhere.\n\n"
    "Starts a Telegram Bot API sandbox and a Mastodon server on loopback, imports a bundled sample feed, "
    "queues it on one demo channel of each, publishes it through the real outbox worker and shows what each "
    "platform received. Running it again publishes nothing twice.\n\n"
    "The database is relais-demo.db in the current folder, or `relais --database URL demo` (use a scratch "
    "one: the demo adds its posts and channels). The configuration file is not read."
)


def missing_extras() -> list[str]:
    return [name for name in DEMO_MODULES if importlib.util.find_spec(name) is None]


def demo(
    ctx: typer.Context,
    keep_running: bool = typer.Option(
        False, "--keep-running", help="Afterwards keep the sandbox, the Mastodon server and the bot running "
        "(Ctrl-C to stop), to poke at them."),
) -> None:
    """Show Relais working end to end, on this machine only, with no account anywhere (see HELP)."""
    missing = missing_extras()
    if missing:
        err_console.print(
            f"error: relais demo needs the demo extra ({', '.join(missing)} missing). Install it with:\n"
            f"  {sys.executable} -m pip install 'relais[demo]'\n"
            "or, in a checkout of the repository:  pip install -e '.[demo]'",
            markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    from bot import demo as service

    opts = options(ctx)
    database_url = opts.database or service.DEFAULT_DATABASE_URL

    def configure(settings: Any) -> None:
        configure_logging(settings.log_level, settings.log_format, secrets_of(settings))

    with console.status("Starting…") as status:
        def step(what: str) -> None:
            status.update(f"{what}…")
            console.print(f"[dim]•[/dim] {what}", highlight=False)

        async def then(result: service.DemoResult, platforms: service.Platforms, app: App) -> None:
            status.stop()  # the platforms are still up: show what they received, maybe keep them
            show(result)
            if keep_running:
                await _keep_running(platforms, app)

        result = asyncio.run(service.run_demo(
            database_url, step=step, log_level=opts.log_level or "WARNING", log_format=opts.log_format or "text",
            configure=configure, then=then))
    if result.failed:
        err_console.print(f"[red]error:[/red] {len(result.failed)} publication(s) did not go through; "
                          "see the table above.", highlight=False)
        raise typer.Exit(1)


async def _keep_running(platforms: Any, app: App) -> None:
    from bot import runtime

    sandbox, mastodon = platforms.sandbox, platforms.mastodon
    root = sandbox.base_url.removesuffix("/bot")
    lines = [
        "[bold]The bot keeps running (Telegram updates, scheduler, outbox worker). Ctrl-C to stop.[/bold]",
        f"Telegram sandbox: {root}",
        f"  what the bot sent:  curl -s '{root}/sandbox/messages?chat={platforms.telegram_chat}'",
        f"  write to the bot:   curl -s -X POST {root}/sandbox/updates -H 'content-type: application/json' "
        "-d '{\"kind\": \"message\", \"user_id\": 7, \"text\": \"/start\"}'",
        f"  its answer:         curl -s '{root}/sandbox/messages?chat=7'",
        f"Mastodon server: {mastodon.base_url}  (account @alice)",
        f"  its statuses:       curl -s {mastodon.base_url}/api/v1/timelines/public",
    ]
    console.rule("relais demo --keep-running")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)
    stop = asyncio.Event()
    runtime.install_signal_handlers(stop)
    from bot.demo import WORKER_ID, bundled_media

    await runtime.run_forever(app, role=runtime.Role.ALL, stop=stop, worker_id=WORKER_ID, media_fetcher=bundled_media)


# --- showing the result ------------------------------------------------------------------------

def styled(text: str, entities: Any) -> Text:
    """Telegram text with its entities as styles; entity offsets are in UTF-16 code units."""
    units: list[int] = []  # UTF-16 offset → index in ``text``
    for index, char in enumerate(text):
        units.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    units.append(len(text))
    shown = Text(text)
    for entity in entities:
        style = ENTITY_STYLES.get(entity.get("type", ""))
        start, end = entity.get("offset", 0), entity.get("offset", 0) + entity.get("length", 0)
        if style and 0 <= start < end < len(units):
            shown.stylize(style, units[start], units[end])
    return shown


def telegram_panel(message: Any, chat: str) -> Panel:
    parts: list[Any] = [styled(message.text, message.entities)]
    media = (f"photo: {message.photo}" if message.photo
             else f"link preview: {message.link_preview_url}" if message.link_preview_url else "")
    for label, url in message.buttons:
        parts.append(Text.assemble(("[ ", "dim"), (label, "bold"), (" ]", "dim"), (f"  → {url}", "dim")))
    return Panel(Group(*parts), title=f"Telegram → {chat} · message {message.message_id}",
                 subtitle=media or None, title_align="left", subtitle_align="left", border_style="cyan")


def mastodon_panel(status: Any) -> Panel:
    parts: list[Any] = []
    if status.spoiler_text:
        parts.append(Text(f"CW: {status.spoiler_text}", style="bold yellow"))
    parts.append(Text(status.text))
    for url, description in status.media:
        parts.append(Text(f"image: {url}\n  alt: {description or '(none)'}", style="dim"))
    title = f"Mastodon → @alice · status {status.status_id} · language {status.language} · {status.visibility}"
    return Panel(Group(*parts), title=title, title_align="left", border_style="magenta")


def _cell(row: Any) -> Text:
    if row is None:
        return Text("—", style="dim")
    if row.published_now:
        return Text("published now", style="green")
    if row.state == "sent":
        return Text("already published", style="dim")
    return Text(f"{row.state}: {row.error or ''}".strip(": "), style="red" if row.state == "dead" else "yellow")


def summary_table(result: Any) -> Table:
    by_post: dict[int, dict[str, Any]] = {}
    titles: dict[int, str] = {}
    for row in result.rows:
        by_post.setdefault(row.post_id, {})[row.platform] = row
        titles[row.post_id] = row.title
    table = Table(title="relais demo", caption=f"database: {result.database}")
    table.add_column("post", justify="right")
    table.add_column("article", overflow="fold", ratio=1)
    table.add_column("Telegram")
    table.add_column("Mastodon")
    for post_id, rows in by_post.items():
        table.add_row(str(post_id), titles[post_id], _cell(rows.get("telegram")), _cell(rows.get("mastodon")))
    return table


def show(result: Any) -> None:
    imported = result.imported
    if imported.not_modified:
        console.print("Sample feed: already imported by an earlier run (nothing new in it).")
    else:
        console.print(f"Sample feed: {imported.added} article(s) added, {imported.queued} queued, "
                      f"{imported.unchanged} already there.", highlight=False)
    if result.telegram or result.mastodon:
        console.rule("What Telegram received")
        for message in result.telegram:
            console.print(telegram_panel(message, result.telegram_chat))
        console.rule("What Mastodon received")
        for status in result.mastodon:
            console.print(mastodon_panel(status))
    console.print(summary_table(result))
    total = len(result.rows)
    if result.published_now:
        console.print(f"[green]{result.published_now} of {total} publications sent now[/green]"
                      + (f", {result.already_published} already published." if result.already_published else "."))
    elif result.already_published == total and total:
        console.print(f"Nothing new to publish: all {total} publications were already published by an earlier run "
                      f"on this database. Delete {_database_hint(result.database)} to see them sent again.",
                      soft_wrap=True, highlight=False)


def _database_hint(database: str) -> str:
    prefix = "sqlite+aiosqlite:///"
    return database.removeprefix(prefix) if database.startswith(prefix) else "the demo's data"
