"""One render path (issue 8 item 4): the worker and `relais render` both go through
``render_for``; `render` reads a Mastodon instance's live limits and says which it used;
a source that is not a feed, or over the importer's cap, is refused (issue 11 items 7, 9)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import tdlib
from bot.cli import main
from bot.ingest.fetch import DEFAULT_MAX_BYTES
from bot.runtime import make_render
from bot.settings import load_settings
from bot.store import db
from bot.store.models import Post, Publication
from tests.conftest import loopback_http
from tests.integration.test_cli_render import CONFIG

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once
TOKEN_ENV = "RELAIS_TEST_UNSET_TOKEN"  # the token_env of that configuration's Mastodon channel
assert UNREACHABLE in CONFIG and TOKEN_ENV in CONFIG


def config_for(instance: str) -> str:
    return CONFIG.replace(UNREACHABLE, instance)


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>E-santé</title><link>https://esante-blog.fr/</link><language>fr</language>
<item><title>L’#IA au chevet de la #santé mentale 🧠</title><link>https://esante-blog.fr/ia-sante/</link>
<guid>esante-ia</guid><category>IA</category><category>santé mentale</category><category>anxiété</category>
<category>dépression</category><category>chatbot</category>
<description><![CDATA[<p>Une revue «&nbsp;systématique&nbsp;» de 40 études. {body}</p>]]></description>
</item></channel></rss>
"""
@pytest.fixture
def cli(database_url: str, empty_engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.delenv("RELAIS_CONFIG", raising=False)
    monkeypatch.delenv("RELAIS_DATABASE_URL", raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        code = main(["--database", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return call


async def _in_thread(cli, *args: str) -> tuple[int, str, str]:
    """The CLI runs its own event loop: off this one, which keeps serving the loopback peers."""
    return await asyncio.to_thread(cli, *args)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def instance_app(max_characters: int) -> web.Application:
    async def instance(_: web.Request) -> web.Response:
        return web.json_response({"domain": "sante.example", "configuration": {
            "statuses": {"max_characters": max_characters, "characters_reserved_per_url": 23}}})

    app = web.Application()
    app.router.add_get("/api/v2/instance", instance)
    return app


async def test_worker_and_render_command_give_the_same_text(cli, database_url, tmp_path, monkeypatch) -> None:
    config = write(tmp_path, "relais.toml", config_for(UNREACHABLE))
    monkeypatch.setenv(TOKEN_ENV, "jeton-de-test")  # `publish` loads every secret; `render` needs none
    assert (await _in_thread(cli, "db", "upgrade"))[0] == 0
    assert (await _in_thread(cli, "--config", str(config), "post", "add", "L’#IA au chevet de la #santé mentale",
                             "--url", "https://esante-blog.fr/ia", "--body", "<p>Une revue de 40 études.</p>",
                             "--tag", "anxiété"))[0] == 0
    assert (await _in_thread(cli, "--config", str(config), "publish", "1"))[0] == 0
    code, out, err = await _in_thread(cli, "--config", str(config), "render", "--post", "1", "--json")
    assert code == 0, err
    from_command = {row["channel"]: row.get("text") or row["status"] for row in json.loads(out)}

    settings = load_settings(config, env={TOKEN_ENV: "jeton-de-test"}, database_url=database_url)
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            publications = (await session.scalars(select(Publication).options(
                selectinload(Publication.channel),
                selectinload(Publication.post).selectinload(Post.post_tags)))).all()
            render = make_render(settings, {})  # what the worker renders with (no live limits read yet)
            from_worker = {}
            for publication in publications:
                rendered = render(publication)
                from_worker[publication.channel.name] = getattr(rendered, "text", None) or rendered.status
    finally:
        await engine.dispose()
    assert from_worker == from_command and set(from_worker) == {"esante-tg", "esante-md"}
    tdlib.parse_html(from_worker["esante-tg"])  # Telegram would accept it


async def test_render_reads_the_instance_limits_and_says_they_are_live(cli, tmp_path) -> None:
    feed = write(tmp_path, "feed.xml", FEED.format(body="Résultats nets. " * 80))
    async with loopback_http(instance_app(max_characters=1000)) as instance:
        config = write(tmp_path, "relais.toml", config_for(instance))
        code, out, err = await _in_thread(cli, "--config", str(config), "render", str(feed), "--json")
        assert code == 0, err
        mastodon = next(row for row in json.loads(out) if row["platform"] == "mastodon")
        assert (mastodon["limit"], mastodon["limit_source"]) == (1000, "live")
        assert 500 < mastodon["length"] <= 1000  # the long body used the room the instance gives
        code, out, _ = await _in_thread(cli, "--config", str(config), "render", str(feed))
        assert code == 0 and f"esante-md: limits read from {instance} (1000 characters" in out

    code, out, _ = await _in_thread(cli, "--config", str(config), "render", str(feed), "--json")  # now down
    mastodon = next(row for row in json.loads(out) if row["platform"] == "mastodon")
    assert code == 0 and (mastodon["limit"], mastodon["limit_source"]) == (500, "default")
    code, out, _ = await _in_thread(cli, "--config", str(config), "render", str(feed))
    assert "esante-md: Mastodon's default limits (500 characters, 23 per URL;" in " ".join(out.split())
    assert "unreachable" in out



def test_render_shows_one_row_of_follow_buttons(cli, tmp_path) -> None:
    feed = write(tmp_path, "feed.xml", FEED.format(body=""))
    config = write(tmp_path, "relais.toml", config_for(UNREACHABLE))
    code, out, _ = cli("--config", str(config), "render", str(feed), "--channel", "esante-tg", "--json", "--offline")
    [telegram] = json.loads(out)
    assert code == 0 and 1 <= len(telegram["buttons"]) <= 3
    assert telegram["buttons"][0] == "Suivre #IA"


def test_render_with_the_example_config_needs_no_token(cli, tmp_path) -> None:
    feed = write(tmp_path, "feed.xml", FEED.format(body=""))
    example = Path(__file__).parents[2] / "config" / "relais.example.toml"
    code, out, err = cli("--config", str(example), "render", str(feed), "--json", "--offline")
    assert code == 0, err
    assert {row["platform"] for row in json.loads(out)} == {"telegram", "mastodon"}


@pytest.mark.parametrize("content", [b"", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
                                     b"du texte, pas un flux", b"<html><body>Bonjour</body></html>"])
def test_render_of_what_is_not_a_feed_is_one_clear_line_and_exit_1(cli, tmp_path, content: bytes) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    code, out, err = cli("render", str(source))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(" ".join(lines).split("error:")) == 2 and "not a feed" in err and "source.bin" in err
    assert "Nothing to render" not in out + err


def test_render_of_a_file_over_the_importers_cap_is_refused_unread(cli, tmp_path) -> None:
    big = tmp_path / "huge.xml"
    with big.open("wb") as file:  # sparse: the size is real, nothing is written
        file.truncate(DEFAULT_MAX_BYTES + 1)
    code, _, err = cli("render", str(big))
    assert code == 1 and "over the" in err and "cap" in err
