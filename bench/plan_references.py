"""What the ``referenced`` rule costs a plan: the same project planned with and without it, in one process.

The rule reads every version's manifest (a kept version may reference a
candidate); the byte count then reuses those manifests instead of reading
them again. Baseline: the same planner with the rule's scan switched off
(monkeypatched), on the same built fake; rounds alternate the two, and the
best time of each is kept. The project
is ``plan_scale``'s (5 entries per version, 100 versions per collection,
``keep_last=5``), so about 95% of the versions are deletion candidates.

Usage::

    .venv/bin/python bench/plan_references.py              # 200,000 versions
    .venv/bin/python bench/plan_references.py --versions 1000000
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plan_scale

import artifact_guard as ag
import artifact_guard._planner as planner

TARGET_RATIO = 1.15
"""The rule may cost at most 15% more planning time than a planner without it."""


def _best_of(repo: object, runs: int = 3) -> tuple[float, ag.Plan]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = ag.plan(repo, "bench/scale", ag.Policy(keep_last=5), now=plan_scale.NOW)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best of each kept)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cpus, shared with other work; {args.versions:,} versions")
    gc.disable()
    fake = plan_scale.build(args.versions, 100)
    gc.enable()
    gc.collect()
    gc.freeze()  # the built fake is not what is measured
    repo = fake.repository()
    scan = planner._block_referenced
    # Interleaved rounds, best of each: the machine is shared, and load drifts between runs.
    with_rule = without = float("inf")
    for _ in range(args.rounds):
        seconds, planned = _best_of(repo, runs=1)
        with_rule = min(with_rule, seconds)
        planner._block_referenced = lambda repo, per_collection: None  # type: ignore[assignment]
        try:
            seconds, baseline = _best_of(repo, runs=1)
        finally:
            planner._block_referenced = scan
        without = min(without, seconds)
    if planned.decisions != baseline.decisions or planned.reclaimable_bytes != baseline.reclaimable_bytes:
        print("MISS: the two plans differ (the project has no references: they must not)")
        return 1
    ratio = with_rule / without
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"plan with the referenced rule {with_rule:.2f} s, without {without:.2f} s: x{ratio:.2f}")
    print(f"{verdict}: target <= x{TARGET_RATIO}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
