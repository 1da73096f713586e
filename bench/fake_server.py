"""Benchmark the fake W&B server through the real wandb SDK.

Reports, per GraphQL operation, the median round trip of an SDK call (Python
-> wandb-core -> loopback HTTP -> fake -> back) and the server's own share,
then the time of 1,000 sequential ``Artifact.delete()`` calls.

    .venv/bin/python bench/fake_server.py [--deletes 1000] [--repeat 200]

Target: median round trip <= 3 ms per operation on loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes import FakeWandb
from fakes.server import FakeWandbServer

TARGET_MS = 3.0


def build(fake: FakeWandb, deletes: int) -> None:
    run = fake.create_run("bench/proj", "producer")
    user = fake.create_run("bench/proj", "consumer")
    for i in range(60):
        v = fake.log_artifact(run, "model", "model", {"w.bin": i.to_bytes(4, "big"), "cfg": b"c"})
        if i % 10 == 0:
            fake.use_artifact(user, v)
        if i % 2 == 0:
            # A registry of 30 linked versions: the SDK's registry listings are single calls too.
            fake.link(v, "bench/wandb-registry-model/champ", aliases=["production"] if i == 58 else ())
    fake.add_protected_aliases("bench", ["production"])
    for i in range(deletes):
        fake.log_artifact(run, "doomed", "model", {"w.bin": i.to_bytes(4, "big")})


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e3)
    return out


def in_process(fake: FakeWandb, repeat: int) -> None:
    """The fake's own share of the listing pages, without HTTP or the SDK: what the server can improve."""
    import wandb.sdk.artifacts._generated as art

    from fakes.server._graphql import run_graphql
    from fakes.server._handlers import Context

    ctx = Context(fake, "http://bench")
    pages = {
        "ProjectArtifacts (page of 50)": (
            art.PROJECT_ARTIFACTS_GQL,
            {"entity": "bench", "project": "proj", "type": "model", "collection": "model"},
        ),
        "RegistryVersions (page of 30)": (
            art.REGISTRY_VERSIONS_GQL,
            {"organization": "bench", "perPage": 100},
        ),
    }
    print("in-process GraphQL execution (no HTTP, no SDK):")
    for name, (query, variables) in pages.items():
        payload = {"query": query, "variables": variables}
        run_graphql(ctx, payload)  # warm up: parse and validate once
        samples = timed(lambda payload=payload: run_graphql(ctx, payload), repeat)
        print(f"  {name:30} median {statistics.median(samples):.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deletes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)

    fake = FakeWandb()
    build(fake, args.deletes)
    with FakeWandbServer(fake) as server:
        os.environ.update(server.env())
        import wandb
        from wandb.sdk.artifacts import artifact as artifact_module

        api = wandb.Api(timeout=30)
        best = api.artifact("bench/proj/model:v50")
        vid = best.id
        assert vid is not None

        def by_id() -> None:
            artifact_module.artifact_instance_cache.clear()
            api._artifact_from_id(vid)

        cases: dict[str, Callable[[], Any]] = {
            "ArtifactMembershipByName": lambda: api.artifact("bench/proj/model:v42"),
            "ArtifactByID": by_id,
            "ProjectArtifacts (page of 50)": lambda: next(iter(api.artifacts("model", "bench/proj/model"))),
            "ArtifactUsedBy": best.used_by,
            "ArtifactCreatedBy": best.logged_by,
            "FetchArtifactManifest + GET": best._fetch_manifest,
            "ProjectArtifactCollections": lambda: list(api.artifact_collections("bench/proj", "model")),
            "FetchRegistry": lambda: api.registry("model", organization="bench"),
            "FetchRegistries (page)": lambda: next(iter(api.registries(organization="bench"))),
            "RegistryCollections (page)": lambda: next(
                iter(api.registries(organization="bench").collections())
            ),
            "RegistryVersions (page of 30)": lambda: next(
                iter(api.registries(organization="bench").versions())
            ),
        }
        print(f"fake W&B server benchmark, wandb {wandb.__version__}, {args.repeat} calls each")
        print(f"{'operation':32} {'median ms':>10} {'p90 ms':>8} {'server ms':>10}  target {TARGET_MS} ms")
        misses = []
        for name, fn in cases.items():
            fn()  # warm up: first calls pay for connection set-up and caches
            server.clear_requests()
            samples = timed(fn, args.repeat)
            served = [r.duration_ms for r in server.requests if r.status == 200]
            median = statistics.median(samples)
            p90 = statistics.quantiles(samples, n=10)[-1]
            if median > TARGET_MS:
                misses.append(f"{name} ({median:.2f} ms, server {statistics.median(served):.2f} ms)")
            srv = statistics.median(served) if served else float("nan")
            verdict = "PASS" if median <= TARGET_MS else "MISS"
            print(f"{name:32} {median:10.2f} {p90:8.2f} {srv:10.2f}  {verdict}")

        in_process(fake, args.repeat)

        versions = list(api.artifacts("model", "bench/proj/doomed", per_page=100))
        server.clear_requests()
        started = time.perf_counter()
        each = []
        for v in versions:
            t0 = time.perf_counter()
            v.delete(delete_aliases=True)
            each.append((time.perf_counter() - t0) * 1e3)
        total = time.perf_counter() - started
        deleted = sum(1 for r in server.requests if r.operation == "DeleteArtifact" and r.status == 200)
        left = len(fake.collection_versions("bench/proj/doomed"))
        print(
            f"{len(versions)} sequential delete() calls: {total:.2f} s total, "
            f"median {statistics.median(each):.2f} ms each; {deleted} deleted, {left} left"
        )
        if misses:
            print(f"over the {TARGET_MS} ms target: " + "; ".join(misses))
        else:
            print(f"every operation's median round trip is within the {TARGET_MS} ms target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
