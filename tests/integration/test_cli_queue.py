"""`relais queue`, `relais publish`, `relais channel …` through the real entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main

CONFIG = """
timezone = "Europe/Paris"

[[channels]]
name = "esante-telegram"
platform = "telegram"
chat = "@esante_demo"
slots = ["09:00", "18:00"]

[[channels]]
name = "sante-mentale"
platform = "telegram"
chat = "@sante_mentale_fr"
tags = ["santé mentale"]
"""


@pytest.fixture
def relais(database_url: str, empty_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture):
    monkeypatch.delenv("RELAIS_CONFIG", raising=False)
    monkeypatch.delenv("RELAIS_DATABASE_URL", raising=False)
    config = tmp_path / "relais.toml"
    config.write_text(CONFIG, encoding="utf-8")

    def call(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--database", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert call("db", "upgrade")[0] == 0
    assert call("post", "add", "#Therabot : un #chatbot qui écoute", "--tag", "IA")[0] == 0
    assert call("post", "add", "L’#anxiété « au quotidien »", "--tag", "Santé mentale")[0] == 0
    return call


def queue_json(relais) -> dict[str, dict]:
    code, out, _ = relais("queue", "--json")
    assert code == 0
    return {c["channel"]: c for c in json.loads(out)}


def test_publish_queues_on_matching_channels_and_the_queue_shows_local_times(relais) -> None:
    code, out, _ = relais("publish", "2")
    assert code == 0
    assert "queued on esante-telegram for " in out and "queued on sante-mentale for " in out
    channels = queue_json(relais)
    [entry] = channels["esante-telegram"]["queue"]
    local = datetime.fromisoformat(entry["due_local"])
    assert local.strftime("%H:%M") in {"09:00", "18:00"}
    assert datetime.fromisoformat(entry["due_at"]) > datetime.now(UTC) - timedelta(seconds=5)
    [now_entry] = channels["sante-mentale"]["queue"]  # no slots: due at once
    assert datetime.fromisoformat(now_entry["due_at"]) <= datetime.now(UTC)
    code, out, _ = relais("publish", "2")
    assert code == 0 and "already queued on esante-telegram" in out
    code, out, _ = relais("queue", "--channel", "esante-telegram")
    assert code == 0 and "L’#anxiété" in out and "Europe/Paris" in out


def test_publish_at_reads_naive_time_in_the_configured_zone(relais) -> None:
    code, out, _ = relais("publish", "1", "--at", "2036-12-01 09:00")
    assert code == 0
    assert "queued on esante-telegram for 2036-12-01 09:00 CET (08:00 UTC)" in out
    entry = queue_json(relais)["esante-telegram"]["queue"][0]
    assert datetime.fromisoformat(entry["due_at"]) == datetime(2036, 12, 1, 8, 0, tzinfo=UTC)
    code, out, _ = relais("post", "show", "1", "--json")
    assert json.loads(out)["status"] == "scheduled"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("publish", "99"), 1, "post 99 does not exist"),
        (("publish", "1", "--at", "2020-01-01 09:00"), 2, "is in the past"),
        (("publish", "1", "--at", "demain 9h"), 2, "cannot read the time 'demain 9h'"),
        (("publish", "1", "--now", "--next"), 2, "choose one of --now, --next, --at"),
        (("queue", "--channel", "nope"), 1, "unknown channel 'nope'"),
        (("channel", "pause", "nope"), 1, "unknown channel 'nope'"),
    ],
)
def test_clear_errors(relais, args: tuple[str, ...], code: int, message: str) -> None:
    result, _, err = relais(*args)
    assert result == code
    assert message in " ".join(err.split())
    assert queue_json(relais)["esante-telegram"]["queue"] == []  # nothing half-queued


def test_post_matching_no_channel_says_so(relais, tmp_path: Path, database_url: str,
                                          capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "only-tagged.toml"
    config.write_text(CONFIG.split("[[channels]]")[0] + "[[channels]]" + CONFIG.split("[[channels]]")[2])
    code = main(["--config", str(config), "--database", database_url, "publish", "1"])
    assert code == 1 and "No enabled channel matches post 1" in capsys.readouterr().err


def test_channel_pause_list_resume(relais) -> None:
    assert relais("publish", "1", "--next")[0] == 0
    code, out, _ = relais("channel", "pause", "esante-telegram")
    assert code == 0 and "paused" in out
    assert queue_json(relais)["esante-telegram"]["paused"] is True
    code, out, _ = relais("channel", "list")
    assert code == 0 and "Channels" in out and "paused" in out
    code, out, _ = relais("channel", "list", "--json")
    assert json.loads(out) == [
        {"name": "esante-telegram", "platform": "telegram", "target": "@esante_demo", "state": "paused",
         "slots": ["09:00", "18:00"], "tags": [], "queued": 1},
        {"name": "sante-mentale", "platform": "telegram", "target": "@sante_mentale_fr", "state": "active",
         "slots": [], "tags": ["santé mentale"], "queued": 0},
    ]
    code, out, _ = relais("publish", "2", "--now")
    assert "channel paused" in out
    code, out, _ = relais("channel", "resume", "esante-telegram")
    assert code == 0 and "Channel esante-telegram resumed." in out
    channels = queue_json(relais)
    assert channels["esante-telegram"]["paused"] is False
    assert [e["post_id"] for e in channels["esante-telegram"]["queue"]] == [2, 1]  # --now first
    due = datetime.fromisoformat(channels["esante-telegram"]["queue"][1]["due_local"])
    assert due.tzinfo is not None and due.utcoffset() == due.astimezone(ZoneInfo("Europe/Paris")).utcoffset()


def test_post_added_as_queued_is_tagged_and_on_the_queue(relais) -> None:
    """Regression: `post add --status queued` stored no tag and no publication; `relais queue` stayed empty."""
    code, out, _ = relais("post", "add", "Un #test de l’#anxiété", "--status", "queued", "--tag", "Santé mentale")
    assert code == 0 and "Added post 3" in out
    assert "queued on esante-telegram for " in out and "queued on sante-mentale for " in out
    code, out, _ = relais("post", "show", "3", "--json")
    assert json.loads(out)["tags"] == ["test", "anxiété", "Santé mentale"]
    channels = queue_json(relais)
    assert [e["post_id"] for e in channels["esante-telegram"]["queue"]] == [3]
    assert [e["post_id"] for e in channels["sante-mentale"]["queue"]] == [3]
    code, out, _ = relais("publish", "3")
    assert code == 0 and "already queued on esante-telegram" in out


def test_post_added_as_scheduled_takes_its_time(relais) -> None:
    code, out, _ = relais("post", "add", "Bientôt l’#IA", "--status", "scheduled", "--at", "2036-12-01 09:00")
    assert code == 0 and "queued on esante-telegram for 2036-12-01 09:00 CET (08:00 UTC)" in out
    code, _, err = relais("post", "add", "Sans date #IA", "--status", "scheduled")
    assert code == 2 and "needs a time" in err
