"""Requests per version that WandbRepository sends to plan a project, first time and again.

The project sits in the fake W&B server; WandbRepository talks to it through
the real wandb SDK and wandb-core; the server's request log counts every
request (GraphQL and manifest downloads alike). Two numbers per project:

- first plan: a fresh process with an empty workspace cache plans the project;
- re-plan: a new process (a new WandbRepository) with the same workspace cache
  plans the unchanged project again.

Targets: at most 3 requests per version for the first plan, at most 0.05 per
version for the re-plan. Exits 1 if a target is missed.

    .venv/bin/python bench/adapter_requests.py [--versions 2000] [--per-collection 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from artifact_guard import Policy, plan
from fakes import FakeWandb
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo
from fakes.server import FakeWandbServer

FIRST_TARGET = 3.0
REPLAN_TARGET = 0.05
POLICY = Policy(keep_last=5, grace_period=timedelta(hours=1))


def synthetic(versions: int, per_collection: int) -> FakeWandb:
    """``versions`` model versions in collections of ``per_collection``, with shared files and consumers."""
    fake = FakeWandb(now=DEMO_NOW)
    run = fake.create_run("bench/proj", "train")
    evaluator = fake.create_run("bench/proj", "eval")
    start = DEMO_NOW - timedelta(days=60)
    for i in range(versions):
        c, k = divmod(i, per_collection)
        files = {f"part-{p}": (f"{c:05d}-{p}-{(k + p) // 2:05d}==", 1_000_000 + p) for p in range(4)}
        v = fake.log_artifact(
            run,
            f"model-{c:04d}",
            "model",
            files,
            created_at=start + timedelta(minutes=i),
            aliases=["best"] if k == 7 else (),
        )
        if k % 25 == 3:
            fake.use_artifact(evaluator, v)
    return fake


def measure(name: str, fake: FakeWandb, scope: str, *, page_size: int) -> dict[str, Any]:
    from artifact_guard.adapters.wandb import WandbRepository

    with FakeWandbServer(fake) as server, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(server.env())
        cache = Path(tmp) / "workspace.sqlite3"
        count = len(fake.versions(scope=scope))
        out: dict[str, Any] = {"project": name, "versions": count}
        for phase in ("first", "replan"):
            # Counted from the start: connecting (one Viewer request) is part of what a process pays.
            server.clear_requests()
            started = time.perf_counter()
            repo = WandbRepository(cache=cache, page_size=page_size)
            the_plan = plan(repo, scope, POLICY, now=DEMO_NOW)
            elapsed = time.perf_counter() - started
            requests = server.requests
            out[phase] = {
                "requests": len(requests),
                "per_version": len(requests) / count,
                "seconds": elapsed,
                "deletions": len(the_plan.deletions),
                "by_operation": dict(Counter(r.operation for r in requests)),
            }
            assert repo.cache is not None
            repo.cache.close()
        return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=2000, help="versions in the synthetic project")
    parser.add_argument("--per-collection", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=100, help="WandbRepository page_size")
    args = parser.parse_args()

    results = [
        measure("demo", seed_demo(), DEMO_PROJECT, page_size=args.page_size),
        measure(
            f"synthetic-{args.versions}",
            synthetic(args.versions, args.per_collection),
            "bench/proj",
            page_size=args.page_size,
        ),
    ]
    ok = True
    header = (
        f"{'project':<18} {'versions':>8} {'phase':<7} {'requests':>8} {'per version':>11} {'seconds':>8}"
    )
    print(header + "  operations")
    for r in results:
        for phase, target in (("first", FIRST_TARGET), ("replan", REPLAN_TARGET)):
            m = r[phase]
            met = m["per_version"] <= target
            ok &= met
            ops = ", ".join(f"{k}={v}" for k, v in sorted(m["by_operation"].items()))
            print(
                f"{r['project']:<18} {r['versions']:>8} {phase:<7} {m['requests']:>8} "
                f"{m['per_version']:>11.4f} {m['seconds']:>8.2f}  {ops}  "
                f"[target <= {target}: {'met' if met else 'MISSED'}]"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
