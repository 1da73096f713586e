"""Indexed listing pages answer exactly what whole-listing pagination answers, in both cursor styles.

``CollectionView.artifacts`` pages a sequence from FakeWandb's per-collection
index (O(log n + page)); when the backend declines (``collection_page`` returns
None) it lists the whole collection and slices it, the original path. These
tests run both on the same state, page after page, with the collection
modified between pages, and require identical answers; then they check over
HTTP that a cursor kept across a modification behaves per its style.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from artifact_guard._model import Scope, VersionState
from fakes import FakeWandb
from fakes.server import FakeWandbServer
from fakes.server._handlers import ArtifactTypeView, CollectionView, Context, Pagination, ProjectView

pytestmark = [pytest.mark.server, pytest.mark.timeout(60)]

FILTERS = (None, json.dumps({"state": "COMMITTED"}), json.dumps({"$and": [{"state": "PENDING"}]}))


def _snapshot(conn: dict[str, Any]) -> dict[str, Any]:
    """A connection with its view objects replaced by what they name."""
    return {
        "totalCount": conn["totalCount"],
        "pageInfo": conn["pageInfo"],
        "edges": [(e["cursor"], e["node"].id, e["node"].state, e.get("version")) for e in conn["edges"]],
    }


def _whole_listing(fake: FakeWandb) -> Any:
    """``fake.collection_page`` as a collection that cannot be indexed answers: the fallback path."""

    def declined(*args: Any, **kwargs: Any) -> None:
        return None

    return declined


def _mutate(fake: FakeWandb, run: str, rng: random.Random) -> None:
    """Delete a few live versions (seen or not), commit a pending one, log new ones."""
    live = fake.collection_versions("team/proj/model")
    for v in rng.sample(live, min(len(live), rng.randint(0, 4))):
        fake.delete_version(v.id, delete_aliases=True)
    pending = [v for v in fake.collection_versions("team/proj/model") if v.state is VersionState.PENDING]
    if pending and rng.random() < 0.5:
        fake.commit(rng.choice(pending).id)
    for _ in range(rng.randint(0, 2)):
        state = VersionState.PENDING if rng.random() < 0.3 else VersionState.COMMITTED
        fake.log_artifact(run, "model", "model", {"w": rng.randbytes(4)}, state=state)


@pytest.mark.parametrize("pagination", ["stable", "offset"])
@pytest.mark.parametrize("order", [None, "+createdAt"])
@pytest.mark.parametrize("filters", FILTERS)
def test_indexed_pages_equal_whole_listing_pages_while_modified(
    pagination: Pagination, order: str | None, filters: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seed in range(4):
        rng = random.Random(seed)
        fake = FakeWandb()
        run = fake.create_run("team/proj", "r1").path
        for i in range(rng.randint(0, 40)):
            state = VersionState.PENDING if i % 7 == 3 else VersionState.COMMITTED
            fake.log_artifact(run, "model", "model", {"w": bytes([i])}, state=state)
        if not fake.collections("team/proj"):
            fake.log_artifact(run, "model", "model", {"w": b"first"})
        view = CollectionView(Context(fake, "", pagination), fake.collection_info("team/proj/model"))
        indexed = fake.collection_page
        cursor: str | None = None
        for _ in range(30):
            first = rng.choice([0, 1, 3, 7, None])
            got = _snapshot(view.artifacts(after=cursor, first=first, order=order, filters=filters))
            monkeypatch.setattr(fake, "collection_page", _whole_listing(fake))
            want = _snapshot(view.artifacts(after=cursor, first=first, order=order, filters=filters))
            monkeypatch.setattr(fake, "collection_page", indexed)
            assert got == want, (seed, cursor, first)
            if not got["pageInfo"]["hasNextPage"]:
                break
            cursor = got["pageInfo"]["endCursor"]
            _mutate(fake, run, rng)


def _add_collections(fake: FakeWandb, run: str, rng: random.Random, count: int) -> None:
    for _ in range(count):
        kind = rng.choice(["model", "dataset"])
        name = f"{kind}-{rng.randrange(10**6)}"
        fake.log_artifact(run, name, kind, {"w": rng.randbytes(3)})
        # A collection of another project in between: listings stay per project.
        fake.log_artifact("team/other/r2", name, kind, {"w": b"x"})


@pytest.mark.parametrize("pagination", ["stable", "offset"])
@pytest.mark.parametrize("order", [None, "+createdAt", "-createdAt"])
@pytest.mark.parametrize("level", ["project", "type"])
def test_indexed_collection_pages_equal_whole_listing_pages_while_added_to(
    pagination: Pagination, order: str | None, level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seed in range(4):
        rng = random.Random(seed)
        fake = FakeWandb()
        run = fake.create_run("team/proj", "r1").path
        fake.create_run("team/other", "r2")
        _add_collections(fake, run, rng, rng.randint(0, 25))
        scope = Scope("team", "proj")
        ctx = Context(fake, "", pagination)
        listing = ProjectView(ctx, scope) if level == "project" else ArtifactTypeView(ctx, scope, "model")
        indexed = fake.collections_page
        cursor: str | None = None
        for _ in range(30):
            first = rng.choice([0, 1, 2, 5, None])
            got = listing.artifactCollections(after=cursor, first=first, order=order)
            monkeypatch.setattr(fake, "collections_page", lambda *a, **k: None)
            want = listing.artifactCollections(after=cursor, first=first, order=order)
            monkeypatch.setattr(fake, "collections_page", indexed)
            for conn in (got, want):
                conn["edges"] = [(e["cursor"], e["node"].id) for e in conn["edges"]]
            assert got == want, (seed, cursor, first)
            if not got["pageInfo"]["hasNextPage"]:
                break
            cursor = got["pageInfo"]["endCursor"]
            _add_collections(fake, run, rng, rng.randint(0, 2))


def test_memberships_and_resolve_use_the_index_and_agree() -> None:
    fake = FakeWandb()
    run = fake.create_run("team/proj", "r1")
    versions = [fake.log_artifact(run, "model", "model", {"w": bytes([i])}) for i in range(12)]
    fake.delete_version(versions[4].id)
    view = CollectionView(Context(fake, ""), fake.collection_info("team/proj/model"))
    conn = view.artifactMemberships(first=5)
    assert [e["node"].index for e in conn["edges"]] == [11, 10, 9, 8, 7]
    assert conn["totalCount"] == 11 and conn["pageInfo"]["hasNextPage"]
    conn = view.artifactMemberships(after=conn["pageInfo"]["endCursor"], first=5)
    assert [e["node"].index for e in conn["edges"]] == [6, 5, 3, 2, 1]
    assert fake.resolve("team/proj/model:v3").id == versions[3].id
    with pytest.raises(Exception, match="not found"):
        fake.resolve("team/proj/model:v4")  # deleted
    with pytest.raises(Exception, match="not found"):
        fake.resolve("team/proj/model:v12")  # never made


def test_restored_out_of_order_collection_falls_back_to_the_whole_listing() -> None:
    fake = FakeWandb()
    run = fake.create_run("team/proj", "r1")
    late = fake.log_artifact(run, "model", "model", {"w": b"a"})
    early = fake.log_artifact(run, "model", "model", {"w": b"b"})
    other = FakeWandb()
    from dataclasses import replace

    # Restore v1 then v0 of the same collection: insertion order is not index order.
    other.restore(runs=[run], versions=[(replace(early), ())], consumers={}, links=[])
    other.restore(runs=[], versions=[(replace(late, id="QXJ0aWZhY3Q6OTk="), ())], consumers={}, links=[])
    assert other.collection_page("team/proj/model", limit=5) is None
    view = CollectionView(Context(other, ""), other.collection_info("team/proj/model"))
    conn = view.artifacts(first=5)
    assert conn["totalCount"] == 2 and len(conn["edges"]) == 2


# ---------------------------------------------------------------------- over HTTP, per style

VERSIONS = """
query Versions($cursor: String, $perPage: Int) {
  project(entityName: "team", name: "proj") {
    artifactType(name: "model") {
      artifactCollection(name: "model") {
        artifacts(after: $cursor, first: $perPage) {
          totalCount
          pageInfo { endCursor hasNextPage }
          edges { version }
        }
      }
    }
  }
}
"""


def _page(server: FakeWandbServer, cursor: str | None, per_page: int) -> dict[str, Any]:
    import urllib.request

    body = json.dumps({"query": VERSIONS, "variables": {"cursor": cursor, "perPage": per_page}}).encode()
    req = urllib.request.Request(server.url + "/graphql", data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + server.api_key)
    with urllib.request.urlopen(req, timeout=10) as resp:
        conn: dict[str, Any] = json.loads(resp.read())["data"]["project"]["artifactType"][
            "artifactCollection"
        ]["artifacts"]
    return conn


@pytest.mark.parametrize("pagination", ["stable", "offset"])
def test_a_cursor_kept_across_a_modification_behaves_per_its_style(
    fresh: FakeWandbServer, pagination: Pagination
) -> None:
    fake = fresh.fake
    run = fake.create_run("team/proj", "r1")
    ids = [fake.log_artifact(run, "model", "model", {"w": bytes([i])}).id for i in range(20)]
    fresh.set_pagination(pagination)
    try:
        first = _page(fresh, None, 5)
        assert [e["version"] for e in first["edges"]] == ["v19", "v18", "v17", "v16", "v15"]
        # Between pages: delete three seen versions and one unseen (v13), log a new one (v20).
        for i in (19, 17, 16, 13):
            fake.delete_version(ids[i], delete_aliases=True)
        fake.log_artifact(run, "model", "model", {"w": b"new"})
        second = _page(fresh, first["pageInfo"]["endCursor"], 5)
    finally:
        fresh.set_pagination("stable")
    got = [e["version"] for e in second["edges"]]
    assert second["totalCount"] == 17
    if pagination == "stable":
        # Right after v15, the last item seen: nothing skipped, nothing repeated, v20 not pulled in.
        assert got == ["v14", "v12", "v11", "v10", "v9"]
    else:
        # Offset 5 of the listing as it is now (v20 v18 v15 v14 v12 | v11 ...): v14 and v12 skipped.
        assert got == ["v11", "v10", "v9", "v8", "v7"]
    assert second["pageInfo"]["hasNextPage"]


def test_run_outputs_index_agrees_with_a_scan_after_logs_deletes_and_restore() -> None:
    fake = FakeWandb()
    a = fake.create_run("team/proj", "a")
    b = fake.create_run("team/proj", "b")
    for i in range(9):
        fake.log_artifact(a if i % 3 else b, f"c{i % 2}", "model", {"w": bytes([i])})
    fake.delete_run(b, delete_artifacts=True)
    restored = FakeWandb()
    restored.restore(
        runs=fake.runs(),
        versions=[(v, fake.manifest(v.id)) for v in fake.versions(include_deleted=True)],
        consumers={},
        links=[],
    )
    for f in (fake, restored):
        for path in ("team/proj/a", "team/proj/b"):
            scan = [v for v in f.versions(include_deleted=True) if v.producer == path]
            if path == "team/proj/b":
                assert scan and all(v.state is VersionState.DELETED for v in scan)
                continue  # the run is gone: run_outputs refuses it
            assert f.run_outputs(path) == scan


# ---------------------------------------------------------------------- usedBy and registry versions


def _forbid(monkeypatch: pytest.MonkeyPatch, fake: FakeWandb, *names: str) -> None:
    """Make whole-listing reads fail: a page must come from the indexes."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a page was built from the whole listing")

    for name in names:
        monkeypatch.setattr(fake, name, refuse)


