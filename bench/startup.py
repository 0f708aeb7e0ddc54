"""Start-up cost of the command line: `relais --help` and `relais queue --help` against `python -c pass`.

Each command runs N times as a fresh process (the same interpreter as this script); the
figures are wall time and CPU time (user + system, from ``resource.getrusage`` of the
children), min and median, and each command's ratio to the bare interpreter measured in the
same run. Targets (issue 11 item 16, issue 12 item 7): `relais --help` ≤ 0.3 s wall and
≤ 0.15 s CPU.

    .venv/bin/python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

from report import at_most, emit

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "relais --help": [sys.executable, "-m", "bot", "--help"],
    "relais queue --help": [sys.executable, "-m", "bot", "queue", "--help"],
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``."""
    cpu_before, wall_before = children_cpu(), time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - wall_before, children_cpu() - cpu_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    for argv in COMMANDS.values():  # warm the page cache and .pyc files once
        measure(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # interleaved, so a busy moment of the machine hits every command alike
        for name, argv in COMMANDS.items():
            samples[name].append(measure(argv))
    baseline = samples["python -c pass (baseline)"]
    base_wall = statistics.median(w for w, _ in baseline)
    base_cpu = statistics.median(c for _, c in baseline)
    print(f"{runs} runs each, {sys.executable}")
    print(f"{'command':28} {'wall min':>9} {'wall med':>9} {'cpu min':>8} {'cpu med':>8} {'wall ×base':>10} {'cpu ×base':>9}")
    for name, rows in samples.items():
        walls, cpus = [w for w, _ in rows], [c for _, c in rows]
        print(f"{name:28} {min(walls):9.3f} {statistics.median(walls):9.3f} {min(cpus):8.3f} "
              f"{statistics.median(cpus):8.3f} {statistics.median(walls) / base_wall:10.1f} "
              f"{statistics.median(cpus) / base_cpu:9.1f}")
    help_runs = samples["relais --help"]
    emit("startup.help_cpu", "`relais --help`, CPU (median)", statistics.median(c for _, c in help_runs), "s",
         baseline=base_cpu, baseline_label="python -c pass", target=at_most(0.15), runs=runs)
    emit("startup.help_wall", "`relais --help`, wall (median)", statistics.median(w for w, _ in help_runs), "s",
         baseline=base_wall, baseline_label="python -c pass", target=at_most(0.3), runs=runs)
    emit("startup.queue_help_cpu", "`relais queue --help`, CPU (median)",
         statistics.median(c for _, c in samples["relais queue --help"]), "s", baseline=base_cpu,
         baseline_label="python -c pass", runs=runs)


if __name__ == "__main__":
    main()
