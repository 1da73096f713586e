"""Policy files: TOML in, Policy out, precise one-line errors, and a fuzzed parser."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artifact_guard import Policy, PolicyError
from artifact_guard._policy_file import (
    explain_policy,
    format_duration,
    load_policy,
    parse_duration,
    parse_policy_toml,
    policy_from_dict,
    policy_to_dict,
)

FULL = """
types = ["model", "dataset"]
collections = ["resnet50-*"]
exclude-collections = ["*-golden"]
keep-last = 5
keep-within = "30d"
delete-unaliased-older-than = "90d"
protected-aliases = ["production", "champion"]
grace-period = "12h"

[permissions]
delete-consumed = true
waive-rules = ["registry-linked"]
"""


def test_a_full_policy_file_maps_every_key() -> None:
    p = parse_policy_toml(FULL, source="artifact-guard.toml")
    assert p.types == ("model", "dataset")
    assert p.collections == ("resnet50-*",)
    assert p.exclude_collections == ("*-golden",)
    assert p.keep_last == 5
    assert p.keep_within == timedelta(days=30)
    assert p.older_than == timedelta(days=90)
    assert p.aliases == "unaliased"
    assert p.protected_aliases == frozenset({"production", "champion"})
    assert p.grace_period == timedelta(hours=12)
    assert p.allow_consumed and not p.allow_delete_aliases
    assert p.waived("registry-linked") and not p.waived("has-aliases")


def test_pyproject_reads_the_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.artifact-guard]\nkeep-last = 2\n')
    assert load_policy(tmp_path / "pyproject.toml").keep_last == 2
    assert load_policy(tmp_path).keep_last == 2  # a directory falls back to its pyproject.toml


def test_pyproject_without_the_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(PolicyError, match=r"pyproject.toml: tool.artifact-guard: no \[tool.artifact-guard\]"):
        load_policy(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keep-last = 3\nkeep-last = 4", "p.toml: (syntax): invalid TOML"),
        ('keep-last = "3"', "p.toml: keep-last: expected an integer >= 0, got a string ('3')"),
        ("keep-last = -1", "p.toml: keep-last: expected an integer >= 0"),
        ("keep-last = true", "p.toml: keep-last: expected an integer >= 0, got a boolean"),
        ("kep-last = 3", "p.toml: kep-last: unknown key; did you mean 'keep-last'?"),
        ("keep_last = 3", "p.toml: keep_last: unknown key; did you mean 'keep-last'?"),
        ('keep-within = "3 fortnights"', "p.toml: keep-within: expected a duration such as"),
        ("keep-within = 30", "p.toml: keep-within: expected a duration such as '30d'"),
        ('types = "model"', "p.toml: types: expected an array of strings, got a string"),
        ("types = [1]", "p.toml: types: expected non-empty strings, got an integer"),
        ('aliases = "some"', "p.toml: aliases: expected 'any', 'unaliased' or 'aliased'"),
        ('protected-aliases = ["v3"]', "p.toml: protected-aliases: invalid alias 'v3'"),
        ("keep-last = 1\npermissions = 3", "p.toml: permissions: expected a table, got an integer"),
        ("keep-last = 1\n[permissions]\ndelete-all = true", "p.toml: permissions.delete-all: unknown key"),
        ('keep-last = 1\n[permissions]\nwaive-rules = ["in-flight"]', "can never be waived"),
        ('keep-last = 1\n[permissions]\nwaive-rules = ["nope"]', "unknown rule id 'nope'"),
        ('keep-last = 1\n[permissions]\ndelete-aliases = "yes"', "permissions.delete-aliases: expected true"),
        # Conflicting rules.
        ('keep-aliases = true\naliases = "aliased"', "p.toml: keep-aliases: conflicts with aliases"),
        ('delete-unaliased-older-than = "9d"\nolder-than = "8d"', "conflicts with older-than"),
        ('delete-unaliased-older-than = "9d"\nkeep-aliases = false', "conflicts with keep-aliases = false"),
        ('keep-last = 1\ncollections = ["a*"]\nexclude-collections = ["a*"]', "cannot be both"),
        ('aliases = "aliased"', "p.toml: aliases: 'aliased' selects only versions that hold aliases"),
        (
            'keep-last = 1\n[permissions]\ndelete-aliases = false\nwaive-rules = ["has-aliases"]',
            "waives has-aliases but permissions.delete-aliases = false",
        ),
    ],
)
def test_bad_policy_files_say_file_key_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy_toml(text, source="p.toml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_and_non_utf8_files_are_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"missing.toml: \(file\): cannot read"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'types = ["mod\xe8le"]')
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        ("1w2d3h4m5.5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5.5)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["5d5d", "5 d", " 1d 2h ", "1h1d", "\u0665d", "\uff15d", "1.d", ".5d", "d", "", "5", "5D", "1e3s"]
)
def test_durations_have_one_strict_grammar_and_one_error_naming_the_value(text: str) -> None:
    # Issue 10 (11): never read some other way ("5d5d" was ten days).
    with pytest.raises(PolicyError) as info:
        parse_duration(text, source="p.toml", key="keep-within")
    message = str(info.value)
    assert message.startswith("p.toml: keep-within: expected a duration such as '30d'")
    assert message.endswith(f"got {text!r}") and "\n" not in message


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
policies = st.builds(
    Policy,
    types=st.lists(st.sampled_from(["model", "dataset", "eval"]), unique=True).map(tuple),
    collections=st.lists(st.sampled_from(["a*", "b", "c?"]), unique=True).map(tuple),
    aliases=st.sampled_from(["any", "unaliased", "aliased"]),
    keep_last=st.none() | st.integers(0, 1000),
    keep_within=st.none() | durations,
    older_than=st.none() | durations,
    protected_aliases=st.frozensets(st.sampled_from(["production", "best", "x-1", "a.b"])),
    allow_delete_aliases=st.booleans(),
    allow_consumed=st.booleans(),
    grace_period=durations,
    waive=st.frozensets(st.sampled_from(["consumed", "grace-period", "last-version", "has-aliases"])),
    allow_empty=st.booleans(),
)


@given(policies)
def test_policy_dict_round_trips_exactly(policy: Policy) -> None:
    assert policy_from_dict(policy_to_dict(policy)) == policy


@given(durations)
def test_duration_format_round_trips(d: timedelta) -> None:
    assert parse_duration(format_duration(d)) == d


def test_explain_says_the_policy_in_words() -> None:
    lines = explain_policy(parse_policy_toml(FULL, source="p.toml"))
    text = "\n".join(lines)
    assert "newest 5 of each collection" in text
    assert "within the last 30 days" in text
    assert "champion, production" in text
    assert "May delete a version used by another run (consumed)." in text
    assert "Never deletes a version holding any alias (has-aliases)." in text


# ------------------------------------------------------------------ fuzzing

keys = st.sampled_from(
    [
        "types",
        "collections",
        "exclude-collections",
        "keep-last",
        "keep-within",
        "older-than",
        "aliases",
        "keep-aliases",
        "delete-unaliased-older-than",
        "protected-aliases",
        "grace-period",
        "allow-empty",
        "permissions",
        "delete-aliases",
        "waive-rules",
        "bogus",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["30d", "1.5h", "0s", "9" * 16 + "w", "unaliased", "aliased", "production", "v1", ""])
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(keys | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(keys, values, max_size=6))
def test_fuzzed_mappings_only_ever_raise_policy_error(mapping: dict[str, Any]) -> None:
    try:
        policy_from_dict(mapping, source="fuzz")
    except PolicyError as exc:
        assert str(exc).startswith("fuzz: ")
        assert "\n" not in str(exc)


@given(st.text(alphabet='abcdefgiklnoprstuvwyz-_=[]{}."0123456789 \n#\\', max_size=80))
def test_fuzzed_toml_text_only_ever_raises_policy_error(text: str) -> None:
    try:
        parse_policy_toml(text, source="fuzz.toml")
    except PolicyError as exc:
        assert "\n" not in str(exc)


@given(st.dictionaries(keys, values, max_size=6))
def test_fuzzed_toml_documents_only_ever_raise_policy_error(mapping: dict[str, Any]) -> None:
    # The same documents, through the file path: written as TOML, parsed by tomllib, then validated.
    text = "\n".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in mapping.items() if v is not None)
    try:
        parse_policy_toml(text, source="f.toml")
    except PolicyError as exc:
        assert str(exc).startswith("f.toml: ") and "\n" not in str(exc)


def _toml_key(key: str) -> str:
    return json.dumps(key)


def _toml_value(value: Any) -> str:
    """TOML for a JSON-like value (inline tables and arrays); None stands for an invalid token."""
    if value is None:
        return "nul"  # not TOML: the parser must say so in one line
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


@pytest.mark.timeout(30)
def test_a_huge_or_endless_policy_file_is_one_error_in_bounded_memory(tmp_path: Path) -> None:
    # Issue 10 (8): /dev/zero, or a huge file given by mistake, is refused after 1 MiB.
    import os
    import resource

    from artifact_guard._policy_file import load_policy

    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 * 1024 * 1024))
    sources = [big] + ([Path("/dev/zero")] if os.path.exists("/dev/zero") else [])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for source in sources:
        with pytest.raises(PolicyError, match=r"larger than 1024 KiB: not a policy file") as info:
            load_policy(source)
        assert str(info.value).startswith(f"{source}: (file): ")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB
