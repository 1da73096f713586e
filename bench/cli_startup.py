"""CLI startup benchmark: how long ``artifact-guard --help`` takes, and that it never imports wandb.

Runs the installed console script (``.venv/bin/artifact-guard``, or ``python -m
artifact_guard.cli`` with ``--module``) ``--runs`` times in fresh processes and
reports the wall time: minimum, median, maximum. The budget is 0.5 s (issue 7);
the exit status is 1 when the median exceeds it. It then imports
``artifact_guard.cli`` in a fresh interpreter and lists which heavy modules got
imported (wandb, graphql, requests, sqlite3...): wandb must not be among them.

Usage::

    .venv/bin/python bench/cli_startup.py            # 20 runs of --help
    .venv/bin/python bench/cli_startup.py --runs 50 --args "plan --help"
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_S = 0.5
HEAVY = ("wandb", "graphql", "requests", "pydantic", "fakes", "sqlite3", "hypothesis")


def _command(module: bool) -> list[str]:
    script = Path(sys.executable).with_name("artifact-guard")
    if module or not script.exists():
        return [sys.executable, "-m", "artifact_guard.cli"]
    return [str(script)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--args", default="--help", help="arguments to time (default: --help)")
    parser.add_argument("--module", action="store_true", help="run python -m artifact_guard.cli")
    ns = parser.parse_args()

    cmd = [*_command(ns.module), *shlex.split(ns.args)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    subprocess.run(cmd, capture_output=True, timeout=60, check=True, env=env)  # warm the bytecode cache
    times: list[float] = []
    for _ in range(ns.runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=60, check=True, env=env)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"command: {shlex.join(cmd)}")
    print(
        f"{ns.runs} runs: min {min(times) * 1000:.0f} ms, median {median * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms (budget {BUDGET_S * 1000:.0f} ms)"
    )

    probe = f"import sys, artifact_guard.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    print(f"heavy modules imported by `import artifact_guard.cli`: {loaded or 'none'}")
    ok = median <= BUDGET_S and "wandb" not in loaded.split()
    print("OK" if ok else "OVER BUDGET or wandb imported")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
