"""The domain model: immutable values, W&B naming, and errors that name what was malformed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from artifact_guard import (
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    ManifestEntry,
    NotFoundError,
    Run,
    Scope,
    Version,
    VersionState,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_version(**changes: object) -> Version:
    base = Version(
        id="QXJ0aWZhY3Q6MQ==",
        entity="team",
        project="vision",
        collection="resnet",
        type="model",
        index=3,
        created_at=T0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_scope_parses_entity_slash_project_and_prints_it_back() -> None:
    scope = Scope.parse("team/vision")
    assert (scope.entity, scope.project) == ("team", "vision")
    assert str(scope) == "team/vision"


@pytest.mark.parametrize("bad", ["team", "team/", "/vision", "team/vision/extra", ""])
def test_a_malformed_scope_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(NotFoundError) as info:
        Scope.parse(bad)
    assert repr(bad) in str(info.value)
    assert "entity/project" in str(info.value)


def test_collection_ref_parses_three_parts_and_knows_its_scope_and_kind() -> None:
    ref = CollectionRef.parse("team/vision/resnet")
    assert ref.scope == Scope("team", "vision")
    assert ref.kind is CollectionKind.SEQUENCE
    assert str(ref) == "team/vision/resnet"
    portfolio = CollectionRef.parse("team/wandb-registry-model/champ", CollectionKind.PORTFOLIO)
    assert portfolio.kind is CollectionKind.PORTFOLIO


@pytest.mark.parametrize("bad", ["team/vision", "team//resnet", "a/b/c/d"])
def test_a_malformed_collection_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(NotFoundError, match="collection"):
        CollectionRef.parse(bad)


def test_version_names_follow_wandb() -> None:
    v = make_version()
    assert v.name == "resnet:v3"
    assert v.qualified_name == "team/vision/resnet:v3"
    assert v.collection_ref == CollectionRef("team", "vision", "resnet")
    assert v.scope == Scope("team", "vision")


def test_version_defaults_are_a_committed_unaliased_version() -> None:
    v = make_version()
    assert v.state is VersionState.COMMITTED
    assert v.aliases == frozenset()
    assert v.ttl is None and v.producer is None and v.size == 0


def test_model_values_are_immutable() -> None:
    v = make_version()
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.state = VersionState.DELETED  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ManifestEntry("a", "d", 1).size = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Run("team/vision/r1").state = "running"  # type: ignore[misc]


def test_version_equality_ignores_the_informational_manifest_digest() -> None:
    assert make_version(digest="a") == make_version(digest="b")
    assert make_version(aliases=frozenset({"latest"})) != make_version()


def test_states_have_wandb_names() -> None:
    assert [s.value for s in VersionState] == ["PENDING", "COMMITTED", "DELETED"]


def test_manifest_entry_is_stored_unless_it_is_a_reference() -> None:
    stored = ManifestEntry("model.ckpt", "abc==", 10)
    reference = ManifestEntry("data.parquet", "def==", 10, "s3://bucket/data.parquet")
    assert stored.ref is None
    assert reference.ref == "s3://bucket/data.parquet"


@pytest.mark.parametrize(
    ("state", "running"),
    [("running", True), ("RUNNING", True), ("pending", True), ("finished", False), ("crashed", False)],
)
def test_a_run_is_running_while_it_may_still_upload(state: str, running: bool) -> None:
    assert Run("team/vision/r1", state).running is running


def test_a_run_knows_its_scope() -> None:
    assert Run("team/vision/abc123").scope == Scope("team", "vision")


def test_link_name_and_defaults() -> None:
    portfolio = CollectionRef.parse("team/wandb-registry-model/champ", CollectionKind.PORTFOLIO)
    link = Link(portfolio, "vid", 2)
    assert link.name == "team/wandb-registry-model/champ:v2"
    assert link.aliases == frozenset() and link.protected_aliases == frozenset()


def test_lineage_defaults_to_unknown_producer_and_no_consumers() -> None:
    assert Lineage() == Lineage(None, ())


def test_a_version_may_carry_a_ttl() -> None:
    assert make_version(ttl=timedelta(days=7)).ttl == timedelta(days=7)
