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


def test_exit_code_is_1_when_nothing_could_be_imported_and_3_when_some_sources_failed(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("<html>pas un flux</html>")
    code, out, _ = cli("import", str(junk), str(tmp_path / "missing.xml"))
    assert code == 1 and "no such file" in out
    code, out, _ = cli("import", str(junk), str(FEEDS / "rss091.xml"), "--policy", "draft")
    assert code == 3 and "HTML page with no feed link" in out
    code, out, _ = cli("import", str(tmp_path / "missing.xml"), str(FEEDS / "atom10.xml"), "--json")
    assert code == 3 and json.loads(out)["failed"] == [str(tmp_path / "missing.xml")]


def test_unknown_policy_is_a_usage_error(cli) -> None:
    code, _, _err = cli("import", str(FEEDS / "rss091.xml"), "--policy", "now")
    assert code == 2


def test_a_failed_file_is_named_once_with_no_retry_promise_and_no_extra_warning(cli, tmp_path: Path) -> None:
    missing = tmp_path / "absent.xml"
    code, out, err = cli("import", str(missing), str(FEEDS / "atom10.xml"))
    assert code == 3
    line = next(line for line in out.splitlines() if "no such file" in line)
    assert line == f"{missing}: no such file"  # the path once, and no "next try": nothing retries a file
    assert "WARNING" not in err and "next try" not in out


@pytest.mark.parametrize(("source", "message"), [
    ("http://[::1", "not a valid URL"),
    ("ftp://miroir.example/flux.xml", "unsupported scheme ftp"),
])
def test_a_malformed_url_or_unsupported_scheme_is_one_clear_line(cli, source: str, message: str) -> None:
    code, out, err = cli("import", source)
    assert code == 1 and message in out and "Traceback" not in out + err


def test_entries_with_nothing_to_publish_are_counted_and_named_as_skipped(cli) -> None:
    code, out, _ = cli("import", str(FEEDS / "truncated.xml"), "--json")
    assert code == 0  # damaged, yet two entries came in: not a failure
    source = json.loads(out)["sources"][0]
    assert source["skipped"] == 1 and source["skips"] == ["entry 3: empty: no title, body or link"]
    assert source["errors"] == 1 and "line 23" in source["error"]
