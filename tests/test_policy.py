"""Policy: validated at construction (errors name the field), said in words, queried by the planner."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from artifact_guard import DEFAULT_PROTECTED_ALIASES, RULE_IDS, Policy, PolicyError


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("keep_last", -1),
        ("keep_last", 2.5),
        ("keep_last", True),
        ("keep_last", "3"),
        ("keep_within", timedelta(hours=-1)),
        ("keep_within", 3600),
        ("older_than", timedelta(days=-2)),
        ("grace_period", None),
        ("grace_period", timedelta(seconds=-1)),
        ("aliases", "some"),
        ("types", "model"),
        ("types", ["model", ""]),
        ("collections", "ckpt-*"),
        ("collections", [3]),
        ("exclude_collections", "x"),
        ("protected_aliases", "production"),
        ("protected_aliases", ["prod uction"]),
        ("protected_aliases", ["v3"]),
        ("protected_aliases", ["a:b"]),
        ("protected_aliases", [""]),
        ("waive", "consumed"),
        ("waive", ["no-such-rule"]),
        ("waive", ["protected-alias"]),
        ("waive", ["in-flight"]),
        ("allow_delete_aliases", "yes"),
        ("allow_consumed", 1),
        ("allow_registry_linked", None),
        ("allow_empty_collection", "false"),
        ("allow_empty", 0),
    ],
)
def test_an_invalid_value_is_refused_at_construction_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(PolicyError) as info:
        Policy(**{field: value})
    assert info.value.field == field
    assert repr(field) in str(info.value)
    assert "\n" not in str(info.value)  # one clear line


def test_policy_error_is_a_value_error_too() -> None:
    with pytest.raises(ValueError, match="keep_last"):
        Policy(keep_last=-3)


def test_an_unknown_rule_id_is_named_with_the_known_ones() -> None:
    with pytest.raises(PolicyError, match="unknown rule id 'consumd'") as info:
        Policy(waive=["consumd"])
    for rule in RULE_IDS:
        assert rule in str(info.value)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Policy(3)  # type: ignore[misc]


def test_replace_validates_again() -> None:
    with pytest.raises(PolicyError, match="keep_last"):
        dataclasses.replace(Policy(keep_last=3), keep_last=-1)


def test_iterables_are_stored_as_immutable_values() -> None:
    policy = Policy(types=["model"], collections=iter(["a*"]), protected_aliases=["gold"], waive=["consumed"])
    assert policy.types == ("model",)
    assert policy.collections == ("a*",)
    assert policy.protected_aliases == frozenset({"gold"})
    assert policy.waive == frozenset({"consumed"})
    assert hash(policy) == hash(Policy(types=("model",), collections=("a*",), protected_aliases={"gold"},
                                       waive={"consumed"}))  # fmt: skip


def test_defaults_follow_the_design() -> None:
    policy = Policy()
    assert policy.protected_aliases == DEFAULT_PROTECTED_ALIASES == {"production", "prod", "staging", "best"}
    assert policy.grace_period == timedelta(hours=24)
    assert policy.waived_rules == frozenset()
    assert not policy.allow_empty


@pytest.mark.parametrize(
    ("policy", "keeps"),
    [
        (Policy(), False),
        (Policy(keep_last=0), False),
        (Policy(keep_last=1), True),
        (Policy(keep_within=timedelta(days=1)), True),
        (Policy(keep_within=timedelta(0)), False),
        (Policy(older_than=timedelta(days=30)), True),
        (Policy(aliases="unaliased"), True),
        (Policy(aliases="aliased"), True),
        (Policy(types=("model",)), False),  # narrows what is considered, keeps none of it
    ],
)
def test_keeps_something(policy: Policy, keeps: bool) -> None:
    assert policy.keeps_something is keeps


@pytest.mark.parametrize(
    ("policy", "rule"),
    [
        (Policy(allow_delete_aliases=True), "has-aliases"),
        (Policy(allow_consumed=True), "consumed"),
        (Policy(allow_registry_linked=True), "registry-linked"),
        (Policy(allow_empty_collection=True), "last-version"),
        (Policy(grace_period=timedelta(0)), "grace-period"),
        (Policy(waive=["consumed"]), "consumed"),
        (Policy(waive=["grace-period"]), "grace-period"),
    ],
)
def test_flags_and_waive_switch_rules_off(policy: Policy, rule: str) -> None:
    assert policy.waived(rule)
    assert policy.waived_rules == {rule}
    assert not Policy().waived(rule)


def test_protected_alias_and_in_flight_can_never_be_waived() -> None:
    assert not Policy(allow_delete_aliases=True, allow_consumed=True).waived("protected-alias")
    assert not Policy().waived("in-flight")


def test_selects_collection_by_type_glob_and_exclusion() -> None:
    policy = Policy(types=("model",), collections=("resnet-*", "vit"), exclude_collections=("resnet-old*",))
    assert policy.selects_collection("model", "resnet-001")
    assert policy.selects_collection("model", "vit")
    assert not policy.selects_collection("dataset", "resnet-001")
    assert not policy.selects_collection("model", "vit-large")
    assert not policy.selects_collection("model", "resnet-old-3")
    assert Policy().selects_collection("anything", "any-name")


def test_globs_are_case_sensitive_like_wandb_names() -> None:
    assert not Policy(collections=("Resnet*",)).selects_collection("model", "resnet-1")


def test_changed_defaults_lists_only_what_differs() -> None:
    assert Policy().changed_defaults() == {}
    changed = Policy(keep_last=5, grace_period=timedelta(hours=1)).changed_defaults()
    assert changed == {"keep_last": 5, "grace_period": timedelta(hours=1)}


def test_str_says_the_policy_in_words() -> None:
    text = str(
        Policy(
            types=("model",),
            collections=("ckpt-*",),
            keep_last=5,
            keep_within=timedelta(days=7),
            older_than=timedelta(hours=36),
            aliases="unaliased",
            allow_consumed=True,
            waive=["registry-linked"],
        )
    )
    assert "of type model" in text
    assert "in collections matching ckpt-*" in text
    assert "keep the newest 5 of each collection" in text
    assert "keep versions logged within 7 days" in text
    assert "older than 36 hours" in text
    assert "only versions without aliases" in text
    assert "never delete aliases best, prod, production, staging" in text
    assert "grace period 1 day" in text
    assert "may delete consumed versions" in text
    assert "waive rules registry-linked" in text
