"""Benchmark: W&B's documented deletion loop vs ``artifact_guard.apply``, through the real SDK.

Both run against the fake W&B server (``fakes.FakeWandbServer``) with 20 ms
added to every request and a per-project rate limit (HTTP 429 with
``Retry-After`` once a project's token bucket is empty), on identical
projects seeded in the same fake, in the same run:

(a) the loop W&B documents: list a collection's versions, then
    ``artifact.delete(delete_aliases=True)`` one at a time with
    ``time.sleep(0.1)`` between deletes;
(b) ``artifact_guard.apply`` through ``WandbRepository``: every version
    re-read and re-judged right before its delete, writes paced at
    ``--rate`` operations/s on ``--concurrency`` threads, whole collections
    deleted in one call where safe.

Two cases:

- per-version: keep the newest ``--keep`` versions of each collection, so
  every delete is one version (targets: (b) >= 5x (a) in versions/s, and
  429 answers on < 5% of (b)'s requests);
- coarse: a policy that empties whole collections (target: (b) uses >= 50x
  fewer requests than (a)).

    .venv/bin/python bench/apply_throughput.py [--collections 4] [--versions 60] [--keep 10]
        [--coarse-versions 200] [--rate 60] [--concurrency 8] [--limit 150] [--burst 30]

wandb-core retries 429s itself (honouring Retry-After), so the Python side
rarely sees them: the 429 share is counted at the server.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import artifact_guard as ag
from fakes import FakeWandb
from fakes.server import FakeWandbServer, RequestRecord

ENTITY = "bench"
LATENCY_S = 0.02


@dataclass
class Outcome:
    label: str
    deleted: int
    seconds: float
    requests: int
    throttled: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.deleted / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        share = 100.0 * self.throttled / self.requests if self.requests else 0.0
        return (
            f"  {self.label:<34} {self.deleted:5d} deleted in {self.seconds:6.1f} s = "
            f"{self.per_second:6.1f} versions/s; {self.requests:5d} requests, "
            f"{self.throttled} answered 429 ({share:.1f}%) {self.note}"
        )


def seed(fake: FakeWandb, project: str, collections: int, versions: int) -> None:
    run = fake.create_run(f"{ENTITY}/{project}", "trainer")
    old = fake.now() - timedelta(days=60)
    for c in range(collections):
        for i in range(versions):
            fake.log_artifact(
                run,
                f"model-{c}",
                "model",
                {"weights.bin": f"{project}-{c}-{i}".encode() * 4},
                created_at=old + timedelta(minutes=i),
            )


def window(server: FakeWandbServer, project: str, since: int) -> list[RequestRecord]:
    return [r for r in server.requests[since:] if r.project in (None, f"{ENTITY}/{project}")]


def documented_loop(
    server: FakeWandbServer, project: str, collections: int, keep: int | None, label: str
) -> Outcome:
    """(a): W&B's loop, sequential, sleep(0.1) between deletes."""
    import wandb

    api = wandb.Api(timeout=60)
    since = len(server.requests)
    started = time.perf_counter()
    deleted = 0
    for c in range(collections):
        coll = api.artifact_collection("model", f"{ENTITY}/{project}/model-{c}")
        # Listed first: deleting while paginating skips versions.
        versions = list(coll.artifacts())
        newest = max(int(a.version[1:]) for a in versions)
        for art in versions:
            if keep is not None and int(art.version[1:]) > newest - keep:
                continue
            art.delete(delete_aliases=True)
            deleted += 1
            time.sleep(0.1)
    seconds = time.perf_counter() - started
    reqs = window(server, project, since)
    return Outcome(label, deleted, seconds, len(reqs), sum(r.status == 429 for r in reqs))


