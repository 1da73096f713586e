"""Benchmark listing (pagination) of the fake W&B server at project scale.

Builds a :class:`fakes.FakeWandb` per size (default 10k and 100k versions: half
in one big collection ``big``, the rest spread over ``--collections`` others, 3 by default), serves it,
and pages through

- the big collection, with the adapter's ``ArtifactGuardCollectionVersions``
  document (the same ``artifacts(after:, first:)`` field the SDK's
  ``api.artifacts(...)`` uses), by direct HTTP POSTs with the server's key;
- the whole project, the way ``WandbRepository.versions`` does
  (``ArtifactGuardProjectVersions``, then per-collection continuation pages);
- the big collection through the real SDK (``api.artifacts(type, name)``), at
  the sizes given by ``--sdk-max`` only (every SDK page crosses wandb-core).

For each it reports pages, total seconds, the median and p90 server time per
page (the server's own ``duration_ms``), and microseconds per listed item. The
last lines compare per-item time between the smallest and each larger size in
the same process: ~1x means linear paging (O(page) per page); a ratio that
grows with the size means each page costs O(collection).

    .venv/bin/python bench/fake_server_listing.py [--sizes 10000,100000] [--page 50]
        [--max-pages 0] [--pagination stable|offset] [--sdk-max 10000]

``--max-pages N`` stops each listing after N pages and extrapolates the total
from the per-item time (marked ``~``); use it when paging is slow.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from artifact_guard.adapters.wandb import COLLECTION_VERSIONS, LIST_VERSIONS
from fakes import FakeWandb
from fakes.server import FakeWandbServer

ENTITY, PROJECT, TYPE = "bench", "proj", "model"


def build(total: int, others: int) -> FakeWandb:
    """``total`` versions: half in ``big``, the rest round-robin over ``others`` other collections."""
    fake = FakeWandb()
    run = fake.create_run(f"{ENTITY}/{PROJECT}", "producer")
    big = total // 2
    for i in range(total):
        name = "big" if i < big else f"other-{i % others}"
        # (digest, size) files: no hashing, the build stays fast at 300k versions.
        fake.log_artifact(run, name, TYPE, {"w.bin": (f"d{i}", 4)})
    return fake


@dataclass
class Result:
    what: str
    items: int
    pages: int
    seconds: float
    server_ms: list[float]
    complete: bool

    @property
    def us_per_item(self) -> float:
        return self.seconds / max(self.items, 1) * 1e6


class Client:
    """Direct GraphQL POSTs to the fake, authenticated with its key (never printed)."""

    def __init__(self, server: FakeWandbServer) -> None:
        self.url = f"{server.url}/graphql"
        self.session = requests.Session()
        self.session.auth = ("api", server.api_key)

    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.url, json={"query": document, "variables": variables}, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


def collection_pages(
    client: Client, collection: str, page: int, cursor: str | None = None
) -> Iterator[tuple[int, str | None]]:
    """Yield ``(items on the page, next cursor or None)`` for one collection."""
    more = True
    while more:
        data = client.query(
            COLLECTION_VERSIONS,
            {
                "entity": ENTITY,
                "project": PROJECT,
                "type": TYPE,
                "collection": collection,
                "cursor": cursor,
                "perPage": page,
            },
        )
        arts = data["project"]["artifactType"]["artifactCollection"]["artifacts"]
        more = bool(arts["pageInfo"]["hasNextPage"])
        cursor = arts["pageInfo"]["endCursor"]
        yield len(arts["edges"]), cursor if more else None


def measure(
    server: FakeWandbServer, what: str, pages: Iterator[int], max_pages: int, expected: int
) -> Result:
    server.clear_requests()
    gc.collect()
    items = count = 0
    started = time.perf_counter()
    for n in pages:
        items += n
        count += 1
        if max_pages and count >= max_pages:
            break
    seconds = time.perf_counter() - started
    served = [r.duration_ms for r in server.requests if r.status == 200 and r.method == "POST"]
    return Result(what, items, count, seconds, served, items >= expected)


def project_pages(client: Client, page: int) -> Iterator[int]:
    """Page through the whole project as ``WandbRepository.versions`` does."""
    cursor: str | None = None
    while True:
        data = client.query(
            LIST_VERSIONS,
            {
                "entity": ENTITY,
                "project": PROJECT,
                "cursor": cursor,
                "perPage": 10,
                "versionsPerPage": page,
            },
        )
        conn = data["project"]["artifactCollections"]
        first_pages = 0
        continuations = []
        for edge in conn["edges"]:
            arts = edge["node"]["artifacts"]
            first_pages += len(arts["edges"])
            if arts["pageInfo"]["hasNextPage"]:
                continuations.append((edge["node"]["name"], arts["pageInfo"]["endCursor"]))
        yield first_pages
        for name, after in continuations:
            for n, _ in collection_pages(client, name, page, after):
                yield n
        if not conn["pageInfo"]["hasNextPage"]:
            return
        cursor = conn["pageInfo"]["endCursor"]


def sdk_pages(server: FakeWandbServer, page: int) -> Iterator[int]:
    import os

    os.environ.update(server.env())
    import wandb

    api = wandb.Api(timeout=60)
    seen = 0
    for _ in api.artifacts(TYPE, f"{ENTITY}/{PROJECT}/big", per_page=page):
        seen += 1
        if seen == page:
            yield seen
            seen = 0
    if seen:
        yield seen


def report(r: Result) -> None:
    med = statistics.median(r.server_ms) if r.server_ms else float("nan")
    p90 = statistics.quantiles(r.server_ms, n=10)[-1] if len(r.server_ms) > 1 else med
    mark = "" if r.complete else "~"
    total = r.seconds if r.complete else float("nan")
    print(
        f"  {r.what:34} {r.items:>8} items {r.pages:>6} pages  total {total:8.2f} s  "
        f"server/page median {med:7.2f} ms p90 {p90:7.2f} ms  {mark}{r.us_per_item:8.1f} us/item"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated version counts")
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--max-pages", type=int, default=0, help="0: page to the end")
    parser.add_argument("--pagination", choices=("stable", "offset"), default="stable")
    parser.add_argument("--collections", type=int, default=3, help="collections besides the big one")
    parser.add_argument("--sdk-max", type=int, default=10_000, help="largest size paged through the SDK")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    print(f"fake server listing benchmark: page {args.page}, pagination {args.pagination}")
    per_item: dict[str, dict[int, float]] = {}
    for size in sizes:
        t0 = time.perf_counter()
        fake = build(size, args.collections)
        built = time.perf_counter() - t0
        shape = f"big: {size // 2}, {args.collections} other collections"
        print(f"{size} versions ({shape}); built in {built:.1f} s")
        with FakeWandbServer(fake, pagination=args.pagination) as server:
            client = Client(server)
            cases: list[tuple[str, Callable[[], Iterator[int]], int]] = [
                (
                    "big collection (HTTP)",
                    lambda c=client: (n for n, _ in collection_pages(c, "big", args.page)),
                    size // 2,
                ),
                ("whole project (HTTP, adapter)", lambda c=client: project_pages(c, args.page), size),
            ]
            if size <= args.sdk_max:
                cases.append(("big collection (SDK)", lambda s=server: sdk_pages(s, args.page), size // 2))
            for what, pages, expected in cases:
                result = measure(server, what, pages(), args.max_pages, expected)
                report(result)
                per_item.setdefault(what, {})[size] = result.us_per_item
        del fake
        gc.collect()
    for what, by_size in per_item.items():
        base_size = min(by_size)
        for size in sorted(by_size):
            if size != base_size:
                ratio = by_size[size] / by_size[base_size]
                print(
                    f"{what}: per-item time at {size} / at {base_size} = {ratio:.2f}x "
                    f"(size ratio {size / base_size:.0f}x; ~1x means O(page) per page)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
