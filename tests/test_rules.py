"""The safety rules: pure functions with stable ids returning reasons with parameters, never booleans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from artifact_guard import (
    RULE_IDS,
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    Policy,
    Reason,
    Run,
    Version,
    VersionState,
    describe,
)
from artifact_guard._rules import RULES, Facts, evaluate, last_version, outlives, reference_target

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CHAMP = CollectionRef("team", "wandb-registry-model", "champ", CollectionKind.PORTFOLIO)


def version(**changes: object) -> Version:
    fields: dict[str, object] = {
        "id": "v-id",
        "entity": "team",
        "project": "vision",
        "collection": "resnet",
        "type": "model",
        "index": 4,
        "created_at": NOW - timedelta(days=3),
    }
    fields.update(changes)
    return Version(**fields)  # type: ignore[arg-type]


def facts(
    v: Version | None = None,
    *,
    producer: Run | None = None,
    consumers: tuple[Run, ...] = (),
    links: tuple[Link, ...] = (),
    removed: frozenset[str] = frozenset(),
) -> Facts:
    return Facts(v or version(), Lineage(producer, consumers), links, NOW, removed)


def test_every_rule_id_is_known_and_last_version_is_the_planners() -> None:
    assert set(RULES) == set(RULE_IDS) - {"last-version"}
    assert list(RULE_IDS) == [
        "protected-alias",
        "has-aliases",
        "consumed",
        "registry-linked",
        "in-flight",
        "grace-period",
        "last-version",
        "referenced",
    ]


def test_a_plain_old_version_is_blocked_by_nothing() -> None:
    assert evaluate(facts(), Policy()) == ()


def test_protected_alias_names_the_aliases_held() -> None:
    reasons = evaluate(facts(version(aliases=frozenset({"production", "exp"}))), Policy())
    assert reasons[0] == Reason("protected-alias", (("aliases", ("production",)), ("registry_aliases", ())))
    assert str(reasons[0]) == "holds protected alias production"


def test_protected_alias_follows_the_policys_list() -> None:
    v = version(aliases=frozenset({"gold"}))
    assert RULES["protected-alias"](facts(v), Policy()) is None
    reason = RULES["protected-alias"](facts(v), Policy(protected_aliases={"gold"}))
    assert reason is not None and reason.args["aliases"] == ("gold",)


def test_a_registry_protected_alias_blocks_whatever_the_policy_says() -> None:
    link = Link(CHAMP, "v-id", 0, frozenset({"production", "latest"}), frozenset({"production"}))
    policy = Policy(protected_aliases=(), allow_registry_linked=True, allow_delete_aliases=True)
    reason = RULES["protected-alias"](facts(links=(link,)), policy)
    assert reason is not None
    assert reason.args == {"aliases": (), "registry_aliases": ("production",)}
    assert describe(reason) == "holds protected alias production (registry)"


def test_has_aliases_blocks_unless_the_policy_allows_deleting_aliases() -> None:
    v = version(aliases=frozenset({"latest", "exp"}))
    reason = RULES["has-aliases"](facts(v), Policy())
    assert reason == Reason("has-aliases", (("aliases", ("exp", "latest")),))
    assert describe(reason) == "holds aliases exp, latest"
    assert RULES["has-aliases"](facts(v), Policy(allow_delete_aliases=True)) is None
    assert RULES["has-aliases"](facts(v), Policy(waive=["has-aliases"])) is None


def test_consumed_names_the_consumers_that_stay() -> None:
    users = (Run("team/vision/eval-2"), Run("team/vision/eval-1"), Run("team/vision/gone"))
    reason = RULES["consumed"](facts(consumers=users, removed=frozenset({"team/vision/gone"})), Policy())
    assert reason is not None
    assert reason.args == {"runs": ("team/vision/eval-1", "team/vision/eval-2")}
    assert describe(reason).startswith("used by 2 run(s): team/vision/eval-1")


def test_consumed_by_runs_being_removed_only_does_not_block() -> None:
    users = (Run("team/vision/gone"),)
    assert (
        RULES["consumed"](facts(consumers=users, removed=frozenset({"team/vision/gone"})), Policy()) is None
    )
    assert RULES["consumed"](facts(consumers=users), Policy(allow_consumed=True)) is None


def test_registry_linked_names_the_links() -> None:
    link = Link(CHAMP, "v-id", 2, frozenset({"latest"}))
    reason = RULES["registry-linked"](facts(links=(link,)), Policy())
    assert reason is not None and reason.args == {"links": ("team/wandb-registry-model/champ:v2",)}
    assert RULES["registry-linked"](facts(links=(link,)), Policy(allow_registry_linked=True)) is None


@pytest.mark.parametrize("state", ["running", "pending"])
def test_in_flight_blocks_versions_of_running_producers(state: str) -> None:
    reason = RULES["in-flight"](facts(producer=Run("team/vision/train", state)), Policy())
    assert reason is not None
    assert reason.args == {"run": "team/vision/train", "run_state": state}
    assert describe(reason) == f"logged by run team/vision/train, still {state}"


def test_in_flight_blocks_pending_versions_and_cannot_be_waived() -> None:
    v = version(state=VersionState.PENDING)
    everything = Policy(
        allow_delete_aliases=True, allow_consumed=True, allow_registry_linked=True, grace_period=timedelta(0)
    )
    reason = RULES["in-flight"](facts(v), everything)
    assert reason == Reason("in-flight", (("state", "PENDING"),))
    assert describe(reason) == "still uploading (PENDING)"
    assert RULES["in-flight"](facts(producer=Run("team/vision/t", "finished")), Policy()) is None


def test_grace_period_blocks_young_versions_with_their_age() -> None:
    young = version(created_at=NOW - timedelta(hours=2))
    reason = RULES["grace-period"](facts(young), Policy())
    assert reason == Reason("grace-period", (("age_s", 7200), ("grace_s", 86400)))
    assert describe(reason) == "only 2 hours old (grace period 1 day)"
    assert RULES["grace-period"](facts(young), Policy(grace_period=timedelta(hours=1))) is None
    assert RULES["grace-period"](facts(young), Policy(grace_period=timedelta(0))) is None


def test_grace_period_boundary_is_inclusive_of_age_equal_to_the_period() -> None:
    exactly = version(created_at=NOW - timedelta(hours=24))
    assert RULES["grace-period"](facts(exactly), Policy()) is None


def test_evaluate_returns_every_blocking_rule_in_rule_order() -> None:
    link = Link(CHAMP, "v-id", 0, frozenset({"latest"}))
    v = version(
        aliases=frozenset({"best"}), created_at=NOW - timedelta(minutes=5), state=VersionState.PENDING
    )
    reasons = evaluate(
        facts(v, consumers=(Run("team/vision/e"),), links=(link,), producer=Run("team/vision/t", "running")),
        Policy(),
    )
    assert [r.rule for r in reasons] == [
        "protected-alias",
        "has-aliases",
        "consumed",
        "registry-linked",
        "in-flight",
        "grace-period",
    ]
    assert all(r.blocks for r in reasons)


def test_last_version_reason_and_policy_reasons_do_not_block() -> None:
    assert last_version("team/vision/resnet").blocks
    assert describe(last_version("resnet")) == "last surviving version of resnet"
    assert not Reason("policy:keep-last", (("n", 5), ("rank", 0))).blocks
    assert describe(Reason("policy:keep-last", (("n", 5), ("rank", 0)))) == "among the newest 5"


def test_an_unknown_rule_is_still_described() -> None:
    assert describe(Reason("custom", (("x", 1),))) == "custom {'x': 1}"


def test_rules_are_pure_the_same_facts_give_the_same_reasons() -> None:
    f = facts(version(aliases=frozenset({"best", "exp"})), consumers=(Run("team/vision/e"),))
    assert evaluate(f, Policy()) == evaluate(f, Policy())


# ---------------------------------------------------------------- issue 10: referenced, survivors


def test_referenced_names_the_referrers_and_is_waivable() -> None:
    f = Facts(version(), Lineage(), (), NOW, frozenset(), ("team/vision/eval:v2", "team/other/x:v0"))
    (reason,) = evaluate(f, Policy())
    assert reason == Reason("referenced", (("by", ("team/other/x:v0", "team/vision/eval:v2")),))
    assert describe(reason) == "referenced by 2 version(s): team/other/x:v0, team/vision/eval:v2"
    assert evaluate(f, Policy(allow_referenced=True)) == ()
    assert evaluate(f, Policy(waive=frozenset({"referenced"}))) == ()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("wandb-artifact://" + b"Artifact:7".hex() + "/model.ckpt", ("id", "QXJ0aWZhY3Q6Nw==")),
        ("wandb-artifact://QXJ0aWZhY3Q6Nw==/a/b", ("id", "QXJ0aWZhY3Q6Nw==")),
        ("wandb-client-artifact://abc123/model.ckpt", ("client", "abc123")),
        ("wandb-artifact:///x", None),
        ("s3://bucket/key", None),
        (None, None),
    ],
)
def test_reference_target_reads_w_and_b_artifact_uris(ref: str | None, expected: object) -> None:
    assert reference_target(ref) == expected


def test_a_survivor_is_committed_and_outlives_the_horizon() -> None:
    assert outlives(version(), NOW, timedelta(hours=24))
    assert not outlives(version(state=VersionState.PENDING), NOW, timedelta(0))
    # created 3 days ago: a 4-day TTL expires in 1 day, within 24 h + 1 s but not within 23 h.
    assert not outlives(version(ttl=timedelta(days=4)), NOW, timedelta(hours=24))
    assert outlives(version(ttl=timedelta(days=4)), NOW, timedelta(hours=23))
    assert not outlives(version(ttl=timedelta(days=2)), NOW, timedelta(0))
    assert outlives(version(ttl=timedelta.max), NOW, timedelta.max - timedelta(days=4))
