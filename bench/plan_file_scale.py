"""Plan files at scale: write and read back a plan of N versions (default 1,000,000).

A plan is built directly from decisions (no planner, no fake: this measures the
file layer alone): 100 versions per collection, the newest 5 kept, two reasons
per decision as the planner gives them. Each step runs in its own subprocess
so that its peak RSS (``ru_maxrss``) is its own:

- ``build``: the plan in memory; its size is the RSS it added;
- ``write``: build, then ``dump_plan`` (timed); peak RSS above the built plan;
- ``read``: ``load_plan`` alone (timed); peak RSS above the interpreter's.

Targets (issue 13): write and read each <= 10 s; peak RSS of each <= 1.5x the
in-memory plan. The read-back plan is checked equal to the written one (same
id, same decisions) outside the timing.

    .venv/bin/python bench/plan_file_scale.py [--versions 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TARGET_SECONDS = 10.0
TARGET_RSS_RATIO = 1.5


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(n: int) -> object:
    from artifact_guard import Policy, Scope, Version, VersionState
    from artifact_guard._model import CollectionRef
    from artifact_guard._planner import Action, CollectionSummary, Decision, Plan
    from artifact_guard._rules import Reason

    scope = Scope("bench", "files")
    decisions = []
    summaries = []
    per = 100
    for c in range(0, n, per):
        name = f"model-{c // per}"
        count = min(per, n - c)
        freed = 0
        for i in range(count):
            keep = i >= count - 5
            v = Version(
                id=f"QXJ0aWZhY3Q6{c + i:09d}",
                entity="bench",
                project="files",
                collection=name,
                type="model",
                index=i,
                created_at=NOW - timedelta(days=400 - i),
                state=VersionState.COMMITTED,
                aliases=frozenset({"latest"}) if i == count - 1 else frozenset(),
                size=1_000_000 + i,
                ttl=None,
                producer=f"bench/files/run-{c // per}",
                digest=f"{c + i:022d}==",
            )
            if keep:
                reasons = (Reason("policy:keep_last", (("n", 5), ("rank", count - 1 - i))),)
                decisions.append(Decision(v, Action.KEEP, reasons))
            else:
                reasons = (Reason("policy:selected", (("rank", count - 1 - i),)),)
                decisions.append(Decision(v, Action.DELETE, reasons))
                freed += v.size
        summaries.append(
            CollectionSummary(
                CollectionRef("bench", "files", name), "model", min(5, count), count - min(5, count), 0, freed
            )
        )
    return Plan(
        scope=scope,
        policy=Policy(keep_last=5),
        created_at=NOW,
        dedupe="collection",
        decisions=tuple(decisions),
        reclaimable_bytes=sum(s.reclaimable_bytes for s in summaries),
        collections=tuple(summaries),
        id="bench" + "0" * 59,
    )


def child(step: str, n: int, path: str) -> dict[str, float]:
    import gc

    base = _rss_mib()
    if step == "read":
        from artifact_guard._plan_io import load_plan

        started = time.perf_counter()
        plan = load_plan(path)
        seconds = time.perf_counter() - started
        peak = _peak_mib() - base  # before the check below builds a second plan
        expected = build(n)
        assert plan.id == expected.id and plan.decisions == expected.decisions, "read-back differs"  # type: ignore[attr-defined]
        return {"seconds": seconds, "peak_mib": peak}
    plan = build(n)
    gc.collect()
    built = _rss_mib() - base
    if step == "build":
        return {"plan_mib": built}
    from artifact_guard._plan_io import dump_plan

    before_peak = _peak_mib()
    started = time.perf_counter()
    dump_plan(plan, path)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mib": max(0.0, _peak_mib() - max(before_peak, base + built)) + built,
        "file_mib": os.path.getsize(path) / 2**20,
    }


def run(step: str, n: int, path: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--versions", str(n), "--path", path],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["build", "write", "read"])
    parser.add_argument("--path")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.versions, args.path)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "plan.json")
        print(
            f"plan file of {args.versions:,} versions; Python {platform.python_version()}, "
            f"{os.cpu_count()} cores (shared)"
        )
        plan_mib = run("build", args.versions, path)["plan_mib"]
        w = run("write", args.versions, path)
        r = run("read", args.versions, path)
    print(f"  in-memory plan: {plan_mib:,.0f} MiB; file: {w['file_mib']:,.0f} MiB")
    ok = True
    for name, m in (("write", w), ("read", r)):
        ratio = m["peak_mib"] / plan_mib if plan_mib else float("inf")
        good = m["seconds"] <= TARGET_SECONDS and ratio <= TARGET_RSS_RATIO
        ok = ok and good
        print(
            f"  {name}: {m['seconds']:.1f} s (target <= {TARGET_SECONDS:.0f} s), "
            f"peak RSS {m['peak_mib']:,.0f} MiB "
            f"= {ratio:.2f}x the plan (target <= {TARGET_RSS_RATIO}x): {'PASS' if good else 'MISS'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
