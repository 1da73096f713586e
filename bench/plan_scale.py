"""Planner scale benchmark: plan fake projects of 10k, 100k and 1M versions.

Each project has ``--per-collection`` versions per collection (default 100, so
1,000,000 versions live in 10,000 collections) and 5 manifest entries per
version; each file changes every second version, staggered, so each version
shares about half of its digests with its predecessor. The policy is
``Policy(keep_last=5)``, so about 95% of the versions are proposed for deletion
and ``reclaimable_bytes`` has real work to do.

Each size runs in its own subprocess, so the peak RSS (``ru_maxrss``) is per
size; it is the whole process: Python, the fake project and the plan. The
planning time excludes building the fake, but by default includes the cyclic
garbage collector rescanning the fake's millions of objects while the planner
allocates (a real repository holds far fewer Python objects): a conservative
figure. ``--freeze`` moves the built fake to the collector's permanent
generation first (``gc.freeze()``) and so measures the planner alone.

The plan is checked against an independent computation of the expected
deletions and reclaimable bytes (outside the timing), so a fast wrong planner
cannot pass.

Usage::

    .venv/bin/python bench/plan_scale.py                      # 10k, 100k, 1M
    .venv/bin/python bench/plan_scale.py --sizes 10000,100000 # a subset
    .venv/bin/python bench/plan_scale.py --freeze             # the planner alone
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

ENTRIES = 5
KEEP_LAST = 5
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# Targets of issue 2 on the 2-core reference machine.
TARGET_SECONDS_1M = 20.0
TARGET_RSS_GIB = 4.0
TARGET_GROWTH = 1.5


def _digest(collection: int, k: int, j: int) -> str:
    # File k of version j changes when (j + k) is even: staggered, so consecutive
    # versions share about half their files.
    return f"c{collection}-f{k}-{(j + k) // 2}=="


def _size(k: int) -> int:
    return 1_000 * (k + 1)


def build(versions: int, per_collection: int):  # type: ignore[no-untyped-def]
    """A FakeWandb with ``versions`` versions, built through the public builder surface."""
    from fakes import FakeWandb

    fake = FakeWandb(now=NOW)
    run = fake.create_run("bench/scale", "producer")
    created = NOW - timedelta(days=30)
    paths = [f"file-{k}.bin" for k in range(ENTRIES)]
    sizes = [_size(k) for k in range(ENTRIES)]
    for i in range(versions):
        c, j = divmod(i, per_collection)
        files = {paths[k]: (_digest(c, k, j), sizes[k]) for k in range(ENTRIES)}
        fake.log_artifact(run, f"model-{c:06d}", "model", files, created_at=created)
    fake.finish_run(run)
    return fake


def expected(versions: int, per_collection: int) -> tuple[int, int]:
    """Deletions and reclaimable bytes for keep_last=5, computed without the planner."""
    deletions = freed = 0
    for start in range(0, versions, per_collection):
        n = min(per_collection, versions - start)
        kept = set(range(max(0, n - KEEP_LAST), n))
        gone = set(range(n)) - kept
        if not gone:
            continue
        deletions += len(gone)
        for k in range(ENTRIES):
            surviving = {(j + k) // 2 for j in kept}
            freed += _size(k) * len({(j + k) // 2 for j in gone} - surviving)
    return deletions, freed


def _rss_now_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def child(versions: int, per_collection: int, freeze: bool) -> dict[str, object]:
    """Build, plan, check; returns the figures."""
    import artifact_guard as ag

    t0 = time.perf_counter()
    gc.disable()  # building is not measured; the collector only slows it down
    fake = build(versions, per_collection)
    gc.enable()
    gc.collect()
    if freeze:
        gc.freeze()
    build_s = time.perf_counter() - t0
    rss_built = _rss_now_kib()
    repo = fake.repository()

    # Time spent in the cyclic collector while planning, to tell it from the planner's own work.
    gc_spent = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_spent[1] = time.perf_counter()
        else:
            gc_spent[0] += time.perf_counter() - gc_spent[1]

    # Small sizes are planned several times and the best run is kept (as timeit does); the ratio
    # to the single 1M run is therefore, if anything, pessimistic.
    repeats = max(1, min(3, 1_000_000 // max(versions, 1)))
    plan_s = float("inf")
    for _ in range(repeats):
        gc_spent[0] = 0.0
        gc.callbacks.append(on_gc)
        t1 = time.perf_counter()
        plan = ag.plan(repo, "bench/scale", ag.Policy(keep_last=KEEP_LAST), now=NOW)
        elapsed = time.perf_counter() - t1
        gc.callbacks.remove(on_gc)
        if elapsed < plan_s:
            plan_s, gc_s = elapsed, gc_spent[0]
        if repeats > 1:
            del plan
            gc.collect()
    plan = ag.plan(repo, "bench/scale", ag.Policy(keep_last=KEEP_LAST), now=NOW) if repeats > 1 else plan

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    want_deletions, want_freed = expected(versions, per_collection)
    got_deletions = len(plan.deletions)
    if (got_deletions, plan.reclaimable_bytes) != (want_deletions, want_freed):
        raise SystemExit(
            f"wrong plan: {got_deletions} deletions / {plan.reclaimable_bytes} bytes, "
            f"expected {want_deletions} / {want_freed}"
        )
    entries = versions * ENTRIES
    return {
        "versions": versions,
        "entries": entries,
        "collections": -(-versions // per_collection),
        "build_s": build_s,
        "plan_s": plan_s,
        "gc_s": gc_s,
        "repeats": repeats,
        "ns_per_entry": plan_s / entries * 1e9,
        "rss_built_mib": rss_built / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "deletions": got_deletions,
        "reclaimable_bytes": plan.reclaimable_bytes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated version counts")
    parser.add_argument("--per-collection", type=int, default=100, help="versions per collection")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() the built fake before timing")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per size")
    args = parser.parse_args()

    if args.child is not None:
        print(json.dumps(child(args.child, args.per_collection, args.freeze)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(
        f"machine: {os.cpu_count()} cpus (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}"
    )
    print(
        f"project: {ENTRIES} entries/version, {args.per_collection} versions/collection, "
        f"policy keep_last={KEEP_LAST}, gc.freeze after build: {args.freeze}"
    )
    rows = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--per-collection", str(args.per_collection)]
        if args.freeze:
            cmd.append("--freeze")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    header = (
        f"{'versions':>10} {'entries':>10} {'colls':>7} {'build s':>8} {'plan s':>8} {'(gc s)':>7} "
        f"{'ns/entry':>9} {'RSS built MiB':>14} {'peak RSS MiB':>13} {'deleted':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['versions']:>10,} {r['entries']:>10,} {r['collections']:>7,} {r['build_s']:>8.1f} "
            f"{r['plan_s']:>8.2f} {r['gc_s']:>7.2f} {r['ns_per_entry']:>9.0f} {r['rss_built_mib']:>14.0f} "
            f"{r['peak_rss_mib']:>13.0f} {r['deletions']:>9,}"
        )
    ok = True
    by_size = {r["versions"]: r for r in rows}
    if 1_000_000 in by_size:
        big = by_size[1_000_000]
        fast = big["plan_s"] <= TARGET_SECONDS_1M
        small = big["peak_rss_mib"] / 1024 <= TARGET_RSS_GIB
        print(
            f"1M versions planned in {big['plan_s']:.1f} s (target <= {TARGET_SECONDS_1M:.0f} s): "
            f"{'ok' if fast else 'MISSED'}"
        )
        print(
            f"peak RSS {big['peak_rss_mib'] / 1024:.2f} GiB (target <= {TARGET_RSS_GIB:.0f} GiB): "
            f"{'ok' if small else 'MISSED'}"
        )
        ok = ok and fast and small
        if 10_000 in by_size:
            growth = big["ns_per_entry"] / by_size[10_000]["ns_per_entry"]
            flat = growth <= TARGET_GROWTH
            print(
                f"time per entry 10k -> 1M: x{growth:.2f} (target <= x{TARGET_GROWTH}): "
                f"{'ok' if flat else 'MISSED'}"
            )
            ok = ok and flat
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
