"""Plan files: written, read back equal; anything edited or inconsistent is refused by name."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard._plan_io import _checksum, dump_plan, load_plan, plan_from_json, plan_to_json
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import NOW


@pytest.fixture(scope="module")
def demo_plan() -> ag.Plan:
    fake = seed_demo()
    return ag.plan(fake.repository(), DEMO_PROJECT, ag.Policy(keep_last=5), now=fake.now())


def test_a_plan_round_trips_through_its_file(demo_plan: ag.Plan, tmp_path: Path) -> None:
    path = dump_plan(demo_plan, tmp_path / "plan.json")
    loaded = load_plan(path)
    assert loaded == demo_plan
    assert loaded.id == demo_plan.id
    doc = json.loads(path.read_text())
    assert doc["format"] == "artifact-guard-plan" and doc["format_version"] == 1
    assert doc["summary"]["delete"] == len(demo_plan.deletions)


def _edited(plan: ag.Plan, edit: Callable[[dict[str, Any]], None], *, reseal: bool = True) -> dict[str, Any]:
    doc = plan_to_json(plan)
    edit(doc)
    if reseal:  # a careful editor who also recomputed the checksum: the consistency checks still catch it
        doc["checksum"] = _checksum({k: v for k, v in doc.items() if k != "checksum"})
    return doc


def _first(doc: dict[str, Any], pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return next(d for d in doc["decisions"] if pred(d))


def _flip_blocked_to_delete(doc: dict[str, Any]) -> None:
    d = _first(doc, lambda d: d["blocked"])
    d["action"] = "delete"
    d["blocked"] = False


def _flip_keep_last_to_delete(doc: dict[str, Any]) -> None:
    d = _first(doc, lambda d: any(r["rule"] == "policy:keep-last" for r in d["reasons"]))
    d["action"] = "delete"


def _duplicate(doc: dict[str, Any]) -> None:
    doc["decisions"].append(dict(doc["decisions"][0]))


def _bad_totals(doc: dict[str, Any]) -> None:
    doc["collections"][0]["deleted"] += 1


def _bad_bytes(doc: dict[str, Any]) -> None:
    doc["reclaimable_bytes"] += 1


def _unknown_key(doc: dict[str, Any]) -> None:
    doc["decisions"][0]["force"] = True


def _policy_typo(doc: dict[str, Any]) -> None:
    doc["policy"]["keep-last"] = "5"


def _newer(doc: dict[str, Any]) -> None:
    doc["format_version"] = 2


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_flip_blocked_to_delete, "marked delete, but safety rule"),
        (_flip_keep_last_to_delete, "marked delete, but a policy clause keeps it"),
        (_duplicate, "is listed twice"),
        (_bad_totals, "do not match its decisions"),
        (_bad_bytes, "reclaimable_bytes: does not equal the sum"),
        (_unknown_key, "decisions[0]: unknown key 'force'"),
        (_policy_typo, "policy: keep-last: expected an integer >= 0"),
        (_newer, "written by a newer artifact-guard (format 2"),
    ],
)
def test_inconsistent_plans_are_refused_naming_the_problem(
    demo_plan: ag.Plan, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(ag.PlanError) as info:
        plan_from_json(_edited(demo_plan, edit), source="plan.json")
    assert message in str(info.value)
    assert str(info.value).startswith("plan.json: ")


def test_a_consistent_hand_edit_is_caught_by_the_checksum(demo_plan: ag.Plan) -> None:
    def drop_a_deletion(doc: dict[str, Any]) -> None:
        # Consistent on its own (delete -> keep with a reason), but not what was reviewed.
        d = _first(doc, lambda d: d["action"] == "delete")
        d["size"] += 1

    with pytest.raises(ag.PlanError, match="checksum mismatch"):
        plan_from_json(_edited(demo_plan, drop_a_deletion, reseal=False), source="plan.json")


@pytest.mark.parametrize("ttl", [float("inf"), 1e308, 2**70, -1, "1d"])
def test_absurd_ttls_are_plan_errors(demo_plan: ag.Plan, ttl: object) -> None:
    def set_ttl(doc: dict[str, Any]) -> None:
        doc["decisions"][0]["ttl_seconds"] = ttl

    with pytest.raises(ag.PlanError, match=r"decisions\[0\].ttl_seconds: expected null or seconds"):
        plan_from_json(_edited(demo_plan, set_ttl), source="plan.json")


def test_unreadable_plan_files(tmp_path: Path) -> None:
    with pytest.raises(ag.PlanError, match="cannot read plan file"):
        load_plan(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "artifact-guard-plan", ')
    with pytest.raises(ag.PlanError, match=r"invalid JSON at line 1"):
        load_plan(bad)
    other = tmp_path / "snapshot.json"
    other.write_text('{"format": "artifact-guard-snapshot"}')
    with pytest.raises(ag.PlanError, match="not an artifact-guard plan file"):
        load_plan(other)


# ------------------------------------------------------------------ fuzzing: edits only ever raise PlanError

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.sampled_from(
        ["delete", "keep", "PENDING", "DELETED", "2026-01-01T00:00:00", "a/b", "policy:selected"]
    )
    | st.sampled_from([float("inf"), float("-inf"), 1e308, 2**70, -1, 0, 10**30]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out.extend(_paths(v, (*prefix, i)))
    return out


_SMALL: dict[str, Any] = {}


def _small_doc() -> dict[str, Any]:
    if not _SMALL:
        fake = FakeWandb(now=NOW)
        run = fake.create_run("team/proj", "r")
        for i in range(4):
            fake.log_artifact(
                run, "m", "model", {"f": bytes([i]) * 10}, created_at=NOW - timedelta(days=9 - i)
            )
        the_plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
        _SMALL.update(plan_to_json(the_plan))
    return copy.deepcopy(_SMALL)


@given(data=st.data(), reseal=st.booleans(), delete=st.booleans())
def test_fuzzed_edits_of_a_plan_file_only_ever_raise_plan_error(
    data: st.DataObject, reseal: bool, delete: bool
) -> None:
    doc = _small_doc()
    paths = _paths(doc)[1:]
    # Half the edits hit a version's own fields: that is where a hand edit does harm.
    in_decision = [p for p in paths if p[:1] == ("decisions",) and len(p) == 3]
    path = data.draw(st.sampled_from(in_decision) | st.sampled_from(paths))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    if reseal:
        doc["checksum"] = _checksum({k: v for k, v in doc.items() if k != "checksum"})
    try:
        plan_from_json(doc, source="fuzz.json")
    except ag.PlanError as exc:
        assert str(exc).startswith("fuzz.json") and "\n" not in str(exc)


# ---------------------------------------------------------------- totals of 2**63 bytes and more


def _huge_plan() -> tuple[FakeWandb, ag.Plan]:
    """Three deletions of almost 2**62 bytes each: a total no SQLite integer holds."""
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/huge", "r")
    for i in range(4):
        fake.log_artifact(
            run,
            "huge",
            "model",
            {"w.bin": ("ABCD"[i] * 22 + "==", 2**62 - 1)},
            created_at=NOW - timedelta(days=9 - i),
        )
    plan = ag.plan(fake.repository(), "team/huge", ag.Policy(keep_last=1), now=NOW)
    assert plan.reclaimable_bytes >= 2**63
    return fake, plan


def test_a_plan_freeing_2_to_the_63_bytes_or_more_round_trips_through_its_file(tmp_path: Path) -> None:
    _, plan = _huge_plan()
    back = load_plan(dump_plan(plan, tmp_path / "plan.json"))
    assert back.reclaimable_bytes == plan.reclaimable_bytes
    assert back.id == plan.id and back.decisions == plan.decisions


def test_a_journal_holds_totals_of_2_to_the_63_bytes_or_more(tmp_path: Path) -> None:
    fake, plan = _huge_plan()
    result = ag.apply(plan, fake.repository(), journal=tmp_path / "ws.sqlite3")
    assert result.ok and result.predicted_bytes == plan.reclaimable_bytes
    assert ag.journal_status(tmp_path / "ws.sqlite3").predicted_bytes == plan.reclaimable_bytes


# ---------------------------------------------------------------- endless input


@pytest.mark.timeout(30)
def test_dev_zero_as_a_plan_file_is_one_line_in_bounded_memory() -> None:
    with pytest.raises(ag.PlanError) as info:
        load_plan("/dev/zero")
    assert "\n" not in str(info.value) and "/dev/zero" in str(info.value)


@pytest.mark.timeout(30)
def test_a_plan_file_larger_than_the_bound_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from artifact_guard import _plan_io

    path = tmp_path / "big.json"
    path.write_text(" " * 5000)
    monkeypatch.setattr(_plan_io, "MAX_PLAN_BYTES", 4096)
    with pytest.raises(ag.PlanError, match="larger than"):
        load_plan(path)


# ---------------------------------------------------------------- the apply estimate, the rate ceiling


def test_plan_says_how_many_calls_apply_will_send_and_about_how_long(cli: Any, model_policy: Path) -> None:
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy))
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "collection deletes: about" in ln)
    assert line.startswith(f"~{len(_demo_deletions(model_policy))} deletes, 0 collection deletes")
    assert "at 10 requests/s" in line


def _demo_deletions(policy_path: Path) -> list[ag.Decision]:
    from artifact_guard._policy_file import load_policy

    return list(ag.plan(seed_demo().repository(), DEMO_PROJECT, load_policy(policy_path)).deletions)


def test_the_estimate_counts_whole_collections_and_batch_re_reads() -> None:
    from artifact_guard._executor import estimate_apply

    fake = seed_demo()
    emptying = ag.Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)
    est = estimate_apply(ag.plan(fake.repository(), DEMO_PROJECT, emptying))
    assert est.collection_deletes > 0
    keep = estimate_apply(ag.plan(fake.repository(), DEMO_PROJECT, ag.Policy(keep_last=1)))
    assert keep.collection_deletes == 0 and keep.version_deletes > 0
    assert keep.version_deletes < keep.requests <= 1 + keep.version_deletes * 1.1 + 3
    assert keep.seconds == pytest.approx(keep.requests / 10)


@pytest.mark.parametrize("bad", ["0", "-3", "nan", "inf"])
def test_a_bad_rate_ceiling_is_one_line_and_exit_2(cli: Any, tmp_path: Path, bad: str) -> None:
    plan = ag.plan(seed_demo().repository(), DEMO_PROJECT, ag.Policy(keep_last=1))
    dump_plan(plan, tmp_path / "p.json")
    result = cli("apply", str(tmp_path / "p.json"), "--seed", "demo", "--yes", "--max-rate", bad)
    assert result.exit_code == 2
    assert "--max-rate" in result.output


# ------------------------------------------------------------ the fast reader agrees with the standard one


def _with_params(plan: ag.Plan, extras: list[Any]) -> ag.Plan:
    """The plan, its first deletions' selection reasons carrying one more parameter each."""
    import dataclasses

    from artifact_guard._rules import Reason

    decisions = list(plan.decisions)
    where = [i for i, d in enumerate(decisions) if d.action is ag.Action.DELETE][: len(extras)]
    for i, extra in zip(where, extras, strict=True):
        d = decisions[i]
        reasons = tuple(
            Reason(r.rule, tuple(sorted((*r.params, ("extra", extra))))) if r.rule == "policy:selected" else r
            for r in d.reasons
        )
        decisions[i] = dataclasses.replace(d, reasons=reasons)
    return dataclasses.replace(plan, decisions=tuple(decisions))


