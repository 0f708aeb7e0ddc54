"""Run every bench script, collect their RESULT lines, and write the figures into docs/benchmarks.md.

    bench/run_all                      # the standard profile (≈ 25 min on 2 cores), SQLite
    bench/run_all --quick              # smaller sizes, a few minutes
    bench/run_all --only render startup
    bench/run_all --database postgresql+asyncpg://relais@127.0.0.1:54330/scratch   # adds the PostgreSQL runs

Each script runs in its own process (its output in a log folder, printed at the start); one
that fails is recorded with the tail of its stderr and the run goes on (exit code 1 at the
end). The table replaces only what lies between the run_all markers of docs/benchmarks.md,
with the machine's description; the narrative around them is left as it is. A run with
``--only`` writes the file only when asked (``--write``). ``--database`` takes a SCRATCH
database: the benches drop its schema, and run_all empties it before each of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

try:
    from bench.report import Result, parse_line
except ImportError:  # run as a script: bench/ is on sys.path, the repository root may not be
    from report import Result, parse_line  # type: ignore[no-redef]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
HELPERS = frozenset({"report.py", "run_all.py", "publish_sandbox.py", "queue_common.py"})  # imported, not figures
PROFILES = ("standard", "quick")
HEARTBEAT = 60  # seconds between "still running" lines
BUSY_LOOP = "while True: pass"


@dataclass(frozen=True)
class Bench:
    """One script and the arguments each profile gives it."""

    script: str
    standard: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    database: Literal["option", "positional"] | None = None  # how it takes a PostgreSQL URL, if it does
    postgres: dict[str, tuple[str, ...]] = field(default_factory=dict)  # profile → arguments on PostgreSQL
    busy_loop: bool = False  # run it with one busy-loop process competing for the CPU
    timeout: float = 900  # seconds before it is stopped and recorded as failed

    @property
    def name(self) -> str:
        return self.script.removesuffix(".py")

    def arguments(self, profile: str, database: str | None = None) -> list[str]:
        base = self.postgres.get(profile) if database else None
        args = list(base if base is not None else getattr(self, profile))
        if database is None:
            return args
        if self.database is None:
            raise ValueError(f"{self.script} does not run on PostgreSQL")
        return [*args, "--database", database] if self.database == "option" else [*args, database]


# Standard: the sizes the figures of issue 12 and 13 are defined at, bounded to ≈ 25 minutes in all.
BENCHES: tuple[Bench, ...] = (
    Bench("startup.py", ("--runs", "10"), ("--runs", "3")),
    Bench("render.py", ("--posts", "10000", "--repeat", "3"), ("--posts", "1000", "--repeat", "3")),
    Bench("import_feed.py", ("--entries", "10000"), ("--entries", "1000")),
    Bench("corpus_fidelity.py"),
    # --uvloop: the loop `relais run` uses when the `fast` extra is installed, as the deployments install it
    Bench("publish_rate.py", ("--publications", "1000", "--runs", "3", "--uvloop"),
          ("--publications", "200", "--runs", "1", "--uvloop"), database="option"),
    Bench("publish_limits.py", ("--seconds", "40"), ("--seconds", "10"), database="option", busy_loop=True),
    Bench("publish_ratelimit.py"),
    Bench("publish_outbox.py", ("1000",), ("200",), database="positional"),
    Bench("publish_pacers_memory.py", ("100000",), ("10000",)),
    Bench("fanout.py", ("--followers", "1000", "10000"), ("--followers", "300"), database="option"),
    Bench("fanout_rows.py", (), ("--readers", "1000", "5000"), database="option"),
    Bench("queue_enqueue.py", ("--posts", "20"), ("--posts", "5"), database="option"),
    Bench("queue_fanout.py", (), ("--channels", "1000"), database="option"),
    Bench("queue_share_next.py", (), ("--posts", "5"), database="option"),
    Bench("queue_listing.py", (), ("--queued", "1000"), database="option"),
    Bench("search.py", ("--posts", "100000"), ("--posts", "5000", "--queries", "50"), database="option",
          postgres={"standard": ("--posts", "20000")}),
    Bench("crash_test.py", ("--seed", "20261128"), ("--kills", "3", "--posts", "5", "--seed", "7"), database="option"),
    Bench("soak.py", ("--seed", "13"),
          ("--minutes", "1", "--posts", "40", "--readers", "200", "--kill-every", "20", "--seed", "13"),
          database="option", timeout=1200),
)


@dataclass
class Outcome:
    bench: Bench
    database: str | None
    command: str
    seconds: float = 0.0
    returncode: int | None = None
    results: list[Result] = field(default_factory=list)
    problem: str = ""  # why it counts as failed, with the stderr tail

    @property
    def failed(self) -> bool:
        return bool(self.problem)


# --- pure parts: commands, results, the Markdown section ------------------------------------------


def masked(url: str) -> str:
    """``url`` with its password hidden, for logs and the generated file."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def command_line(bench: Bench, profile: str, database: str | None) -> str:
    """The command that reproduces one run, from the repository root."""
    args = bench.arguments(profile, masked(database) if database else None)
    line = shlex.join([".venv/bin/python", f"bench/{bench.script}", *args])
    return f"python3 -c {shlex.quote(BUSY_LOOP)} & {line}" if bench.busy_loop else line


def parse_output(stdout: str) -> tuple[list[Result], list[str]]:
    """The RESULT lines of a script's output, and the errors of those that do not parse."""
    results, errors = [], []
    for line in stdout.splitlines():
        try:
            result = parse_line(line.rstrip("\n"))
        except ValueError as error:
            errors.append(str(error))
            continue
        if result is not None:
            results.append(result)
    return results, errors


def judge(returncode: int | None, results: list[Result], errors: list[str], stderr: str, timed_out: bool) -> str:
    """Why a run failed ('' when it did not): exit code, time-out, broken or missing RESULT lines."""
    tail = "\n".join(stderr.strip().splitlines()[-12:])
    if timed_out:
        return f"stopped after its time-out\n{tail}".strip()
    if returncode:
        return f"exit code {returncode}\n{tail}".strip()
    if errors:
        return "\n".join(errors)
    if not results:
        return f"no RESULT line\n{tail}".strip()
    return ""


def number(value: object) -> str:
    """A figure as people read it: three significant digits or so, thousands separated."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1 or size == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def met_text(result: Result) -> str:
    verdict = result.met
    if verdict is None:
        return "—"
    if result.passed is not None:
        return "pass" if verdict else "**FAIL**"
    return "yes" if verdict else "**no**"


def row(result: Result, command: str) -> str:
    database = str(result.params.get("database", ""))
    label = result.label + (" (PostgreSQL)" if database.startswith("postgres") else "")
    value = f"{number(result.value)} {result.unit}".strip()
    baseline = "—" if result.baseline is None else f"{number(result.baseline)} {result.unit}: {result.baseline_label}"
    ratio = "—" if result.ratio is None else f"{number(result.ratio)}×"
    target = result.target.describe(result.unit) if result.target else ("contract" if result.passed is not None else "—")
    cells = (label, value, baseline, ratio, target, met_text(result), f"`{command}`")
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def render_section(outcomes: Sequence[Outcome], header: Sequence[str]) -> str:
    """The generated section: header lines, the table of every figure, then the failed scripts."""
    lines = [BEGIN, "<!-- Generated by bench/run_all.py: what lies between these two markers is rewritten. -->", ""]
    lines += [*header, ""]
    lines += ["| figure | value | baseline (same run) | ratio | target | met | command |",
              "| --- | ---: | ---: | ---: | --- | --- | --- |"]
    lines += [row(result, outcome.command) for outcome in outcomes for result in outcome.results]
    failed = [outcome for outcome in outcomes if outcome.failed]
    if failed:
        lines += ["", "Scripts that failed in this run:", ""]
        for outcome in failed:
            lines += [f"- `{outcome.command}` ({outcome.seconds:.0f} s):", "", "  ```text",
                      *(f"  {line}" for line in outcome.problem.splitlines()), "  ```"]
    return "\n".join([*lines, "", END])


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between the markers replaced by ``section`` (markers included);
    without markers, the section goes after the title (the first line)."""
    begin, end = document.find(BEGIN), document.find(END)
    if begin == -1 and end == -1:
        title, _, rest = document.partition("\n")
        return f"{title}\n\n{section}\n{rest}"
    if begin == -1 or end == -1 or end < begin or document.count(BEGIN) > 1 or document.count(END) > 1:
        raise ValueError(f"{BEGIN} and {END} must appear once each, in that order")
    return document[:begin] + section + document[end + len(END):]


# --- the machine -----------------------------------------------------------------------------------


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":" if ":" in line else "=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def load_average() -> str:
    return " / ".join(f"{load:.2f}" for load in os.getloadavg())


def machine(postgres_version: str | None) -> list[str]:
    memory = _first("/proc/meminfo", "MemTotal")
    gib = f"{int(memory.split()[0]) / 2**20:.1f} GiB RAM" if memory != "unknown" else "RAM unknown"
    dirty = _git("status", "--porcelain", "--", ".", ":!docs/benchmarks.md")
    commit = _git("rev-parse", "--short", "HEAD")
    parts = [_first("/proc/cpuinfo", "model name"), f"{os.cpu_count()} cores", gib,
             f"{_first('/etc/os-release', 'PRETTY_NAME')} ({platform.system()} {platform.release()})",
             f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    if postgres_version:
        parts.append(f"PostgreSQL {postgres_version}")
    state = "dirty tree" if dirty and dirty != "unknown" else "clean tree"
    return [f"Machine: {', '.join(parts)}.", f"Commit {commit} ({state})."]


async def _postgres(url: str, reset: bool) -> str:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if reset:  # what every bench does to the database it gets; done here so none depends on the previous one
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            return str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


def postgres(url: str, *, reset: bool = False) -> str:
    """The server's version; with ``reset``, its public schema emptied first."""
    return asyncio.run(_postgres(url, reset))


# --- running ---------------------------------------------------------------------------------------


def run(bench: Bench, profile: str, database: str | None, logs: Path) -> Outcome:
    outcome = Outcome(bench, database, command_line(bench, profile, database))
    stem = bench.name + ("-postgresql" if database else "")
    out, err = logs / f"{stem}.out", logs / f"{stem}.err"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if database:
        postgres(database, reset=True)
    started, timed_out = time.monotonic(), False
    busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if bench.busy_loop else None
    try:
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen([sys.executable, str(BENCH / bench.script), *bench.arguments(profile, database)],
                                       cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
            try:
                timed_out = _wait(process, bench, started)
            except BaseException:
                _stop(process)
                raise
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    outcome.seconds, outcome.returncode = time.monotonic() - started, process.returncode
    outcome.results, errors = parse_output(out.read_text(errors="replace"))
    outcome.problem = judge(process.returncode, outcome.results, errors, err.read_text(errors="replace"), timed_out)
    return outcome


def _wait(process: subprocess.Popen[bytes], bench: Bench, started: float) -> bool:
    """Wait for the script, saying every minute that it still runs; True if it ran out of time."""
    while True:
        elapsed = time.monotonic() - started
        try:
            process.wait(timeout=max(0.1, min(HEARTBEAT, bench.timeout - elapsed)))
            return False
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - started
            if elapsed >= bench.timeout:
                _stop(process)
                return True
            print(f"      … {bench.script} still running, {elapsed:.0f} s", flush=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the script and what it started (its own process group, e.g. the sandbox)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def selected(names: Sequence[str] | None) -> list[Bench]:
    if not names:
        return list(BENCHES)
    known = {bench.name: bench for bench in BENCHES}
    wanted = [name.removesuffix(".py") for name in names]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in wanted]


def plan(benches: Sequence[Bench], database: str | None) -> list[tuple[Bench, str | None]]:
    """Every script on SQLite, then those that take one on PostgreSQL."""
    runs: list[tuple[Bench, str | None]] = [(bench, None) for bench in benches]
    return runs + [(bench, database) for bench in benches if database and bench.database]


def header(profile: str, started: datetime, seconds: float, loads: tuple[str, str], machine_lines: list[str]) -> list[str]:
    title = "### Latest run: " + ("QUICK profile (small sizes: not the figures' defined sizes)" if profile == "quick"
                                  else "standard profile")
    return [title, "",
            f"`bench/run_all{' --quick' if profile == 'quick' else ''}` on {started:%Y-%m-%d %H:%M} UTC, "
            f"{seconds / 60:.0f} min in all.", *machine_lines,
            f"Load average (1 / 5 / 15 min) before: {loads[0]}; after: {loads[1]}."]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these scripts only (e.g. render startup)")
    parser.add_argument("--database", help="also run on this PostgreSQL URL (a SCRATCH database: emptied)")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=None,
                        help="rewrite the generated section of docs/benchmarks.md (default: yes, unless --only)")
    parser.add_argument("--doc", type=Path, default=DOC, help="the Markdown file to update")
    parser.add_argument("--list", action="store_true", help="print the commands of the profile and stop")
    args = parser.parse_args(argv)
    profile = "quick" if args.quick else "standard"
    runs = plan(selected(args.only), args.database)
    if args.list:
        print("\n".join(command_line(bench, profile, database) for bench, database in runs))
        return 0
    write = args.write if args.write is not None else not args.only
    if write:  # before the run, not after it: a wrong path or damaged markers must not cost 25 minutes
        try:
            replace_section(args.doc.read_text(encoding="utf-8"), "")
        except (OSError, ValueError) as error:
            raise SystemExit(f"cannot update {args.doc}: {error}") from None
    pg_version = postgres(args.database) if args.database else None
    logs = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    started, clock, load_before = datetime.now(UTC), time.monotonic(), load_average()
    described = machine(pg_version)  # now: the commit and tree the scripts run on, whatever happens meanwhile
    print(f"run_all: {len(runs)} runs, {profile} profile; outputs in {logs}", flush=True)
    outcomes = []
    for index, (bench, database) in enumerate(runs, 1):
        print(f"[{index}/{len(runs)}] {command_line(bench, profile, database)}", flush=True)
        outcome = run(bench, profile, database, logs)
        outcomes.append(outcome)
        verdict = f"FAILED: {outcome.problem.splitlines()[0]}" if outcome.failed else "ok"
        print(f"      {verdict}, {outcome.seconds:.0f} s, {len(outcome.results)} figure(s); "
              f"{(time.monotonic() - clock) / 60:.1f} min so far", flush=True)
    lines = header(profile, started, time.monotonic() - clock, (load_before, load_average()), described)
    section = render_section(outcomes, lines)
    print("\n" + section)
    if write:
        args.doc.write_text(replace_section(args.doc.read_text(encoding="utf-8"), section), encoding="utf-8")
        print(f"\nwrote {args.doc}")
    failed = [outcome.command for outcome in outcomes if outcome.failed]
    if failed:
        print(f"\n{len(failed)} script(s) failed:\n" + "\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