def test_used_by_pages_from_the_use_record_and_skips_no_consumer_while_runs_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fakes.server._handlers import ArtifactView

    for seed in range(6):
        rng = random.Random(seed)
        fake = FakeWandb()
        producer = fake.create_run("team/proj", "p")
        v = fake.log_artifact(producer, "model", "model", {"w": b"1"})
        users = [fake.create_run("team/proj", f"u{i}") for i in range(rng.randint(0, 30))]
        for u in users:
            fake.use_artifact(u, v)
        survivors = {u.path for u in users}
        view = ArtifactView(Context(fake, ""), v)
        real_lineage = fake.lineage
        _forbid(monkeypatch, fake, "lineage")
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(60):
            conn = view.usedBy(after=cursor, first=rng.choice([1, 2, 5, None]))
            seen.extend(e["node"].run.path for e in conn.edges)
            if not conn.pageInfo["hasNextPage"]:
                break
            cursor = conn.pageInfo["endCursor"]
            # delete runs already seen and runs not yet seen, between pages
            for gone in rng.sample(sorted(survivors), min(len(survivors), rng.randint(0, 2))):
                fake.delete_run(gone)
                survivors.discard(gone)
        monkeypatch.setattr(fake, "lineage", real_lineage)
        # then every consumer that lived to the end was listed, once, in use order
        order = [u.path for u in users]
        assert len(seen) == len(set(seen))
        assert survivors <= set(seen)
        assert seen == sorted(seen, key=order.index)
        assert view.usedBy().totalCount() == len(survivors)


