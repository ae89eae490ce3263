"""Fault scenario 1 in the benchmark mode: kill -9 the Celery worker with 200 operations in flight, N times.

Run from the project root, with PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) up:

    .venv/bin/python bench/worker_kill.py [--runs 10]

It runs ``tests/faults/test_worker_kill.py`` (the CI mode runs it once) with ``WORKER_KILL_RUNS=N`` in one pytest
session, on its own databases: PostgreSQL ``test_primetime_bench_worker_kill`` (made and dropped by pytest-django)
and Redis databases 8 (the suite's broker, unused) and 9 (cache), the workers' broker being the test's own Redis
database 14. Each run appends its figures to a JSON-lines file; this script prints them as a table with totals.
pytest's output goes to a log, kept (path printed) when a run failed. It exits with pytest's status: a run that
lost or duplicated work fails, as it does in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/faults/test_worker_kill.py"
ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/primetime_bench_worker_kill",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/8",
    "CACHE_URL": "redis://127.0.0.1:6379/9",
}
COLUMNS = [
    # (heading, width, value of one run's figures)
    ("run", 4, lambda f: f["run"]),
    ("done@kill", 9, lambda f: f["done_at_kill"]),
    ("held", 5, lambda f: f"{f['held_applies']}+{f['held_batches']}"),
    ("lost", 4, lambda f: f["lost"]),
    ("dup AWS", 7, lambda f: f["aws_duplicates"]),
    ("dup readiness", 13, lambda f: f["readiness_duplicates"]),
    ("held done s", 11, lambda f: _seconds(f["held_done_after_s"])),
    ("in window", 9, lambda f: f"{f['held_within_window']}/{f['held_applies'] + f['held_batches']}"),
    ("all done s", 10, lambda f: _seconds(f["all_done_after_s"])),
    ("redone req", 10, lambda f: f["redone_page_requests"]),
    ("unaudited", 9, lambda f: f["unaudited_steps"]),
    ("test s", 6, lambda f: f"{f['seconds']:.1f}"),
]


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def table(figures: list[dict]) -> str:
    lines = ["  ".join(heading.rjust(width) for heading, width, _value in COLUMNS)]
    lines += ["  ".join(str(value(run)).rjust(width) for _heading, width, value in COLUMNS) for run in figures]
    return "\n".join(lines)


def totals(figures: list[dict]) -> str:
    if not figures:
        return "no figures: no run got as far as counting (see pytest's output)"
    held = sum(f["held_applies"] + f["held_batches"] for f in figures)
    within = sum(f["held_within_window"] for f in figures)
    held_done = [f["held_done_after_s"] for f in figures if f["held_done_after_s"] is not None]
    all_done = [f["all_done_after_s"] for f in figures if f["all_done_after_s"] is not None]
    operations = sum(f["operations"] for f in figures)
    return "\n".join(
        [
            f"runs {len(figures)}, operations {operations} ({operations // len(figures)} a run)",
            f"lost {sum(f['lost'] for f in figures)}; duplicate effects {sum(f['aws_duplicates'] for f in figures)} "
            f"on AWS, {sum(f['readiness_duplicates'] for f in figures)} in readiness",
            f"held at the kill {held} (applies {sum(f['held_applies'] for f in figures)}, readiness batches "
            f"{sum(f['held_batches'] for f in figures)}); finished within the window {within}/{held} "
            f"(window {figures[0]['window_s']:g} s: visibility timeout + margin)",
            f"held work done after the kill: {_spread(held_done)} s; everything done after the kill: "
            f"{_spread(all_done)} s",
            f"page requests redone for held batches {sum(f['redone_page_requests'] for f in figures)}; steps on AWS "
            f"without their audit row {sum(f['unaudited_steps'] for f in figures)}",
            f"test time (setup included): {_spread([f['seconds'] for f in figures])} s",
        ]
    )


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"min {min(values):.1f}, median {statistics.median(values):.1f}, max {max(values):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-worker-kill-"))
    figures_path, log_path = log_dir / "figures.jsonl", log_dir / "pytest.log"
    env = {
        **os.environ,
        **{name: os.environ.get(f"BENCH_{name}", default) for name, default in ENV.items()},
        "WORKER_KILL_RUNS": str(args.runs),
        "WORKER_KILL_FIGURES": str(figures_path),
    }
    command = [str(ROOT / ".venv/bin/pytest"), TEST, "-s", "-q", "-p", "no:logging"]
    print(f"{' '.join(command)}  (WORKER_KILL_RUNS={args.runs}, database {env['DATABASE_URL']})", flush=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        # Ctrl-C reaches pytest too (same process group): its clean-up kills the workers it started.
        process = subprocess.Popen(  # noqa: S603 - the project's own pytest, fixed arguments
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith("[scenario 1"):
                print(line.rstrip(), flush=True)
        status = process.wait()
    figures = [json.loads(line) for line in figures_path.read_text().splitlines()] if figures_path.exists() else []
    print()
    print(table(figures))
    print(totals(figures))
    print(f"{time.monotonic() - started:.0f} s in all; pytest exited {status}")
    if status == 0:
        log_path.unlink()
        figures_path.unlink(missing_ok=True)
        log_dir.rmdir()
    else:
        print(f"pytest's output kept in {log_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