def test_reason_parameters_a_fast_decoder_would_change_read_back_exactly(
    demo_plan: ag.Plan, tmp_path: Path
) -> None:
    # orjson reads an integer beyond 64 bits as a float, and re-encodes NaN as null: the reader must
    # give back the int, and never confuse NaN with null (or one reason list with another).
    extras = [2**70, -(2**64), 2**64 - 1, float("nan"), None, (2**80, {"k": None}), {"k": float("nan")}]
    plan = _with_params(demo_plan, extras)
    back = load_plan(dump_plan(plan, tmp_path / "plan.json"))
    got = [dict(r.params).get("extra", "absent") for d in back.decisions for r in d.reasons]
    want = [dict(r.params).get("extra", "absent") for d in plan.decisions for r in d.reasons]
    assert repr(got) == repr(want)
    assert [type(x) for x in got] == [type(x) for x in want]


def test_equal_reason_lists_are_held_once(demo_plan: ag.Plan, tmp_path: Path) -> None:
    back = load_plan(dump_plan(demo_plan, tmp_path / "plan.json"))
    by_value: dict[Any, list[tuple[Any, ...]]] = {}
    for d in back.decisions:
        by_value.setdefault((d.action, d.reasons), []).append(d.reasons)
    repeated = [held for held in by_value.values() if len(held) > 1]
    assert repeated, "the demo plan repeats reason lists"
    assert all(all(h is held[0] for h in held) for held in repeated)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
@example({"ttl_seconds": 1e-07, "params": [float("nan"), 2**64]})  # where orjson's text differs
def test_the_fast_writer_writes_the_canonical_text_exactly(value: Any) -> None:
    from artifact_guard._plan_io import _canonical, _canonical_bytes

    try:
        expected = _canonical(value).encode()
    except UnicodeEncodeError:  # a lone surrogate: neither writer can write it
        with pytest.raises(UnicodeEncodeError):
            _canonical_bytes(value)
        return
    assert _canonical_bytes(value) == expected