def _registry_world(rng: random.Random) -> tuple[FakeWandb, list[Any]]:
    fake = FakeWandb()
    run = fake.create_run("team/proj", "r")
    versions = [fake.log_artifact(run, "model", "model", {"w": bytes([i])}) for i in range(12)]
    for c in range(rng.randint(1, 5)):
        registry = rng.choice(["wandb-registry-model", "wandb-registry-data"])
        for v in rng.sample(versions, rng.randint(0, 8)):
            fake.link(v, f"team/{registry}/c{c}")
    fake.link(versions[0], "other/wandb-registry-model/elsewhere")  # another entity: never listed
    return fake, versions


def _registry_listing(fake: FakeWandb) -> list[tuple[str, int]]:
    """The whole listing, computed independently: collections in creation order, links newest first."""
    out = []
    for info in fake.registry_portfolios("team"):
        out.extend((str(info.ref), link.index) for link in fake.portfolio_links(info.ref))
    return out


@pytest.mark.parametrize("pagination", ["stable", "offset"])
def test_registry_versions_page_from_the_link_index_per_cursor_style(
    pagination: Pagination, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.server._handlers import EntityView

    for seed in range(8):
        rng = random.Random(seed)
        fake, versions = _registry_world(rng)
        entity = EntityView(Context(fake, "", pagination), "team")
        portfolio_links = fake.portfolio_links
        # given no change between pages: the pages are the whole listing, in order, exactly
        _forbid(monkeypatch, fake, "portfolio_links")
        got: list[tuple[str, int]] = []
        cursor: str | None = None
        for _ in range(100):
            conn = entity.artifactMemberships(after=cursor, first=rng.choice([1, 2, 3, 7, None]))
            got.extend((str(e["node"].link.portfolio), e["node"].link.index) for e in conn.edges)
            if not conn.pageInfo["hasNextPage"]:
                break
            cursor = conn.pageInfo["endCursor"]
        monkeypatch.setattr(fake, "portfolio_links", portfolio_links)
        assert got == _registry_listing(fake)
        assert entity.artifactMemberships().totalCount() == len(got)

        # when links are removed between pages
        before = _registry_listing(fake)
        seen: list[tuple[str, int]] = []
        cursor = None
        for _ in range(100):
            conn = entity.artifactMemberships(after=cursor, first=2)
            seen.extend((str(e["node"].link.portfolio), e["node"].link.index) for e in conn.edges)
            if not conn.pageInfo["hasNextPage"]:
                break
            cursor = conn.pageInfo["endCursor"]
            candidates = [lk for v in versions for lk in fake.links(v.id) if lk.portfolio.entity == "team"]
            if candidates and rng.random() < 0.7:
                fake.unlink(rng.choice(candidates))
        after_all = set(_registry_listing(fake))
        if pagination == "stable":
            # then stable cursors skip nothing that survived
            assert after_all <= set(seen)
        assert len(seen) == len(set(seen)) and set(seen) <= set(before)


def test_registry_version_filters_narrow_pages_without_losing_items(monkeypatch: pytest.MonkeyPatch) -> None:
    from fakes.server._handlers import EntityView

    rng = random.Random(3)
    fake, versions = _registry_world(rng)
    fake.link(versions[5], "team/wandb-registry-model/tagged", aliases=["gold"])
    entity = EntityView(Context(fake, ""), "team")
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        conn = entity.artifactMemberships(after=cursor, first=1, filters=json.dumps({"alias": "gold"}))
        seen.extend(e["node"].link.index for e in conn.edges)
        if not conn.pageInfo["hasNextPage"]:
            break
        cursor = conn.pageInfo["endCursor"]
    assert len(seen) == sum("gold" in link.aliases for v in versions for link in fake.links(v.id))


def test_a_collection_looked_up_by_exact_name_is_found_without_listing_the_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeWandb()
    run = fake.create_run("team/proj", "r1").path
    for i in range(30):
        fake.log_artifact(run, f"c{i:02d}", "model", {"w": bytes([i])})
    view = ProjectView(Context(fake, ""), Scope("team", "proj"))
    _forbid(monkeypatch, fake, "collection_infos")
    conn = view.artifactCollections(filters=json.dumps({"name": "c07"}), first=2)
    assert [e["node"].name for e in conn["edges"]] == ["c07"] and conn["totalCount"] == 1
    assert view.artifactCollections(filters=json.dumps({"name": "nope"}))["edges"] == []


@pytest.mark.parametrize("order", [None, "createdAt", "-createdAt"])
def test_registry_collection_pages_merge_the_registries_in_creation_order(
    order: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.server._handlers import EntityView

    for seed in range(6):
        rng = random.Random(seed)
        fake = FakeWandb()
        run = fake.create_run("team/proj", "r")
        v = fake.log_artifact(run, "model", "model", {"w": b"1"})
        for c in range(rng.randint(0, 25)):
            fake.link(v, f"team/{rng.choice(['wandb-registry-a', 'wandb-registry-b'])}/c{c:02d}")
        fake.add_collection_tags("team/proj/model", ["x"])  # a source collection: never listed
        entity = EntityView(Context(fake, ""), "team")
        # the whole listing, computed independently
        everything = sorted(
            (i for r in fake.registries("team") for i in fake.collection_infos(r.scope)),
            key=lambda i: int(__import__("base64").b64decode(i.id).decode().split(":")[1]),
            reverse=order != "createdAt",
        )
        real_infos = fake.collection_infos
        _forbid(monkeypatch, fake, "collection_infos")  # pages must not list every collection
        got: list[str] = []
        cursor: str | None = None
        for _ in range(60):
            conn = entity.artifactCollections(after=cursor, first=rng.choice([1, 2, 5, None]), order=order)
            got.extend(e["node"].name for e in conn.edges)
            if not conn.pageInfo["hasNextPage"]:
                break
            cursor = conn.pageInfo["endCursor"]
            fake.link(v, f"team/wandb-registry-b/late-{len(got)}")  # a newer collection appears meanwhile
        monkeypatch.setattr(fake, "collection_infos", real_infos)
        names = [i.ref.name for i in everything]
        # then every collection that existed at the start is listed once, in order
        assert [n for n in got if not n.startswith("late-")] == names
        assert len(got) == len(set(got))
        # and a filter narrows it without losing any
        tagged = entity.artifactCollections(filters=json.dumps({"name": {"$regex": "^c0"}}), order=order)
        assert [e["node"].name for e in tagged.edges] == [n for n in names if n.startswith("c0")]
