"""The reference ordering on its own: the graph's cycles, and what a round runs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from artifact_guard._journal import OpRecord
from artifact_guard._ordering import References, _cycles, next_round

NODES = [f"v{i}" for i in range(8)]


def _reachable(edges: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        for m in edges.get(n, ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


@given(st.dictionaries(st.sampled_from(NODES), st.lists(st.sampled_from(NODES), unique=True, max_size=4)))
def test_cycles_are_the_strongly_connected_groups_of_two_or_more(edges: dict[str, list[str]]) -> None:
    edges = {n: [m for m in ms if m != n] for n, ms in edges.items()}
    reach = {n: _reachable(edges, n) for n in NODES}
    expected = {}
    for n in NODES:
        group = frozenset({n} | {m for m in reach[n] if n in reach[m]})
        if len(group) > 1:
            expected[n] = group
    assert _cycles(edges) == expected


def _op(op_id: int, target: str, state: str = "pending", *, kind: str = "delete_version",
        parent: int | None = None) -> OpRecord:  # fmt: skip
    return OpRecord(
        op_id=op_id, kind=kind, target=target, collection="e/p/c", label=target, parent=parent,
        planned={}, state=state, attempts=0, calls=0, outcome=None, error_class=None,
        error_message=None, reasons=(), created_at="", started_at=None, finished_at=None,
    )  # fmt: skip


def test_a_target_waits_for_its_referrer_then_runs() -> None:
    refs = References({"r": ["t"]})
    first = next_round([_op(1, "r"), _op(2, "t")], refs)
    assert [o.target for o in first.singles] == ["r"]
    second = next_round([_op(1, "r", "done"), _op(2, "t")], refs)
    assert [o.target for o in second.singles] == ["t"]


def test_a_skipped_referrer_keeps_its_target_and_the_targets_target() -> None:
    refs = References({"r": ["t"], "t": ["u"]})
    step = next_round([_op(1, "r", "skipped"), _op(2, "t"), _op(3, "u")], refs)
    assert [(o.target, why.rule) for o, why in step.blocked] == [("t", "referenced")]
    assert step.singles == []
    later = next_round([_op(1, "r", "skipped"), _op(2, "t", "skipped"), _op(3, "u")], refs)
    assert [o.target for o, _ in later.blocked] == ["u"]


def test_a_cycle_runs_only_when_every_member_is_ready_together() -> None:
    refs = References({"a": ["b"], "b": ["a"], "r": ["a"]})
    waiting = next_round([_op(1, "a"), _op(2, "b"), _op(3, "r")], refs)
    assert [o.target for o in waiting.singles] == ["r"] and waiting.cycles == []
    ready = next_round([_op(1, "a"), _op(2, "b"), _op(3, "r", "done")], refs)
    assert [sorted(o.target for o in g) for g in ready.cycles] == [["a", "b"]]


def test_collections_waiting_on_each_other_fall_back_to_per_version() -> None:
    # x (in collection 1) references y (in collection 2) and y references x.
    refs = References({"x": ["y"], "y": ["x"]})
    ops = [
        _op(1, "e/p/one", kind="delete_collection"),
        _op(2, "x", parent=1),
        _op(3, "e/p/two", kind="delete_collection"),
        _op(4, "y", parent=3),
    ]
    step = next_round(ops, refs)
    assert step.collections == [] and sorted(c.target for c, _ in step.fall_back) == ["e/p/one", "e/p/two"]
