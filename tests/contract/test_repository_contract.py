"""The ArtifactRepository contract, run against every implementation (see conftest.py).

Written as given / when / then. Where the wire cannot carry a fact the fake
knows (which registry aliases are protected), the test says so explicitly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from artifact_guard import (
    Action,
    AliasedVersionError,
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    NotFoundError,
    Policy,
    ProtectedAliasError,
    Run,
    Scope,
    VersionState,
    plan,
)
from fakes import FakeWandb
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo

from .conftest import NOW, World

SCOPE = Scope("team", "proj")
REGISTRY = "team/wandb-registry-model/champion"


def _project(fake: FakeWandb) -> dict[str, str]:
    """A small project: two collections, shared files, a reference, aliases, consumers, a registry link."""
    train = fake.create_run("team/proj", "train")
    evaluator = fake.create_run("team/proj", "eval")
    fake.create_run("team/proj", "live", state="running")
    ids = {}
    for i in range(5):
        v = fake.log_artifact(
            train,
            "model",
            "model",
            {"model.ckpt": f"weights-{i}".encode(), "config.yaml": b"cfg"},
            aliases=["best"] if i == 2 else [],
            created_at=NOW - timedelta(days=10 - i),
        )
        ids[f"model:v{i}"] = v.id
    ds = fake.log_artifact(
        train,
        "data",
        "dataset",
        {"train.csv": b"rows"},
        references=[("remote.parquet", "s3://bucket/remote.parquet", 9)],
        created_at=NOW - timedelta(days=20),
    )
    ids["data:v0"] = ds.id
    fake.use_artifact(evaluator, ids["model:v1"])
    fake.use_artifact(train, ds)
    fake.use_artifact(evaluator, ds)
    fake.link(ids["model:v3"], REGISTRY, aliases=["candidate"], protected=["production"])
    fake.link(ids["model:v1"], REGISTRY, aliases=["baseline"])
    return ids


def _links_seen(links: tuple[Link, ...]) -> list[tuple[str, int, frozenset[str]]]:
    # Which registry aliases are protected is not visible to W&B clients: compared without it.
    return [(str(lk.portfolio), lk.index, lk.aliases) for lk in links]


# ---------------------------------------------------------------------- reads


def test_given_a_project_when_listing_then_every_surviving_version_is_reported_exactly(world: World) -> None:
    _project(world.fake)
    listed = sorted(world.repo.versions(SCOPE), key=lambda v: v.id)
    truth = sorted(world.fake.versions(scope=SCOPE), key=lambda v: v.id)
    assert listed == truth
    assert {v.collection for v in listed} == {"model", "data"}


def test_given_deleted_and_pending_versions_when_listing_then_pending_shows_and_deleted_does_not(
    world: World,
) -> None:
    ids = _project(world.fake)
    world.fake.delete_version(ids["model:v0"])
    run = world.fake.run("team/proj/live")
    pending = world.fake.log_artifact(run, "model", "model", {"x": b"x"}, state="PENDING", created_at=NOW)
    listed = {v.id: v for v in world.repo.versions(SCOPE)}
    assert ids["model:v0"] not in listed
    assert listed[pending.id].state is VersionState.PENDING
    assert "latest" not in listed[pending.id].aliases


def test_given_an_unknown_project_when_listing_then_not_found(world: World) -> None:
    _project(world.fake)
    with pytest.raises(NotFoundError, match="nope"):
        list(world.repo.versions(Scope("team", "nope")))


def test_given_a_version_when_reading_it_then_it_matches_and_deleted_ones_are_still_readable(
    world: World,
) -> None:
    ids = _project(world.fake)
    assert world.repo.version(ids["model:v2"]) == world.fake.version(ids["model:v2"])
    world.fake.delete_version(ids["model:v2"], delete_aliases=True)
    gone = world.repo.version(ids["model:v2"])
    assert gone.state is VersionState.DELETED
    assert gone.aliases == frozenset()


def test_given_an_unknown_id_when_reading_then_not_found(world: World) -> None:
    _project(world.fake)
    unknown = "QXJ0aWZhY3Q6OTk5OTk="  # "Artifact:99999"
    for call in (world.repo.version, world.repo.lineage, world.repo.links, world.repo.manifest):
        with pytest.raises(NotFoundError):
            call(unknown)


def test_manifests_carry_paths_digests_sizes_and_references(world: World) -> None:
    ids = _project(world.fake)
    for vid in ids.values():
        assert world.repo.manifest(vid) == world.fake.manifest(vid)
    refs = [e for e in world.repo.manifest(ids["data:v0"]) if e.ref is not None]
    assert [(e.path, e.ref, e.size) for e in refs] == [("remote.parquet", "s3://bucket/remote.parquet", 9)]


def test_lineage_names_the_producer_and_every_consumer_in_order(world: World) -> None:
    ids = _project(world.fake)
    list(world.repo.versions(SCOPE))
    assert world.repo.lineage(ids["data:v0"]) == Lineage(
        Run("team/proj/train"), (Run("team/proj/train"), Run("team/proj/eval"))
    )
    assert world.repo.lineage(ids["model:v4"]) == Lineage(Run("team/proj/train"), ())
    for vid in ids.values():
        assert world.repo.lineage(vid) == world.fake.lineage(vid)


def test_lineage_reports_a_running_producer(world: World) -> None:
    _project(world.fake)
    live = world.fake.run("team/proj/live")
    v = world.fake.log_artifact(live, "ckpt", "model", {"m": b"m"}, created_at=NOW)
    producer = world.repo.lineage(v.id).producer
    assert producer is not None and producer.running


def test_many_consumers_are_all_reported(world: World) -> None:
    # More consumers than one page of the wire's usedBy connection holds.
    run = world.fake.create_run("team/proj", "maker")
    v = world.fake.log_artifact(run, "big", "dataset", {"d": b"d"}, created_at=NOW)
    users = [world.fake.create_run("team/proj", f"user-{i:03d}") for i in range(57)]
    for u in users:
        world.fake.use_artifact(u, v)
    list(world.repo.versions(SCOPE))
    assert world.repo.lineage(v.id).consumers == tuple(users)


def test_links_name_portfolio_index_and_aliases(world: World) -> None:
    ids = _project(world.fake)
    list(world.repo.versions(SCOPE))
    champion = CollectionRef.parse(REGISTRY, CollectionKind.PORTFOLIO)
    assert _links_seen(world.repo.links(ids["model:v3"])) == [
        (str(champion), 0, frozenset({"candidate", "production"}))
    ]
    assert _links_seen(world.repo.links(ids["model:v1"])) == [
        (str(champion), 1, frozenset({"baseline", "latest"}))
    ]
    assert world.repo.links(ids["model:v0"]) == ()
    # W&B shows which registry aliases are protected (Entity.protectedAliases): both repositories report them
    assert world.repo.links(ids["model:v3"])[0].protected_aliases == frozenset({"production"})
    assert world.repo.links(ids["model:v1"])[0].protected_aliases == frozenset()


def test_an_alias_the_entity_protects_later_is_protected_on_every_link_holding_it(world: World) -> None:
    # given a registry link whose alias an admin protects after linking (per entity, not per link)
    ids = _project(world.fake)
    world.fake.add_protected_aliases("team", ["baseline"])
    list(world.repo.versions(SCOPE))
    (link,) = world.repo.links(ids["model:v1"])
    assert link.protected_aliases == frozenset({"baseline"})
    # then the protected-alias rule blocks it in a plan, before any server refusal
    the_plan = plan(world.repo, SCOPE, Policy(keep_last=1, grace_period=timedelta(0)), now=NOW)
    decision = next(d for d in the_plan.decisions if d.version.id == ids["model:v1"])
    assert decision.action is Action.KEEP
    assert "protected-alias" in {r.rule for r in decision.reasons}


def test_a_version_linked_into_more_collections_than_one_page_reports_every_link(world: World) -> None:
    # given one version linked into 55 registry collections (the fake's page holds 50)
    ids = _project(world.fake)
    for i in range(55):
        world.fake.link(ids["model:v0"], f"team/wandb-registry-model/many-{i:02d}")
    list(world.repo.versions(SCOPE))
    # then every link is reported
    names = sorted(link.portfolio.name for link in world.repo.links(ids["model:v0"]))
    assert names == [f"many-{i:02d}" for i in range(55)]


def test_given_a_listing_when_a_consumer_appears_then_the_next_listing_reports_it(world: World) -> None:
    # Consumers are mutable: no cache may hide a new one from the next plan.
    ids = _project(world.fake)
    list(world.repo.versions(SCOPE))
    assert world.repo.lineage(ids["model:v4"]).consumers == ()
    late = world.fake.create_run("team/proj", "late")
    world.fake.use_artifact(late, ids["model:v4"])
    world.fake.add_aliases(ids["model:v0"], ["keep"])
    listed = {v.id: v for v in world.repo.versions(SCOPE)}
    assert world.repo.lineage(ids["model:v4"]).consumers == (late,)
    assert "keep" in listed[ids["model:v0"]].aliases


# ---------------------------------------------------------------------- writes


def test_deleting_an_aliased_version_without_delete_aliases_is_refused_and_changes_nothing(
    world: World,
) -> None:
    ids = _project(world.fake)
    with pytest.raises(AliasedVersionError):
        world.repo.delete_version(ids["model:v2"])
    assert world.fake.version(ids["model:v2"]).state is VersionState.COMMITTED
    assert "best" in world.fake.version(ids["model:v2"]).aliases


def test_deleting_with_delete_aliases_soft_deletes_and_drops_aliases(world: World) -> None:
    ids = _project(world.fake)
    list(world.repo.versions(SCOPE))
    world.repo.delete_version(ids["model:v2"], delete_aliases=True)
    assert world.fake.version(ids["model:v2"]).state is VersionState.DELETED
    assert ids["model:v2"] not in {v.id for v in world.repo.versions(SCOPE)}
    assert world.repo.version(ids["model:v2"]).state is VersionState.DELETED
    with pytest.raises(NotFoundError):
        world.repo.delete_version(ids["model:v2"], delete_aliases=True)


def test_deleting_an_unaliased_version_needs_no_flag(world: World) -> None:
    ids = _project(world.fake)
    world.repo.delete_version(ids["model:v0"])
    assert world.fake.version(ids["model:v0"]).state is VersionState.DELETED


def test_deleting_a_source_linked_with_a_protected_alias_is_refused(world: World) -> None:
    ids = _project(world.fake)
    with pytest.raises(ProtectedAliasError):
        world.repo.delete_version(ids["model:v3"], delete_aliases=True)
    assert world.fake.version(ids["model:v3"]).state is VersionState.COMMITTED


def test_deleting_an_unknown_version_is_not_found(world: World) -> None:
    _project(world.fake)
    with pytest.raises(NotFoundError):
        world.repo.delete_version("QXJ0aWZhY3Q6OTk5OTk=")


def test_deleting_a_sequence_deletes_every_version_and_keeps_the_empty_collection(world: World) -> None:
    ids = _project(world.fake)
    world.repo.delete_collection(CollectionRef("team", "proj", "data"))
    assert world.fake.version(ids["data:v0"]).state is VersionState.DELETED
    assert "data" not in {v.collection for v in world.repo.versions(SCOPE)}
    assert CollectionRef("team", "proj", "data") in world.fake.collections("team/proj")


def test_deleting_a_sequence_holding_a_protected_link_is_refused_whole(world: World) -> None:
    ids = _project(world.fake)
    with pytest.raises(ProtectedAliasError):
        world.repo.delete_collection(CollectionRef("team", "proj", "model"))
    assert all(world.fake.version(vid).state is VersionState.COMMITTED for vid in ids.values())


def test_deleting_a_portfolio_unlinks_only(world: World) -> None:
    ids = _project(world.fake)
    # A portfolio without protected links can go: make one.
    world.fake.link(ids["model:v4"], "team/wandb-registry-model/scratch", aliases=["tmp"])
    scratch = CollectionRef("team", "wandb-registry-model", "scratch", CollectionKind.PORTFOLIO)
    world.repo.delete_collection(scratch)
    assert world.fake.links(ids["model:v4"]) == ()
    assert world.fake.version(ids["model:v4"]).state is VersionState.COMMITTED
    list(world.repo.versions(SCOPE))
    assert world.repo.links(ids["model:v4"]) == ()


def test_deleting_an_unknown_collection_is_not_found(world: World) -> None:
    _project(world.fake)
    with pytest.raises(NotFoundError):
        world.repo.delete_collection(CollectionRef("team", "proj", "nothing-here"))


def test_removing_aliases_removes_only_those_held(world: World) -> None:
    ids = _project(world.fake)
    world.fake.add_aliases(ids["model:v2"], ["keep", "extra"])
    list(world.repo.versions(SCOPE))
    world.repo.remove_aliases(ids["model:v2"], ["best", "extra", "never-held"])
    assert world.fake.version(ids["model:v2"]).aliases == frozenset({"keep"})
    listed = {v.id: v for v in world.repo.versions(SCOPE)}
    assert listed[ids["model:v2"]].aliases == frozenset({"keep"})
    world.repo.delete_version(ids["model:v2"], delete_aliases=True)
    with pytest.raises(NotFoundError):
        world.repo.remove_aliases(ids["model:v2"], ["keep"])


# ---------------------------------------------------------------------- plans


def test_the_demo_plans_to_the_same_decisions_and_bytes(world: World) -> None:
    seed_demo(world.fake)
    policy = Policy(keep_last=3, grace_period=timedelta(hours=1))
    truth = plan(world.fake.repository(), DEMO_PROJECT, policy, now=DEMO_NOW)
    seen = plan(world.repo, DEMO_PROJECT, policy, now=DEMO_NOW)
    assert [(d.version, d.action) for d in seen.decisions] == [(d.version, d.action) for d in truth.decisions]
    assert seen.reclaimable_bytes == truth.reclaimable_bytes
    assert seen.id == truth.id


def test_given_an_emptied_collection_when_planning_it_by_name_then_it_plans_as_empty(world: World) -> None:
    # Issue 10 (9): a recurring job names its collection; an earlier run emptied it.
    run = world.fake.create_run("team/proj", "train")
    for i in range(2):
        world.fake.log_artifact(
            run, "ckpt", "model", {"m": (f"d{i}==", 10)}, created_at=NOW - timedelta(days=3)
        )
    world.fake.log_artifact(run, "other", "model", {"m": ("o==", 10)}, created_at=NOW - timedelta(days=3))
    world.fake.delete_collection("team/proj/ckpt")
    exists = world.repo.collection_exists  # type: ignore[attr-defined]
    assert exists(CollectionRef("team", "proj", "ckpt")) is True
    assert exists(CollectionRef("team", "proj", "ckpt-typo")) is False
    policy = Policy(keep_last=1, collections=("ckpt",))
    assert plan(world.repo, SCOPE, policy, now=NOW).deletions == ()
    with pytest.raises(NotFoundError, match="ckpt-typo"):
        plan(world.repo, SCOPE, Policy(keep_last=1, collections=("ckpt-typo",)), now=NOW)


@pytest.mark.server
@pytest.mark.timeout(60)
def test_an_older_server_without_collection_filtering_still_deletes_a_collection() -> None:
    # given a server lacking ARTIFACT_COLLECTIONS_FILTERING_SORTING (it refuses `filters`, as those do)
    from fakes.server import FakeWandbServer

    from .conftest import wandb_repository

    fake = FakeWandb(now=NOW)
    ids = _project(fake)
    run = fake.create_run(str(SCOPE), "extra")
    for i in range(5):  # more collections than one page of the adapter's lookup would need
        fake.log_artifact(run, f"other-{i}", "model", {"w": bytes([i])})
    with FakeWandbServer(fake, features=()) as server:
        repo = wandb_repository(server)
        # when deleting a collection, then the adapter finds it without `filters`, reading features once
        repo.delete_collection(CollectionRef("team", "proj", "data"))
        repo.delete_collection(CollectionRef("team", "proj", "other-0"))
        operations = [r.operation for r in server.requests]
        errors = [r.errors for r in server.requests if r.errors]
    assert fake.version(ids["data:v0"]).state is VersionState.DELETED
    assert fake.collection_versions("team/proj/other-0") == []
    assert operations.count("ServerFeaturesQuery") <= 1
    assert "ArtifactGuardCollection" not in operations
    assert errors == []


@pytest.mark.server
@pytest.mark.timeout(60)
def test_a_server_that_pages_memberships_gets_asked_for_every_page(fake_server: Any) -> None:
    # W&B's schema gives Artifact.artifactMemberships no paging arguments (the fake answers all at once),
    # but a server that truncates them and says hasNextPage must be paged, not silently cut short.
    from artifact_guard.adapters import wandb as adapter

    from .conftest import wandb_repository

    fake_server.reset()
    ids = _project(fake_server.fake)
    for i in range(3):
        fake_server.fake.link(ids["model:v0"], f"team/wandb-registry-model/paged-{i}")
    repo = wandb_repository(fake_server)
    real = repo._gql
    asked: list[str | None] = []

    def truncating(document: str, variables: Any, doing: str) -> Any:
        data = real(document, variables, doing)
        if document == adapter.VERSION_BY_ID:
            conn = data["artifact"]["artifactMemberships"]
            rest = conn["edges"][2:]
            conn["edges"] = conn["edges"][:2]
            conn["pageInfo"] = {"hasNextPage": bool(rest), "endCursor": "page-2"}
            truncating.rest = rest  # type: ignore[attr-defined]
        if document == adapter.MORE_MEMBERSHIPS:
            raise AssertionError("the fake's schema has no paging arguments here; the stub answers")
        return data

    def answer(document: str, variables: Any, doing: str) -> Any:
        if document == adapter.MORE_MEMBERSHIPS:
            asked.append(variables["cursor"])
            return {
                "artifact": {
                    "artifactMemberships": {
                        "edges": truncating.rest,  # type: ignore[attr-defined]
                        "pageInfo": {"hasNextPage": False, "endCursor": None},
                    }
                }
            }
        return truncating(document, variables, doing)

    repo._gql = answer  # type: ignore[method-assign]
    repo.version(ids["model:v0"])
    names = sorted(link.portfolio.name for link in repo.links(ids["model:v0"]))
    assert names == [f"paged-{i}" for i in range(3)]
    assert asked == ["page-2"]


@pytest.mark.server
@pytest.mark.timeout(90)
@pytest.mark.parametrize("graphql_errors", ["200", "status"])
def test_refusals_keep_their_precise_error_whether_sent_as_200_or_as_4xx(graphql_errors: str) -> None:
    # W&B's way of answering GraphQL errors is unconfirmed (see README): both must map the same.
    from fakes.server import FakeWandbServer

    from .conftest import wandb_repository

    fake = FakeWandb(now=NOW)
    ids = _project(fake)
    with FakeWandbServer(fake, graphql_errors=graphql_errors) as server:
        repo = wandb_repository(server)
        with pytest.raises(AliasedVersionError):
            repo.delete_version(ids["model:v4"])
        with pytest.raises(ProtectedAliasError):
            repo.delete_version(ids["model:v3"], delete_aliases=True)
        with pytest.raises(NotFoundError):
            repo.delete_version("QXJ0aWZhY3Q6OTk5OTk=")
        statuses = {r.status for r in server.requests if r.operation == "DeleteArtifact"}
    assert statuses == ({200} if graphql_errors == "200" else {404, 403, 409})
    assert fake.version(ids["model:v4"]).state is VersionState.COMMITTED


def test_a_re_validation_sees_an_alias_protected_after_the_listing(world: World) -> None:
    # given a listing, then an admin protecting an alias the linked version's link holds
    ids = _project(world.fake)
    list(world.repo.versions(SCOPE))
    assert world.repo.links(ids["model:v1"])[0].protected_aliases == frozenset()
    world.fake.add_protected_aliases("team", ["baseline"])
    # when the executor re-validates the version (forget, then re-read), then the protection shows
    invalidate = getattr(world.repo, "invalidate", None)
    if callable(invalidate):
        invalidate([ids["model:v1"]])
    world.repo.version(ids["model:v1"])
    assert world.repo.links(ids["model:v1"])[0].protected_aliases == frozenset({"baseline"})


@pytest.mark.server
@pytest.mark.timeout(60)
def test_concurrent_collection_deletes_read_the_server_features_once() -> None:
    # given a fresh server and the executor's way of deleting collections from several threads
    from concurrent.futures import ThreadPoolExecutor

    from fakes.server import FakeWandbServer

    from .conftest import wandb_repository

    fake = FakeWandb(now=NOW)
    run = fake.create_run(str(SCOPE), "r")
    for i in range(4):
        fake.log_artifact(run, f"c{i}", "model", {"w": bytes([i])})
    with FakeWandbServer(fake) as server:
        repo = wandb_repository(server)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: repo.delete_collection(CollectionRef("team", "proj", f"c{i}")), range(4)))
        asked = [r.operation for r in server.requests].count("ServerFeaturesQuery")
    assert all(fake.collection_versions(f"team/proj/c{i}") == [] for i in range(4))
    assert asked == 1


@pytest.mark.server
@pytest.mark.timeout(60)
def test_a_listing_carries_the_server_features_so_deletes_need_no_extra_request() -> None:
    from fakes.server import FakeWandbServer

    from .conftest import wandb_repository

    fake = FakeWandb(now=NOW)
    _project(fake)
    with FakeWandbServer(fake, features=()) as server:
        repo = wandb_repository(server)
        list(repo.versions(SCOPE))
        repo.delete_collection(CollectionRef("team", "proj", "data"))
        operations = [r.operation for r in server.requests]
        errors = [r.errors for r in server.requests if r.errors]
    # the listing carried the features and the collection's id: the delete asks nothing before it
    assert "ServerFeaturesQuery" not in operations
    assert operations[-1] == "DeleteArtifactSequence"
    assert not {"ArtifactGuardCollections", "ArtifactGuardCollection"} & set(operations)
    assert errors == []
