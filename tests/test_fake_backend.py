"""FakeWandb follows every W&B semantic of DESIGN.md. Each test reads given / when / then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from artifact_guard import (
    AliasedVersionError,
    CollectionRef,
    ConflictError,
    NotFoundError,
    ProtectedAliasError,
    Scope,
    VersionState,
)
from fakes import FakeWandb, md5_b64

NOW = datetime(2026, 6, 1, tzinfo=UTC)
P = "team/vision"


@pytest.fixture
def fake() -> FakeWandb:
    return FakeWandb(now=NOW)


def blob(name: str, size: int = 100) -> tuple[str, int]:
    return (f"{name}==", size)


# ---------------------------------------------------------------- numbering, aliases, latest


def test_versions_are_numbered_from_v0_per_collection(fake: FakeWandb) -> None:
    # given a run
    run = fake.create_run(P, "r1")
    # when it logs two collections
    a0 = fake.log_artifact(run, "a", "model", {"f": b"1"})
    a1 = fake.log_artifact(run, "a", "model", {"f": b"2"})
    b0 = fake.log_artifact(run, "b", "model", {"f": b"3"})
    # then each collection counts from v0
    assert (a0.name, a1.name, b0.name) == ("a:v0", "a:v1", "b:v0")
    assert len({a0.id, a1.id, b0.id}) == 3


def test_a_collection_keeps_one_type(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    fake.log_artifact(run, "a", "model", {"f": b"1"})
    with pytest.raises(ConflictError, match="type 'model'"):
        fake.log_artifact(run, "a", "dataset", {"f": b"2"})


def test_every_log_moves_latest_to_the_new_version(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"f": b"1"})
    assert fake.version(v0.id).aliases == {"latest"}
    v1 = fake.log_artifact(run, "a", "model", {"f": b"2"})
    assert fake.version(v0.id).aliases == frozenset()
    assert fake.version(v1.id).aliases == {"latest"}


def test_an_alias_names_one_version_and_moves_when_given_again(fake: FakeWandb) -> None:
    # given v0 holds best
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"f": b"1"}, aliases=["best"])
    v1 = fake.log_artifact(run, "a", "model", {"f": b"2"})
    # when v1 is given best
    fake.add_aliases(v1, ["best"])
    # then best left v0
    assert "best" not in fake.version(v0.id).aliases
    assert fake.version(v1.id).aliases == {"best", "latest"}
    assert fake.resolve(f"{P}/a:best").id == v1.id


def test_aliases_of_different_collections_are_independent(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    a = fake.log_artifact(run, "a", "model", {"f": b"1"}, aliases=["best"])
    b = fake.log_artifact(run, "b", "model", {"f": b"1"}, aliases=["best"])
    assert "best" in fake.version(a.id).aliases and "best" in fake.version(b.id).aliases


@pytest.mark.parametrize("bad", ["v3", "a/b", "a:b", ""])
def test_version_like_and_malformed_aliases_are_refused(fake: FakeWandb, bad: str) -> None:
    run = fake.create_run(P)
    with pytest.raises(ValueError, match="invalid alias"):
        fake.log_artifact(run, "a", "model", {"f": b"1"}, aliases=[bad])


def test_removing_aliases_ignores_those_not_held(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"f": b"1"}, aliases=["best"])
    fake.remove_aliases(v, ["best", "nope"])
    assert fake.version(v.id).aliases == {"latest"}


# ---------------------------------------------------------------- manifests and storage


def test_manifest_digests_are_base64_md5_and_references_are_entries_too(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(
        run, "a", "model", {"w.bin": b"hello"}, references=[("d.parquet", "s3://b/d.parquet", 7)]
    )
    stored, ref = fake.manifest(v.id)
    assert stored.digest == md5_b64(b"hello") == "XUFAKrxLKna5cZ2REBfFkg=="
    assert (stored.size, stored.ref) == (5, None)
    assert (ref.path, ref.ref, ref.size) == ("d.parquet", "s3://b/d.parquet", 7)
    assert v.size == 12


def test_each_digest_is_stored_once_and_references_are_not_stored(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    fake.log_artifact(
        run, "a", "model", {"x": blob("X"), "y": blob("Y", 50)}, references=[("r", "s3://r", 9)]
    )
    fake.log_artifact(run, "a", "model", {"x": blob("X"), "z": blob("Z", 10)})
    assert fake.stored_digests() == {"X==", "Y==", "Z=="}
    assert fake.stored_bytes() == 160


def test_delete_is_a_soft_delete_hidden_from_listings_with_aliases_dropped(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")}, aliases=["best"])
    fake.delete_version(v.id, delete_aliases=True)
    gone = fake.version(v.id)
    assert gone.state is VersionState.DELETED
    assert gone.aliases == frozenset()
    assert fake.versions() == []
    assert [w.id for w in fake.versions(include_deleted=True)] == [v.id]
    assert fake.collection_versions(f"{P}/a") == []
    # files stay until garbage collection
    assert fake.stored_bytes() == 100


def test_gc_frees_only_what_no_surviving_version_references(fake: FakeWandb) -> None:
    # given v1 shares X with v0 and holds Y alone
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X", 100)})
    v1 = fake.log_artifact(run, "a", "model", {"x": blob("X", 100), "y": blob("Y", 30)})
    fake.remove_aliases(v1, ["latest"])
    # when v0 is deleted, then GC frees nothing: v1 still holds X
    fake.delete_version(v0.id)
    assert fake.gc() == 0
    # when v1 is deleted too, then GC frees X and Y
    fake.delete_version(v1.id)
    assert fake.gc() == 130
    assert fake.stored_bytes() == 0
    assert fake.gc() == 0  # nothing left to free


def test_deleting_a_version_frees_only_what_it_alone_held(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    fake.log_artifact(run, "a", "model", {"x": blob("X", 100)})
    v1 = fake.log_artifact(run, "a", "model", {"x": blob("X", 100), "y": blob("Y", 30)})
    fake.delete_version(v1.id, delete_aliases=True)
    assert fake.gc() == 30


def test_dedupe_scope_collection_stores_a_digest_once_per_collection() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run(P)
    a = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.log_artifact(run, "b", "model", {"x": blob("X")})
    assert fake.stored_bytes() == 200
    fake.delete_version(a.id, delete_aliases=True)
    assert fake.gc() == 100  # b's copy is its own


def test_dedupe_scope_project_shares_a_digest_across_collections() -> None:
    fake = FakeWandb(now=NOW, dedupe="project")
    run = fake.create_run(P)
    other = fake.create_run("team/other")
    a = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.log_artifact(run, "b", "model", {"x": blob("X")})
    fake.log_artifact(other, "a", "model", {"x": blob("X")})
    assert fake.stored_bytes() == 200  # once for team/vision, once for team/other
    fake.delete_version(a.id, delete_aliases=True)
    assert fake.gc() == 0  # b still references X in the same project


def test_dedupe_scope_entity_shares_a_digest_across_projects() -> None:
    fake = FakeWandb(now=NOW, dedupe="entity")
    run = fake.create_run(P)
    other = fake.create_run("team/other")
    a = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.log_artifact(other, "a", "model", {"x": blob("X")})
    assert fake.stored_bytes() == 100
    fake.delete_version(a.id, delete_aliases=True)
    assert fake.gc() == 0


def test_an_unknown_dedupe_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="dedupe"):
        FakeWandb(dedupe="bucket")  # type: ignore[arg-type]


# ---------------------------------------------------------------- deleting aliased versions


def test_deleting_an_aliased_version_without_delete_aliases_fails_and_changes_nothing(
    fake: FakeWandb,
) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    with pytest.raises(AliasedVersionError, match="delete_aliases=True") as info:
        fake.delete_version(v.id)
    assert isinstance(info.value, ConflictError)
    assert fake.version(v.id).state is VersionState.COMMITTED
    assert fake.version(v.id).aliases == {"latest"}


def test_delete_aliases_true_drops_the_aliases_and_deletes(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")}, aliases=["best"])
    fake.delete_version(v.id, delete_aliases=True)
    assert fake.version(v.id).state is VersionState.DELETED
    with pytest.raises(NotFoundError):
        fake.resolve(f"{P}/a:best")


def test_deleting_a_deleted_version_is_not_found(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.delete_version(v.id, delete_aliases=True)
    with pytest.raises(NotFoundError, match="was deleted"):
        fake.delete_version(v.id, delete_aliases=True)


def test_latest_does_not_move_when_its_holder_is_deleted_by_default(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    v1 = fake.log_artifact(run, "a", "model", {"y": blob("Y")})
    fake.delete_version(v1.id, delete_aliases=True)
    assert fake.version(v0.id).aliases == frozenset()
    with pytest.raises(NotFoundError):
        fake.resolve(f"{P}/a:latest")


def test_move_latest_on_delete_is_the_documented_alternative() -> None:
    fake = FakeWandb(now=NOW, move_latest_on_delete=True)
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    v1 = fake.log_artifact(run, "a", "model", {"y": blob("Y")})
    fake.delete_version(v1.id, delete_aliases=True)
    assert fake.version(v0.id).aliases == {"latest"}


# ---------------------------------------------------------------- states and lineage


def test_a_pending_version_has_no_latest_until_committed(fake: FakeWandb) -> None:
    run = fake.create_run(P, state="running")
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    v1 = fake.log_artifact(run, "a", "model", {"y": blob("Y")}, state="PENDING")
    assert fake.version(v1.id).state is VersionState.PENDING
    assert fake.version(v0.id).aliases == {"latest"}
    fake.commit(v1)
    assert fake.version(v1.id).state is VersionState.COMMITTED
    assert fake.version(v1.id).aliases == {"latest"}
    assert fake.version(v0.id).aliases == frozenset()


def test_lineage_records_the_producer_and_every_consumer_once(fake: FakeWandb) -> None:
    producer = fake.create_run(P, "prod", state="running")
    consumer = fake.create_run(P, "cons")
    v = fake.log_artifact(producer, "a", "model", {"x": blob("X")})
    fake.use_artifact(consumer, v)
    fake.use_artifact(consumer, v.id)
    lineage = fake.lineage(v.id)
    assert lineage.producer is not None and lineage.producer.path == f"{P}/prod"
    assert lineage.producer.running
    assert [r.path for r in lineage.consumers] == [f"{P}/cons"]
    fake.finish_run(producer)
    finished = fake.lineage(v.id).producer
    assert finished is not None and not finished.running


def test_a_consumed_version_can_be_deleted_and_the_consumer_keeps_its_history(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    consumer = fake.create_run(P, "cons")
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.use_artifact(consumer, v)
    fake.delete_version(v.id, delete_aliases=True)
    assert fake.version(v.id).state is VersionState.DELETED
    assert [r.path for r in fake.lineage(v.id).consumers] == [f"{P}/cons"]


# ---------------------------------------------------------------- registry links


def test_a_link_has_its_own_aliases_and_latest(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    link = fake.link(v, "team/wandb-registry-model/champ", aliases=["candidate"])
    assert link.aliases == {"candidate", "latest"}
    assert fake.links(v.id) == (link,)
    assert fake.version(v.id).aliases == {"latest"}  # the source's own aliases are untouched
    assert fake.resolve("team/wandb-registry-model/champ:candidate").id == v.id


def test_unlinking_frees_nothing_and_leaves_the_source(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    link = fake.link(v, "team/wandb-registry-model/champ")
    fake.unlink(link)
    assert fake.links(v.id) == ()
    assert fake.version(v.id).state is VersionState.COMMITTED
    assert fake.gc() == 0


def test_deleting_a_linked_source_without_protected_aliases_breaks_the_link(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.link(v, "team/wandb-registry-model/champ", aliases=["candidate"])
    fake.delete_version(v.id, delete_aliases=True)
    assert fake.version(v.id).state is VersionState.DELETED
    assert fake.gc() == 100


def test_a_source_linked_with_a_protected_alias_cannot_be_deleted(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    link = fake.link(v, "team/wandb-registry-model/champ", protected=["production"])
    assert link.protected_aliases == {"production"} and "production" in link.aliases
    with pytest.raises(ProtectedAliasError, match="protected"):
        fake.delete_version(v.id, delete_aliases=True)
    with pytest.raises(ProtectedAliasError):
        fake.unlink(link)
    assert fake.version(v.id).state is VersionState.COMMITTED


def test_a_protected_registry_alias_cannot_be_moved_and_the_refused_link_leaves_no_trace(
    fake: FakeWandb,
) -> None:
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    v1 = fake.log_artifact(run, "a", "model", {"y": blob("Y")})
    fake.link(v0, "team/wandb-registry-model/champ", protected=["production"])
    with pytest.raises(ProtectedAliasError):
        fake.link(v1, "team/wandb-registry-model/champ", aliases=["production"])
    assert fake.links(v1.id) == ()
    assert len(fake.portfolio_links("team/wandb-registry-model/champ")) == 1


def test_linking_twice_into_one_portfolio_is_a_conflict(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.link(v, "team/wandb-registry-model/champ")
    with pytest.raises(ConflictError, match="already linked"):
        fake.link(v, "team/wandb-registry-model/champ")


def test_linking_clears_the_ttl(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")}, ttl=timedelta(days=1))
    fake.link(v, "team/wandb-registry-model/champ")
    assert fake.version(v.id).ttl is None


# ---------------------------------------------------------------- collection, run and TTL deletes


def test_deleting_a_collection_deletes_every_version_and_the_collection_remains_empty(
    fake: FakeWandb,
) -> None:
    run = fake.create_run(P)
    for i in range(3):
        fake.log_artifact(run, "a", "model", {"x": blob(f"X{i}")}, aliases=["best"] if i == 0 else [])
    keep = fake.log_artifact(run, "b", "model", {"x": blob("X0")})
    fake.delete_collection(f"{P}/a")
    assert [v.id for v in fake.versions()] == [keep.id]
    assert CollectionRef("team", "vision", "a") in fake.collections(P)
    assert fake.collection_versions(f"{P}/a") == []


def test_a_collection_with_a_protected_link_is_refused_whole(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v0 = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.log_artifact(run, "a", "model", {"y": blob("Y")})
    fake.link(v0, "team/wandb-registry-model/champ", protected=["production"])
    with pytest.raises(ProtectedAliasError, match="nothing deleted"):
        fake.delete_collection(f"{P}/a")
    assert len(fake.versions()) == 2


def test_deleting_a_portfolio_only_unlinks(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.link(v, "team/wandb-registry-model/champ")
    fake.delete_collection("team/wandb-registry-model/champ")
    assert fake.portfolio_links("team/wandb-registry-model/champ") == []
    assert fake.version(v.id).state is VersionState.COMMITTED


def test_deleting_a_run_with_its_artifacts_deletes_what_it_logged(fake: FakeWandb) -> None:
    run = fake.create_run(P, "r1")
    other = fake.create_run(P, "r2")
    mine = fake.log_artifact(run, "a", "model", {"x": blob("X")}, aliases=["best"])
    theirs = fake.log_artifact(other, "a", "model", {"y": blob("Y")})
    fake.delete_run(run, delete_artifacts=True)
    assert fake.version(mine.id).state is VersionState.DELETED
    assert fake.version(theirs.id).state is VersionState.COMMITTED
    with pytest.raises(NotFoundError, match="r1"):
        fake.run(f"{P}/r1")


def test_deleting_a_run_without_its_artifacts_keeps_them_and_the_project(fake: FakeWandb) -> None:
    run = fake.create_run(P, "r1")
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.delete_run(run)
    assert fake.version(v.id).state is VersionState.COMMITTED
    assert fake.lineage(v.id).producer is None  # the producer is gone
    assert list(fake.iter_versions(Scope.parse(P))) == [fake.version(v.id)]


def test_a_run_whose_artifact_is_protected_is_refused_whole(fake: FakeWandb) -> None:
    run = fake.create_run(P, "r1")
    a = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    b = fake.log_artifact(run, "b", "model", {"y": blob("Y")})
    fake.link(b, "team/wandb-registry-model/champ", protected=["production"])
    with pytest.raises(ProtectedAliasError, match="nothing deleted"):
        fake.delete_run(run, delete_artifacts=True)
    assert fake.version(a.id).state is VersionState.COMMITTED
    assert fake.run(f"{P}/r1").path == f"{P}/r1"


def test_generated_run_ids_never_repeat_after_deletes(fake: FakeWandb) -> None:
    seen = set()
    for _ in range(20):
        run = fake.create_run(P)
        assert run.path not in seen
        seen.add(run.path)
        fake.delete_run(run)


def test_expired_ttl_is_a_soft_delete(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    old = fake.log_artifact(run, "a", "model", {"x": blob("X")}, ttl=timedelta(days=1))
    young = fake.log_artifact(run, "a", "model", {"y": blob("Y")}, ttl=timedelta(days=10))
    fake.advance(timedelta(days=2))
    assert [v.id for v in fake.expire_ttl()] == [old.id]
    assert fake.version(old.id).state is VersionState.DELETED
    assert fake.version(young.id).state is VersionState.COMMITTED
    assert fake.gc() == 100


# ---------------------------------------------------------------- unknown names and reset


def test_unknown_things_are_not_found_by_name(fake: FakeWandb) -> None:
    fake.create_run(P, "r1")
    with pytest.raises(NotFoundError, match="'nope'"):
        fake.version("nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        fake.manifest("nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        fake.lineage("nope")
    with pytest.raises(NotFoundError, match="team/vision/missing"):
        fake.delete_collection(f"{P}/missing")
    with pytest.raises(NotFoundError, match="team/ghost/r1"):
        fake.log_artifact("team/ghost/r1", "a", "model", {})
    with pytest.raises(NotFoundError, match="team/ghost"):
        list(fake.iter_versions(Scope.parse("team/ghost")))


def test_reset_forgets_everything_and_keeps_the_options() -> None:
    fake = FakeWandb(now=NOW, dedupe="project")
    run = fake.create_run(P)
    fake.log_artifact(run, "a", "model", {"x": blob("X")})
    fake.reset()
    assert fake.versions() == [] and fake.runs() == [] and fake.stored_bytes() == 0
    assert fake.dedupe == "project" and fake.now() == NOW


def test_the_clock_is_frozen_and_advances_on_demand(fake: FakeWandb) -> None:
    assert fake.now() == NOW
    fake.advance(timedelta(hours=2))
    run = fake.create_run(P)
    assert fake.log_artifact(run, "a", "model", {}).created_at == NOW + timedelta(hours=2)


def test_repository_records_writes_and_reads_the_same_state(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    repo = fake.repository()
    assert list(repo.versions(Scope.parse(P))) == [v]
    assert repo.manifest(v.id) == fake.manifest(v.id)
    assert repo.write_calls == []
    repo.delete_version(v.id, delete_aliases=True)
    assert repo.write_calls == [("delete_version", v.id)]
    assert fake.version(v.id).state is VersionState.DELETED


def test_a_refused_log_leaves_no_trace(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    with pytest.raises(ValueError, match="invalid alias"):
        fake.log_artifact(run, "a", "model", {"x": blob("X")}, aliases=["best", "v7"])
    assert fake.versions() == [] and fake.collections(P) == [] and fake.stored_bytes() == 0


def test_a_digest_names_its_content_so_its_size_cannot_change(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    fake.log_artifact(run, "a", "model", {"x": blob("X", 100)})
    with pytest.raises(ValueError, match="size 100, not 5"):
        fake.log_artifact(run, "a", "model", {"y": blob("X", 5)})
    with pytest.raises(ValueError, match="'X2=='"):
        fake.log_artifact(run, "b", "model", {"p": blob("X2", 1), "q": blob("X2", 2)})
    assert len(fake.versions()) == 1
    # another dedupe scope (collection b) stores its own copy and may say its own size
    fake.log_artifact(run, "b", "model", {"y": blob("X", 5)})


def test_adding_aliases_is_all_or_nothing(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    with pytest.raises(ValueError, match="invalid alias"):
        fake.add_aliases(v, ["best", "a/b"])
    assert fake.version(v.id).aliases == {"latest"}


# ---------------------------------------------------------------- issue 10: bad input and atomic operations


def test_a_negative_size_is_refused_and_leaves_no_trace(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    with pytest.raises(ValueError, match="negative size"):
        fake.log_artifact(run, "a", "model", {"x": ("d==", -5)})
    with pytest.raises(ValueError, match="negative size"):
        fake.log_artifact(run, "a", "model", {}, references=[("r", "s3://b/k", -1)])
    assert fake.versions() == [] and fake.collections(P) == []


def test_a_naive_created_at_is_refused_at_the_builder(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    with pytest.raises(ValueError, match="timezone-aware"):
        fake.log_artifact(run, "a", "model", {}, created_at=datetime(2026, 1, 1))
    assert fake.versions() == []


def test_a_ttl_cannot_be_set_on_a_linked_version_nor_be_negative(fake: FakeWandb) -> None:
    run = fake.create_run(P)
    v = fake.log_artifact(run, "a", "model", {"x": blob("X")})
    with pytest.raises(ValueError, match="negative"):
        fake.set_ttl(v, timedelta(days=-1))
    fake.link(v, "team/wandb-registry-model/champ", protected=["locked"])
    with pytest.raises(ConflictError, match="linked"):
        fake.set_ttl(v, timedelta(days=1))
    assert fake.version(v.id).ttl is None


def test_expire_ttl_is_all_or_nothing_and_never_raises_halfway(fake: FakeWandb) -> None:
    # A snapshot may restore a version that carries a TTL and a protected link (W&B clears the TTL
    # on link, but recorded state is taken verbatim): it cannot expire, and the others still do.
    run = fake.create_run(P)
    expiring = [
        fake.log_artifact(run, "a", "model", {f"x{i}": blob(f"X{i}")}, ttl=timedelta(days=1))
        for i in range(5)
    ]
    locked = fake.log_artifact(run, "b", "model", {"y": blob("Y")})
    fake.link(locked, "team/wandb-registry-model/champ", protected=["locked"])
    fake._versions[locked.id] = replace(fake.version(locked.id), ttl=timedelta(hours=1))
    fake.advance(timedelta(days=2))
    gone = fake.expire_ttl()
    assert sorted(v.id for v in gone) == sorted(v.id for v in expiring)
    assert fake.version(locked.id).state is VersionState.COMMITTED


def test_a_reference_written_through_the_sdk_write_path_makes_a_referrer(fake: FakeWandb) -> None:
    # What log_artifact over the wire does: create (PENDING), upload the manifest, commit. The
    # manifest names the target by its client id (before commit) or by its id (hex), as the SDK does.
    import base64
    import json

    run = fake.create_run(P, "r")
    target = fake.log_artifact(run, "a", "model", {"w": blob("W")})
    by_client = fake.create_artifact(run.path, "t", "model", digest="d1", client_id="client-of-t")
    fake.set_manifest(
        by_client.id,
        json.dumps(
            {"version": 1, "contents": {"w": {"digest": "Z==", "ref": "s3://b/k", "size": 1}}}
        ).encode(),
    )
    fake.commit_artifact(by_client.id)
    for name, uri in (
        ("x", f"wandb-artifact://{base64.b64decode(target.id).hex()}/w"),
        ("y", "wandb-client-artifact://client-of-t/w"),
    ):
        v = fake.create_artifact(run.path, name, "predictions", digest=f"d-{name}")
        manifest = {"version": 1, "contents": {"w": {"digest": "W==", "ref": uri, "size": 0}}}
        fake.set_manifest(v.id, json.dumps(manifest).encode())
        fake.commit_artifact(v.id)
    assert [fake.version(r).collection for r in fake.referrers(target)] == ["x"]
    assert [fake.version(r).collection for r in fake.referrers(by_client)] == ["y"]