def guarded(
    server: FakeWandbServer,
    fake: FakeWandb,
    project: str,
    policy: ag.Policy,
    *,
    rate: float | None,
    concurrency: int | None,
    label: str,
) -> tuple[Outcome, ag.ApplyResult]:
    """(b): plan, then artifact_guard.apply (timed: the apply)."""
    from artifact_guard.adapters.wandb import WandbRepository

    repo = WandbRepository()
    the_plan = ag.plan(repo, f"{ENTITY}/{project}", policy, now=fake.now())
    since = len(server.requests)
    started = time.perf_counter()
    knobs: dict[str, object] = {}
    if rate is not None:
        knobs["rate"] = rate
    if concurrency is not None:
        knobs["concurrency"] = concurrency
    result = ag.apply(the_plan, repo, **knobs)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    reqs = window(server, project, since)
    ops = Counter(r.operation for r in reqs)
    per = len(reqs) / max(1, len(result.done))
    note = f"{per:.2f} req/deleted [" + ", ".join(f"{k} {v}" for k, v in ops.most_common()) + "]"
    if not result.ok:
        note += f" NOT OK: {result.summary()}"
    return Outcome(
        label, len(result.done), seconds, len(reqs), sum(r.status == 429 for r in reqs), note
    ), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collections", type=int, default=4)
    parser.add_argument("--versions", type=int, default=60, help="versions per collection (per-version case)")
    parser.add_argument("--keep", type=int, default=10)
    parser.add_argument("--coarse-versions", type=int, default=200, help="versions per collection (coarse)")
    parser.add_argument("--rate", type=float, default=60.0, help="(b)'s write operations per second")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--limit", type=float, default=150.0, help="server: requests/s per project")
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--skip-coarse", action="store_true")
    args = parser.parse_args(argv)

    fake = FakeWandb()
    seed(fake, "loop", args.collections, args.versions)
    seed(fake, "guard", args.collections, args.versions)
    seed(fake, "guard-defaults", args.collections, args.versions)
    if not args.skip_coarse:
        seed(fake, "loop-all", args.collections, args.coarse_versions)
        seed(fake, "guard-all", args.collections, args.coarse_versions)

    with FakeWandbServer(fake) as server:
        os.environ.update(server.env())
        server.faults.add("*", latency=LATENCY_S)
        server.faults.rate_limit(args.limit, args.burst)
        print(
            f"fake W&B: +{LATENCY_S * 1e3:.0f} ms per request, {args.limit:.0f} requests/s per project "
            f"(burst {args.burst}); (b) at {args.rate:.0f} ops/s on {args.concurrency} threads"
        )
        print(f"per-version case: {args.collections} x {args.versions} versions, keep the newest {args.keep}")
        a = documented_loop(server, "loop", args.collections, args.keep, "(a) documented loop")
        print(a.line())
        b, _ = guarded(
            server,
            fake,
            "guard",
            ag.Policy(keep_last=args.keep),
            rate=args.rate,
            concurrency=args.concurrency,
            label="(b) artifact_guard.apply",
        )
        print(b.line())
        speedup = b.per_second / a.per_second if a.per_second else float("inf")
        share = 100.0 * b.throttled / b.requests if b.requests else 0.0
        ok1 = speedup >= 5 and share < 5 and b.deleted == a.deleted
        print(
            f"  speed-up {speedup:.1f}x (target >= 5x), 429 share {share:.1f}% (target < 5%): "
            f"{'PASS' if ok1 else 'MISS'}"
        )
        d, _ = guarded(
            server,
            fake,
            "guard-defaults",
            ag.Policy(keep_last=args.keep),
            rate=None,
            concurrency=None,
            label="(c) apply, defaults only",
        )
        print(d.line())
        d_speedup = d.per_second / a.per_second if a.per_second else float("inf")
        d_share = 100.0 * d.throttled / d.requests if d.requests else 0.0
        d_per = d.requests / max(1, d.deleted)
        ok1 = ok1 and d_speedup >= 5 and d_share < 5 and d.deleted == a.deleted and d_per <= 1.1
        print(
            f"  defaults: speed-up {d_speedup:.1f}x (target >= 5x), 429 share {d_share:.1f}% (target < 5%), "
            f"{d_per:.2f} requests per deleted version (target <= 1.1): "
            f"{'PASS' if d_speedup >= 5 and d_share < 5 and d_per <= 1.1 else 'MISS'}"
        )

        ok2 = True
        if not args.skip_coarse:
            print(f"coarse case: {args.collections} x {args.coarse_versions} versions, every one deleted")
            ca = documented_loop(server, "loop-all", args.collections, None, "(a) documented loop")
            print(ca.line())
            cb, result = guarded(
                server,
                fake,
                "guard-all",
                ag.Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True),
                rate=args.rate,
                concurrency=args.concurrency,
                label="(b) artifact_guard.apply",
            )
            print(cb.line())
            fewer = ca.requests / cb.requests if cb.requests else float("inf")
            ok2 = fewer >= 50 and cb.deleted == ca.deleted
            print(
                f"  {len(result.collections_deleted)} collection deletes saved {result.calls_saved} calls; "
                f"{fewer:.0f}x fewer requests (target >= 50x): {'PASS' if ok2 else 'MISS'}"
            )
    return 0 if ok1 and ok2 else 1


if __name__ == "__main__":
    sys.exit(main())
