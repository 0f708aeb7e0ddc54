"""bench/run_all.py: no bench script forgotten, and the pure parts (results, table, marked section)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import run_all
from bench.report import Result, at_least, at_most, emit

BENCH = Path(run_all.__file__).parent
URL = "postgresql+asyncpg://relais:s3cret@127.0.0.1:54330/scratch"


def scripts() -> set[str]:
    return {path.name for path in BENCH.glob("*.py")} - run_all.HELPERS


def test_every_bench_script_is_run_once() -> None:
    registered = [bench.script for bench in run_all.BENCHES]
    assert sorted(registered) == sorted(scripts())
    assert len(registered) == len(set(registered))
    assert all((BENCH / helper).exists() for helper in run_all.HELPERS)


@pytest.mark.parametrize("script", sorted(scripts()))
def test_every_bench_script_reports_its_figures(script: str) -> None:
    assert re.search(r"^\s*emit\(", (BENCH / script).read_text(encoding="utf-8"), re.MULTILINE), (
        f"{script} prints no RESULT line: call report.emit where it prints its figure")


def test_the_launcher_is_executable_and_runs_run_all() -> None:
    launcher = BENCH / "run_all"
    assert launcher.stat().st_mode & 0o111
    assert "bench/run_all.py" in launcher.read_text()


def test_arguments_per_profile_and_database() -> None:
    option = next(b for b in run_all.BENCHES if b.script == "search.py")
    positional = next(b for b in run_all.BENCHES if b.script == "publish_outbox.py")
    sqlite_only = next(b for b in run_all.BENCHES if b.script == "render.py")

    assert option.arguments("standard") == ["--posts", "100000"]
    assert option.arguments("standard", URL) == ["--posts", "20000", "--database", URL]  # PostgreSQL's own size
    assert option.arguments("quick", URL) == [*option.quick, "--database", URL]
    assert positional.arguments("quick", URL) == [*positional.quick, URL]
    with pytest.raises(ValueError, match="does not run on PostgreSQL"):
        sqlite_only.arguments("standard", URL)


def test_the_plan_adds_postgresql_runs_only_for_scripts_that_take_a_database() -> None:
    benches = run_all.selected(["render", "queue_fanout.py"])
    assert [(b.script, db) for b, db in run_all.plan(benches, None)] == [("render.py", None), ("queue_fanout.py", None)]
    assert [(b.script, db) for b, db in run_all.plan(benches, URL)] == [
        ("render.py", None), ("queue_fanout.py", None), ("queue_fanout.py", URL)]
    with pytest.raises(SystemExit, match="unknown bench nope"):
        run_all.selected(["render", "nope"])


def test_commands_hide_the_password_and_show_the_busy_loop() -> None:
    limits = next(b for b in run_all.BENCHES if b.busy_loop)
    command = run_all.command_line(limits, "quick", URL)
    assert "s3cret" not in command
    assert command.startswith("python3 -c 'while True: pass' & .venv/bin/python bench/publish_limits.py --seconds 10")
    assert command.endswith("--database 'postgresql+asyncpg://relais:***@127.0.0.1:54330/scratch'")


def test_results_are_read_from_the_output_and_broken_lines_reported(capsys: pytest.CaptureFixture[str]) -> None:
    emit("queue.share_next", "share next", 4.2, "ms", baseline=2.1, target=at_most(5))
    emit("crash.contract", "crash", "0/0", passed=True)
    output = "table for people\n" + capsys.readouterr().out + "RESULT ok\nRESULT {broken\n"

    results, errors = run_all.parse_output(output)

    assert [r.figure for r in results] == ["queue.share_next", "crash.contract"]
    assert results[0].ratio == 2.0
    assert len(errors) == 1 and "malformed" in errors[0]


@pytest.mark.parametrize(("returncode", "results", "errors", "timed_out", "expected"), [
    (0, ["r"], [], False, ""),
    (1, ["r"], [], False, "exit code 1\n"),  # a contract broken: its figures kept, the run failed
    (0, [], [], False, "no RESULT line\n"),
    (0, ["r"], ["malformed result line"], False, "malformed result line"),
    (-15, [], [], True, "stopped after its time-out\n"),
])
def test_a_run_fails_on_exit_code_time_out_or_missing_results(returncode: int, results: list, errors: list[str],
                                                              timed_out: bool, expected: str) -> None:
    stderr = "\n".join(f"noise {n}" for n in range(30)) + "\nTraceback"
    problem = run_all.judge(returncode, results, errors, stderr, timed_out)
    assert problem.startswith(expected)
    if expected.endswith("\n"):
        assert problem.endswith("noise 29\nTraceback")
        assert "noise 17\n" not in problem  # only the tail of stderr


@pytest.mark.parametrize(("value", "text"), [
    (1234.5, "1,234"), (56.78, "56.8"), (1.834, "1.83"), (0.0972, "0.0972"), (0.0, "0.00"), (10_000, "10,000"),
    ("5/0, 0/0", "5/0, 0/0"), (True, "True"),
])
def test_numbers_read_at_about_three_digits(value: object, text: str) -> None:
    assert run_all.number(value) == text


def outcome(script: str, *results: Result, problem: str = "") -> run_all.Outcome:
    bench = next(b for b in run_all.BENCHES if b.script == script)
    return run_all.Outcome(bench, None, run_all.command_line(bench, "standard", None), 12.0, 0, list(results), problem)


def test_the_table_has_a_row_per_figure_with_baseline_ratio_target_and_verdict() -> None:
    telegram = Result("render.telegram", "render_telegram | ÷ parse", 1.5, "CPU s", "bare parse", 0.75, 2.0,
                      at_most(2, on="ratio"))
    rate = Result("publish.rate", "`relais run` pub/s", 180.4, "pub/s", "bare PTB", 60.0, 3.0, at_least(1000),
                  params={"database": "postgresql+asyncpg"})
    crash = Result("crash.contract", "crash test", "5/0, 0/0", passed=False)
    plain = Result("outbox.cpu", "outbox CPU", 1.2, "ms")
    section = run_all.render_section(
        [outcome("render.py", telegram), outcome("publish_rate.py", rate), outcome("crash_test.py", crash),
         outcome("publish_outbox.py", plain), outcome("search.py", problem="exit code 1\nOperationalError: boom")],
        ["### Latest run: standard profile"])

    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| render_telegram \\| ÷ parse | 1.50 CPU s | 0.75 CPU s: bare parse | 2.00× | ≤ 2× | yes "
        "| `.venv/bin/python bench/render.py --posts 10000 --repeat 3` |",
        "| `relais run` pub/s (PostgreSQL) | 180 pub/s | 60.0 pub/s: bare PTB | 3.00× | ≥ 1000 pub/s | **no** "
        "| `.venv/bin/python bench/publish_rate.py --publications 1000 --runs 3 --uvloop` |",
        "| crash test | 5/0, 0/0 | — | — | contract | **FAIL** | `.venv/bin/python bench/crash_test.py --seed 20261128` |",
        "| outbox CPU | 1.20 ms | — | — | — | — | `.venv/bin/python bench/publish_outbox.py 1000` |",
    ]
    assert section.startswith(run_all.BEGIN) and section.endswith(run_all.END)
    assert "Scripts that failed in this run:" in section
    assert "  OperationalError: boom" in section


NARRATIVE = "# Benchmarks\n\nIntro by hand.\n\n{section}\n\n## Ingest\n\nThe narrative, | tables | kept.\n"


def test_only_the_marked_section_is_replaced() -> None:
    old = run_all.render_section([], ["old header"])
    new = run_all.render_section([], ["new header"])
    document = NARRATIVE.format(section=old)

    replaced = run_all.replace_section(document, new)

    assert replaced == NARRATIVE.format(section=new)
    assert run_all.replace_section(replaced, new) == replaced  # a second run changes nothing more


def test_without_markers_the_section_goes_under_the_title() -> None:
    section = run_all.render_section([], ["header"])
    assert run_all.replace_section("# Benchmarks\nIntro.\n", section) == f"# Benchmarks\n\n{section}\nIntro.\n"


@pytest.mark.parametrize("document", [
    f"# B\n{run_all.END}\n{run_all.BEGIN}\n",  # reversed
    f"# B\n{run_all.BEGIN}\n",  # unclosed
    f"# B\n{run_all.BEGIN}\n{run_all.END}\n{run_all.BEGIN}\n{run_all.END}\n",  # twice
])
def test_damaged_markers_are_refused_rather_than_guessed(document: str) -> None:
    with pytest.raises(ValueError, match="must appear once each"):
        run_all.replace_section(document, "new")


def test_the_header_says_when_the_run_was_quick() -> None:
    from datetime import UTC, datetime

    lines = run_all.header("quick", datetime(2026, 11, 30, 4, 5, tzinfo=UTC), 300, ("1.00 / 2.00 / 3.00", "4.00 / 5.00 / 6.00"),
                           ["Machine: x.", "Commit abc (clean tree)."])
    assert "QUICK profile" in lines[0]
    assert "`bench/run_all --quick` on 2026-11-30 04:05 UTC, 5 min in all." in lines
    assert "Load average (1 / 5 / 15 min) before: 1.00 / 2.00 / 3.00; after: 4.00 / 5.00 / 6.00." in lines


def test_a_failing_script_is_recorded_and_the_others_still_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """End to end over two stand-in scripts (not the real benches): one reports, one crashes."""
    (tmp_path / "good.py").write_text(
        "import sys\nsys.path.insert(0, sys.argv[1])\nfrom report import emit, at_most\n"
        "print('a table for people')\n"
        "emit('good.figure', 'share next ÷ add to queue', 4.0, 'ms', baseline=2.0, baseline_label='add', target=at_most(5))\n")
    (tmp_path / "bad.py").write_text("import sys\nprint('partial output')\nsys.exit('the database went away')\n")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(NARRATIVE.format(section=run_all.render_section([], ["OLD-HEADER"])), encoding="utf-8")
    monkeypatch.setattr(run_all, "BENCH", tmp_path)
    monkeypatch.setattr(run_all, "BENCHES", (run_all.Bench("good.py", (str(BENCH),)), run_all.Bench("bad.py")))

    code = run_all.main(["--doc", str(doc)])

    written = doc.read_text(encoding="utf-8")
    assert code == 1
    assert "| share next ÷ add to queue | 4.00 ms | 2.00 ms: add | 2.00× | ≤ 5 ms | yes |" in written
    assert "- `.venv/bin/python bench/bad.py` (" in written
    assert "  exit code 1\n  the database went away" in written
    assert written.startswith("# Benchmarks\n\nIntro by hand.\n\n<!-- run_all:begin -->")
    assert written.endswith("<!-- run_all:end -->\n\n## Ingest\n\nThe narrative, | tables | kept.\n")
    assert "OLD-HEADER" not in written
    assert "[2/2] .venv/bin/python bench/bad.py" in capsys.readouterr().out


@pytest.mark.parametrize("content", [None, f"# B\n{run_all.BEGIN}\n"])
def test_a_file_it_could_not_update_stops_it_before_any_script_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   content: str | None) -> None:
    doc = tmp_path / "benchmarks.md"
    if content is not None:
        doc.write_text(content, encoding="utf-8")
    monkeypatch.setattr(run_all, "run", lambda *args: pytest.fail("a script ran"))
    with pytest.raises(SystemExit, match="cannot update"):
        run_all.main(["--doc", str(doc)])
