"""`relais import` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"


@pytest.fixture
def cli(relais):
    """`relais …` on a database already upgraded (fixture in conftest)."""
    assert relais("db", "upgrade")[0] == 0
    return relais


def test_import_several_sources_prints_one_json_object(cli) -> None:
    code, out, _ = cli("import", str(FEEDS / "wxr_export.xml"), str(FEEDS / "truncated.xml"),
                          str(FEEDS / "atom10.xml"), "--json", "--max-age-days", "3650")
    assert code == 0
    data = json.loads(out)
    by_kind = {s["kind"]: s for s in data["sources"]}
    assert by_kind["wxr"]["added"] == 2
    assert by_kind["rss"]["added"] == 2 and by_kind["rss"]["error"]
    assert data["totals"]["added"] == 6
    code, out, _ = cli("post", "list", "--status", "draft", "--json")
    assert len(json.loads(out)) == 2  # WXR defaults to draft
    code, out, _ = cli("post", "list", "--status", "queued", "--json")
    assert len(json.loads(out)) == 4  # feeds default to queue


def test_exit_code_is_1_only_when_nothing_could_be_imported(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("<html>pas un flux</html>")
    code, out, _ = cli("import", str(junk), str(tmp_path / "missing.xml"))
    assert code == 1 and "no such file" in out
    code, out, _ = cli("import", str(junk), str(FEEDS / "rss091.xml"), "--policy", "draft")
    assert code == 0 and "not a feed" in out


def test_unknown_policy_is_a_usage_error(cli) -> None:
    code, _, _err = cli("import", str(FEEDS / "rss091.xml"), "--policy", "now")
    assert code == 2
