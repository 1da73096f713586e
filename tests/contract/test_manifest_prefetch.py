"""Manifests fetched ahead through the SDK: one pipeline across collections, each manifest read once.

``WandbRepository.prefetch_manifests`` is the optional read the planner and the executor call
before reading many manifests. These tests pin what it costs (from the fake server's log), what a
PENDING version's manifest fetched ahead is good for, and that failures and vanished versions
behave as a plain :meth:`manifest` read does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import NotFoundError, Policy, Scope, TransientError, plan
from artifact_guard.adapters.wandb import WandbRepository
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo

from .conftest import settled, wandb_repository

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def _listed(fake_server: Any, **options: Any) -> tuple[Any, list[str]]:
    """A repository that has listed the demo project, and the ids it listed (every collection)."""
    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100, **options)
    ids = [v.id for v in repo.versions(Scope.parse(DEMO_PROJECT))]
    settled(fake_server)
    fake_server.clear_requests()
    return repo, ids


def _ops(fake_server: Any, name: str) -> list[Any]:
    return [r for r in settled(fake_server) if r.operation == name]


def test_a_prefetch_looks_up_full_batches_of_50_across_collections_then_reads_answer_from_memory(
    fake_server: Any,
) -> None:
    # given a listed project of several collections, none of them a multiple of 50 versions
    repo, ids = _listed(fake_server)
    assert len({fake_server.fake.version(v).collection for v in ids}) > 1

    # when every manifest is fetched ahead
    told: list[int] = []
    repo.progress = lambda what, total: told.append(total) if what == "manifests" else None
    repo.prefetch_manifests(ids)

    # then progress advanced while it ran, one running total per download (threads report in any order)
    assert sorted(told) == list(range(1, len(ids) + 1))

    # and the look-ups are full batches across collections, and each manifest is downloaded once
    assert len(_ops(fake_server, "ArtifactGuardManifestUrls")) == -(-len(ids) // 50)
    assert sorted(r.variables["id"] for r in _ops(fake_server, "GET manifest")) == sorted(ids)
    assert {r.operation for r in settled(fake_server)} == {"ArtifactGuardManifestUrls", "GET manifest"}

    # and reading them afterwards sends nothing, and says what the server holds
    fake_server.clear_requests()
    assert [repo.manifest(v) for v in ids] == [fake_server.fake.manifest(v) for v in ids]
    assert settled(fake_server) == []


def test_a_pending_manifest_fetched_ahead_is_handed_to_its_next_read_once(fake_server: Any) -> None:
    # given a PENDING version (still uploading: never cached) fetched ahead with the others
    repo, ids = _listed(fake_server)
    pending = next(v for v in ids if fake_server.fake.version(v).state.value == "PENDING")
    repo.prefetch_manifests(ids)
    settled(fake_server)

    # when it is read: no second download (a prefetch that dropped it would double its cost)
    fake_server.clear_requests()
    assert repo.manifest(pending) == fake_server.fake.manifest(pending)
    assert settled(fake_server) == []

    # then a later read asks W&B again, as for any PENDING manifest
    assert repo.manifest(pending) == fake_server.fake.manifest(pending)
    assert [r.operation for r in settled(fake_server)] == ["ArtifactGuardManifestUrls", "GET manifest"]


def test_a_version_unknown_to_the_server_is_named_by_manifest_not_by_the_prefetch(fake_server: Any) -> None:
    # given a prefetch that includes an id W&B does not know (gone since the listing)
    repo, ids = _listed(fake_server)
    gone = "QXJ0aWZhY3Q6OTk5OTk5"
    repo.prefetch_manifests([*ids[:10], gone, *ids[10:]])
    settled(fake_server)

    # then the others were fetched, and reading the gone one names it
    fake_server.clear_requests()
    assert all(repo.manifest(v) == fake_server.fake.manifest(v) for v in ids)
    with pytest.raises(NotFoundError, match=gone):
        repo.manifest(gone)
    assert settled(fake_server) == []  # the look-up already said so


def test_a_version_deleted_between_the_listing_and_the_prefetch_is_read_once_and_planned(
    fake_server: Any,
) -> None:
    # given a version soft-deleted after the plan's listing (W&B still serves a deleted version's manifest)
    fake_server.reset()
    seed_demo(fake_server.fake)
    policy = Policy(keep_last=5)
    victim = next(
        d.version for d in plan(fake_server.fake.repository(), DEMO_PROJECT, policy, now=DEMO_NOW).deletions
    )

    class DeletesAfterListing:
        """The adapter, but the victim is deleted on the server right after the listing."""

        def __init__(self, inner: WandbRepository) -> None:
            self.inner = inner

        def versions(self, scope: Scope) -> Any:
            listed = list(self.inner.versions(scope))
            fake_server.fake.delete_version(victim.id, delete_aliases=True)
            return iter(listed)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    # when planned through the SDK: the manifest is read as before, the plan names the version
    repo = DeletesAfterListing(wandb_repository(fake_server, page_size=100))
    seen = plan(repo, DEMO_PROJECT, policy, now=DEMO_NOW)  # type: ignore[arg-type]
    assert seen.decision(victim.id).version.id == victim.id
    assert sum(r.variables.get("id") == victim.id for r in _ops(fake_server, "GET manifest")) == 1


def test_a_failed_look_up_raises_an_artifact_guard_error_and_leaves_nothing_half_claimed(
    fake_server: Any,
) -> None:
    from fakes.server import FaultRule

    # given every manifest look-up failing (wandb-core retries 503 until its timeout)
    repo, ids = _listed(fake_server, timeout=2)
    fake_server.faults.add_rule(FaultRule(operation="ArtifactGuardManifestUrls", status=503))
    try:
        with pytest.raises(TransientError):
            repo.prefetch_manifests(ids)
    finally:
        fake_server.faults.clear()

    # then a read right after neither waits for a claim the failed prefetch left behind nor misses
    started = time.monotonic()
    assert repo.manifest(ids[-1]) == fake_server.fake.manifest(ids[-1])
    assert time.monotonic() - started < 6  # a leaked claim makes a reader wait 4 x timeout (8 s)


def test_a_failed_download_mid_prefetch_raises_its_error_and_leaves_nothing_half_claimed(
    fake_server: Any,
) -> None:
    # given a download that fails (storage refused) among many
    repo, ids = _listed(fake_server)
    broken = ids[len(ids) // 2]
    real = repo._download_json

    def download(url: str, doing: str) -> Any:
        if broken in doing:
            raise TransientError(f"storage refused while trying to {doing}")
        return real(url, doing)

    repo._download_json = download  # type: ignore[method-assign]

    # when they are fetched ahead: the artifact-guard error surfaces from the pool, naming the version
    with pytest.raises(TransientError, match=broken):
        repo.prefetch_manifests(ids)
    repo._download_json = real  # type: ignore[method-assign]

    # then every version reads normally, none waiting on a claim the failed prefetch left behind
    started = time.monotonic()
    assert all(repo.manifest(v) == fake_server.fake.manifest(v) for v in ids)
    assert time.monotonic() - started < 30


def test_a_prefetch_holds_a_bounded_window_whatever_the_number_of_versions(
    fake_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artifact_guard.adapters.wandb as adapter

    # given a small window and queue, so that the demo's 290 versions span several of each
    monkeypatch.setattr(adapter, "_PREFETCH_WINDOW", 60)
    monkeypatch.setattr(adapter, "_MAX_QUEUED", 40)
    repo, ids = _listed(fake_server, max_workers=4)
    real = repo._download_json
    most = 0

    def download(url: str, doing: str) -> Any:
        nonlocal most
        with repo._lock:
            most = max(most, len(repo._inflight))  # versions claimed, not yet stored
        return real(url, doing)

    repo._download_json = download  # type: ignore[method-assign]

    # when every manifest is fetched ahead
    repo.prefetch_manifests(ids)

    # then no more than a window, the queue and the pool were ever claimed at once, and all arrived
    assert 0 < most <= 60 + 40 + 4 < len(ids)
    assert len(_ops(fake_server, "GET manifest")) == len(ids)
    assert all(repo.manifest(v) == fake_server.fake.manifest(v) for v in ids)


def test_a_prefetch_from_the_workspace_cache_asks_only_for_pending_ones_and_reports_them_all(
    fake_server: Any, tmp_path: Path
) -> None:
    # given a workspace cache filled by an earlier prefetch
    cache = tmp_path / "workspace.sqlite3"
    first, ids = _listed(fake_server, cache=cache)
    first.prefetch_manifests(ids)
    pending = [v for v in ids if fake_server.fake.version(v).state.value == "PENDING"]
    assert pending

    # when a new repository (a new process) fetches them ahead again
    again = wandb_repository(fake_server, page_size=100, cache=cache)
    list(again.versions(Scope.parse(DEMO_PROJECT)))
    settled(fake_server)
    fake_server.clear_requests()
    told: list[int] = []
    again.progress = lambda what, total: told.append(total) if what == "manifests" else None
    again.prefetch_manifests(ids)

    # then only the PENDING ones are asked for, and progress counts the cached ones as read
    assert sorted(r.variables["id"] for r in _ops(fake_server, "GET manifest")) == sorted(pending)
    assert len(_ops(fake_server, "ArtifactGuardManifestUrls")) == -(-len(pending) // 50)
    assert max(told) == len(ids)


@pytest.mark.parametrize("read", ["capture", "inventory"])
def test_a_snapshot_and_an_inventory_fetch_their_manifests_in_one_pipeline(
    fake_server: Any, read: str
) -> None:
    # given the demo project (several collections, none a multiple of 50 versions)
    from artifact_guard._inventory import inventory
    from artifact_guard._snapshot import capture

    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100)
    count = len(fake_server.fake.versions(scope=DEMO_PROJECT))

    # when the whole project is read
    {"capture": capture, "inventory": inventory}[read](repo, DEMO_PROJECT)

    # then the manifest look-ups are full batches across collections, each manifest downloaded once
    assert len(_ops(fake_server, "ArtifactGuardManifestUrls")) == -(-count // 50)
    assert len(_ops(fake_server, "GET manifest")) == count
