"""`relais render`: see what each channel would publish, without publishing anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.text import Text

from bot.app import App
from bot.cli.common import console, settings, with_app
from bot.errors import UsageError
from bot.format import Article, Profile, render_mastodon, render_telegram
from bot.i18n import base_language
from bot.settings import ProfileSettings, Settings
from bot.store import repository


@dataclass(frozen=True)
class Target:
    name: str
    platform: str
    profile: Profile


def targets(loaded: Settings, only: str | None) -> list[Target]:
    """The configured channels, or one default Telegram and one default Mastodon channel."""
    found = [
        Target(c.name, c.platform, Profile.from_settings(c.platform, loaded.profile_for(c), visibility=c.visibility))
        for c in loaded.channels
    ] or [
        Target("telegram", "telegram", Profile.from_settings("telegram", ProfileSettings())),
        Target("mastodon", "mastodon", Profile.from_settings("mastodon", ProfileSettings())),
    ]
    if only is not None:
        found = [t for t in found if t.name == only]
        if not found:
            raise UsageError(f"--channel {only}: no such channel")
    return found


def render_one(source_key: str, article: Article, target: Target) -> dict[str, Any]:
    """One object of the `--json` contract (post × channel)."""
    if target.platform == "telegram":
        tg = render_telegram(article, target.profile)
        return {"source_key": source_key, "channel": target.name, "platform": "telegram", "text": tg.text,
                "parse_mode": tg.parse_mode, "photo": tg.photo, "spoiler_text": None,
                "language": base_language(article.language), "length": tg.length, "limit": tg.limit}
    md = render_mastodon(article, target.profile)
    return {"source_key": source_key, "channel": target.name, "platform": "mastodon", "status": md.status,
            "parse_mode": None, "photo": md.media_url, "spoiler_text": md.spoiler_text or None,
            "language": md.language, "length": md.length, "limit": md.limit}


def _articles_from_file(path: Path, loaded: Settings) -> list[tuple[str, Article]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    from bot.ingest.parse import parse_feed

    parsed = parse_feed(data, source=path.name, default_language=loaded.default_language, now=datetime.now(UTC),
                        markdown=False)  # renders read the HTML body; markdownify is the slow step
    return [(entry.source_key, Article.from_post(entry)) for entry in parsed.entries]


def _panel(row: dict[str, Any]) -> Panel:
    over = row["length"] > row["limit"]
    body = Text()
    if row["spoiler_text"]:
        body.append(f"CW: {row['spoiler_text']}\n\n", style="yellow")
    body.append(row.get("text") or row.get("status") or "")
    measure = f"[{'red' if over else 'green'}]{row['length']}/{row['limit']}[/]"
    return Panel(body, title=f"{row['channel']} ({row['platform']})", subtitle=measure, width=60)


def render(
    ctx: typer.Context,
    source: Path | None = typer.Argument(None, help="A feed (RSS/Atom) or WordPress export (WXR) file.", dir_okay=False),
    post_id: int | None = typer.Option(None, "--post", help="Render a stored post instead of a file."),
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per post × channel."),
) -> None:
    """Show what each channel would publish: text, measured length and limit. Sends nothing."""
    if (source is None) == (post_id is None):
        raise UsageError("give either a SOURCE file or --post ID")
    loaded = settings(ctx)
    chosen = targets(loaded, channel)
    if post_id is not None:
        async def work(relais: App) -> list[tuple[str, Article]]:
            async with relais.sessions() as session:
                post = await repository.get_post(session, post_id)
                return [(post.source_key, Article.from_post(post))]

        articles = with_app(ctx, work)
    else:
        articles = _articles_from_file(source, loaded)  # type: ignore[arg-type]
    rows = [render_one(key, article, target) for key, article in articles for target in chosen]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Nothing to render: the source has no entries.")
    for key, article in articles:
        console.rule(f"{article.title or key}", characters="─")
        console.print(Columns([_panel(r) for r in rows if r["source_key"] == key]))
