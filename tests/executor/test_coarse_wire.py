"""Whole-collection deletes through WandbRepository, the real SDK and the fake server: the wire."""

from __future__ import annotations

from collections import Counter

import pytest

import artifact_guard as ag
from artifact_guard import CollectionRef, Policy, VersionState
from fakes import FakeWandb
from fakes.server import FakeWandbServer

from ._support import PROJECT, seed

pytestmark = pytest.mark.server

EMPTYING = Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)


def _repository(server: FakeWandbServer) -> ag.ArtifactRepository:
    from artifact_guard.adapters.wandb import WandbRepository

    return WandbRepository(api_key=server.api_key, base_url=server.url, timeout=15)


@pytest.mark.timeout(120)
def test_emptying_collections_lists_once_and_sends_one_request_per_collection() -> None:
    fake = seed(FakeWandb(), collections={"ckpt": 30, "data": 12, "eval": 7})  # W&B's clock: the wall clock
    with FakeWandbServer(fake) as server:
        repo = _repository(server)
        plan = ag.plan(repo, PROJECT, EMPTYING, now=fake.now())
        server.clear_requests()

        result = ag.apply(plan, repo)

        ops = Counter(r.operation for r in server.requests)
    assert result.ok, result.summary()
    assert sorted(result.collections_deleted) == [f"{PROJECT}/{c}" for c in ("ckpt", "data", "eval")]
    assert fake.versions(scope=PROJECT) == []
    # The collection checks and the reference check share one listing; each collection's id comes
    # from it, so a collection goes in exactly one request, with no look-up by name before it.
    assert ops["ArtifactGuardProjectVersions"] == 1
    assert ops["ArtifactGuardCollection"] == 0
    assert ops["DeleteArtifactSequence"] == 3
    assert sum(ops.values()) <= 5, ops  # + the preflight's project look-up


@pytest.mark.timeout(120)
def test_a_collection_delete_by_a_listed_id_touches_only_that_collection() -> None:
    # The id is the collection's for good: the versions logged to it since the listing go with it
    # (as with a delete by name), while a collection of the same name in another project is untouched.
    fake = seed(FakeWandb(), collections={"ckpt": 3})
    other = "team-b/proj"
    run = fake.create_run(other, "trainer")
    kept = fake.log_artifact(run, "ckpt", "model", {"w.bin": b"other"})
    with FakeWandbServer(fake) as server:
        repo = _repository(server)
        list(repo.versions(ag.Scope.parse(PROJECT)))
        list(repo.versions(ag.Scope.parse(other)))
        server.clear_requests()
        repo.delete_collection(CollectionRef.parse(f"{PROJECT}/ckpt"))
        sent = [r.operation for r in server.requests]
        # A second delete of the same collection is looked up afresh (the id was forgotten).
        server.clear_requests()
        repo.delete_collection(CollectionRef.parse(f"{PROJECT}/ckpt"))
        again = [r.operation for r in server.requests]
    assert sent == ["DeleteArtifactSequence"]
    assert again[0] == "ArtifactGuardCollection"
    assert fake.versions(scope=PROJECT) == []
    assert fake.version(kept.id).state is VersionState.COMMITTED
