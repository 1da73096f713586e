"""End to end at scale: plan then apply a large clean-up through the real SDK, with defaults only.

A project of ``--versions`` versions (default 100,000) in ``--collections``
collections (default 1,000), as in the demo: every version shares one file with
the rest of its collection and holds one of its own; some carry aliases
(``best``, ``production``), some were consumed by evaluation runs, and one per
collection is linked into the registry. The fake W&B server adds ``--latency``
(30 ms) to every request, API and storage (manifest downloads), and limits each
project to ``--limit`` API requests/s.

``artifact_guard.plan`` then ``artifact_guard.apply`` run through
``WandbRepository`` and the real wandb SDK (wandb-core) with every option at
its default; the policy keeps the newest 5 versions of each collection.
Reported:

- total wall time (plan + apply), and API requests by operation;
- the lower bound: the minimal API requests (listing pages, manifest-URL
  look-ups, one delete per deleted version) / the rate limit, plus the
  manifest downloads (storage, not the API) at the pool size;
- the ratio of the wall time to that bound (target <= 1.3), and the share of
  requests answered 429;
- W&B's documented loop (list, then ``delete(delete_aliases=True)`` with
  ``sleep(0.1)``) on a slice of ``--slice`` versions in the same run,
  extrapolated to the whole project.

Run it as large as the machine allows: the defaults take hours under a
30 requests/s limit, so ``--versions`` and ``--collections`` scale it down.

    .venv/bin/python bench/cleanup_at_scale.py --versions 5000 --collections 50
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import artifact_guard as ag
from fakes import FakeWandb
from fakes.server import FakeWandbServer

ENTITY = "bench"
KEEP = 5
TARGET_RATIO = 1.3


def seed(fake: FakeWandb, project: str, collections: int, per: int) -> int:
    """The demo's shape, scaled: returns the number of versions logged."""
    path = f"{ENTITY}/{project}"
    trainer = fake.create_run(path, "trainer")
    evaluator = fake.create_run(path, "evaluator")
    old = fake.now() - timedelta(days=90)
    logged = 0
    for c in range(collections):
        name = f"model-{c}"
        shared = (f"{c:020d}sh==", 4096)
        versions = []
        for i in range(per):
            aliases = ["best"] if i == per // 2 else (["production"] if i == per // 3 else [])
            files = {"shared.bin": shared, "weights.bin": (f"{c:010d}{i:010d}==", 1_000_000 + i)}
            versions.append(
                fake.log_artifact(
                    trainer, name, "model", files, aliases=aliases, created_at=old + timedelta(minutes=i)
                )
            )
            logged += 1
        if per > 4:
            fake.use_artifact(evaluator, versions[per // 4])
            fake.link(versions[1], f"{ENTITY}/wandb-registry-model/{name}", aliases=["candidate"])
    return logged


def documented_loop(project: str, collections: int, keep: int) -> tuple[int, float]:
    """W&B's loop: list each collection, delete all but the newest ``keep``, sleep(0.1) between."""
    import wandb

    api = wandb.Api(timeout=60)
    started = time.perf_counter()
    deleted = 0
    for c in range(collections):
        coll = api.artifact_collection("model", f"{ENTITY}/{project}/model-{c}")
        versions = list(coll.artifacts())
        newest = max(int(a.version[1:]) for a in versions)
        for art in versions:
            if int(art.version[1:]) > newest - keep:
                continue
            art.delete(delete_aliases=True)
            deleted += 1
            time.sleep(0.1)
    return deleted, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--collections", type=int, default=1_000)
    parser.add_argument("--slice", type=int, default=2_000, help="versions in the documented loop's slice")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every request")
    parser.add_argument("--limit", type=float, default=30.0, help="requests/s per project")
    parser.add_argument("--burst", type=int, default=10)
    args = parser.parse_args(argv)

    per = max(1, args.versions // args.collections)
    slice_collections = max(1, args.slice // per)
    fake = FakeWandb()
    t = time.perf_counter()
    n = seed(fake, "big", args.collections, per)
    sliced = seed(fake, "slice", slice_collections, per)
    print(
        f"seeded {n:,} versions in {args.collections:,} collections (+ a slice of {sliced:,}) "
        f"in {time.perf_counter() - t:.0f} s; fake W&B: +{args.latency * 1e3:.0f} ms per request, "
        f"{args.limit:g} requests/s per project (burst {args.burst}); 2 cores shared with other work"
    )
    with FakeWandbServer(fake) as server:
        os.environ.update(server.env())
        server.faults.add("*", latency=args.latency)
        server.faults.add("GET manifest", latency=args.latency)  # storage is as far away as the API
        server.faults.rate_limit(args.limit, args.burst)
        from artifact_guard.adapters.wandb import WandbRepository

        since = len(server.requests)
        started = time.perf_counter()
        repo = WandbRepository()
        the_plan = ag.plan(repo, f"{ENTITY}/big", ag.Policy(keep_last=KEEP))
        planned = time.perf_counter()
        result = ag.apply(the_plan, repo)
        finished = time.perf_counter()
        # wandb-core's own telemetry (an OpenTelemetry export about once a minute) is no API request.
        reqs = [r for r in server.requests[since:] if r.operation != "telemetry"]
        api = [r for r in reqs if not r.operation.startswith("GET")]
        gets = [r for r in reqs if r.operation.startswith("GET")]
        ops = Counter(r.operation for r in reqs)
        throttled = sum(r.status == 429 for r in reqs)
        deleted = len(result.done)
        loop_deleted, loop_seconds = documented_loop("slice", slice_collections, KEEP)

    wall = finished - started
    pages = -(-args.collections // 20)  # the listing: 20 collections (of <= 100 versions) per page
    minimal = pages + -(-n // 50) + deleted
    pool = 32
    bound = minimal / args.limit + len(gets) * args.latency / pool
    ratio = wall / bound
    share = 100.0 * throttled / len(reqs) if reqs else 0.0
    loop_total = loop_seconds / max(1, loop_deleted) * deleted
    plan_bound = (pages + -(-n // 50)) / args.limit + len(gets) * args.latency / pool
    apply_bound = deleted / args.limit
    print(
        f"plan {planned - started:.1f} s (bound {plan_bound:.1f} s) + apply {finished - planned:.1f} s "
        f"(bound {apply_bound:.1f} s) = {wall:.1f} s"
    )
    print(result.summary().splitlines()[0])
    print("requests by operation: " + ", ".join(f"{k} {v}" for k, v in ops.most_common()))
    print(
        f"API requests {len(api):,} ({len(api) / max(1, deleted):.2f} per deleted version), "
        f"manifest downloads {len(gets):,}; answered 429: {throttled} ({share:.1f}%)"
    )
    print(
        f"lower bound: {minimal:,} minimal requests / {args.limit:g} per s + {len(gets):,} downloads x "
        f"{args.latency * 1e3:.0f} ms / {pool} = {bound:.1f} s; "
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO}): {'PASS' if ratio <= TARGET_RATIO else 'MISS'}"
    )
    print(
        f"documented loop: {loop_deleted:,} versions in {loop_seconds:.1f} s on the slice; extrapolated to "
        f"{deleted:,}: {loop_total / 3600:.2f} h vs artifact-guard {wall / 3600:.2f} h "
        f"({loop_total / wall:.1f}x)"
    )
    ok = ratio <= TARGET_RATIO and share < 5 and result.ok
    verdict = "PASS" if share < 5 else "MISS"
    print(f"429 share {share:.1f}% (target < 5%): {verdict}; overall {'PASS' if ok else 'MISS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
