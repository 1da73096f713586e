"""Ordering an apply by the plan's references: referrers first, cycles together.

A plan may delete a version T together with a version R whose manifest
references T (the planner's ``referenced`` rule lets T go because R goes too).
T may then be written only once R is done: if R is skipped (it gained an
alias, say), T must stay, or R would be left pointing at nothing. So apply
runs in rounds, each one decided here from the journal's states alone:

- a whole-collection delete runs once every planned referrer of a member,
  outside the collection, is done; it falls back to per-version deletes when
  one of them was skipped or failed, or when collections wait on each other;
- a version runs once every planned referrer outside its cycle is done, and
  is skipped (reason ``referenced``) when one was skipped or failed;
- versions referencing each other (a cycle) run together, once all of them
  are ready.

:func:`next_round` is pure: the executor carries the round out (reads,
judgments, writes) and asks again until nothing moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._journal import OpRecord
from ._model import ManifestEntry
from ._rules import Reason, reference_target, referenced_reason

__all__ = ["References", "Round", "next_round", "reference_edges", "versions_to_run"]


class References:
    """Which planned deletions reference which (version ids), and the cycles among them."""

    def __init__(self, edges: Mapping[str, Sequence[str]]) -> None:
        self._referrers: dict[str, set[str]] = {}
        for r, targets in edges.items():
            for t in targets:
                if t != r:
                    self._referrers.setdefault(t, set()).add(r)
        self._cycle = _cycles({r: [t for t in ts if t != r] for r, ts in edges.items()})

    def referrers(self, target: str) -> frozenset[str]:
        """Planned deletions whose manifests reference ``target``."""
        return frozenset(self._referrers.get(target, ()))

    def referrers_of(self, targets: Iterable[str]) -> set[str]:
        return {r for t in targets for r in self._referrers.get(t, ())}

    def cycle(self, target: str) -> frozenset[str]:
        """The versions referencing each other with ``target`` (itself alone when none)."""
        return self._cycle.get(target, frozenset((target,)))

    def outside_referrers(self, target: str) -> frozenset[str]:
        """Referrers that must be deleted before ``target`` (its cycle goes together)."""
        return self.referrers(target) - self.cycle(target)


def _cycles(edges: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Strongly connected components of more than one version (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: dict[str, frozenset[str]] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, ())
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    members = frozenset(comp)
                    out.update((m, members) for m in comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def reference_edges(
    todo: Sequence[OpRecord],
    versions: Sequence[OpRecord],
    manifest: Callable[[str], tuple[ManifestEntry, ...] | None],
) -> dict[str, list[str]]:
    """Referrer id -> ids of the planned deletions its manifest references (``wandb-artifact://``,
    or ``wandb-client-artifact://`` by client id); ``manifest`` answers None for a version gone."""
    planned = {o.target for o in versions}
    by_client = {str(o.planned["client_id"]): o.target for o in versions if o.planned.get("client_id")}
    edges: dict[str, list[str]] = {}
    for op in todo:
        vid = op.target
        entries = manifest(vid)
        if entries is None:
            continue  # gone: it references nothing any more
        found: set[str] = set()
        for entry in entries:
            target = reference_target(entry.ref)
            if target is None:
                continue
            tid = target[1] if target[0] == "id" else by_client.get(target[1])
            if tid is not None and tid != vid and tid in planned:
                found.add(tid)
        if found:
            edges[vid] = sorted(found)
    return edges


def versions_to_run(ops: Sequence[OpRecord]) -> list[OpRecord]:
    """Pending per-version deletes not covered by a whole-collection delete still to run."""
    parents = {o.op_id: o.state for o in ops if o.kind == "delete_collection"}
    return [
        o
        for o in ops
        if o.kind == "delete_version"
        and o.state == "pending"
        and (o.parent is None or parents.get(o.parent) in ("skipped", "failed"))
    ]


@dataclass
class Round:
    """What one round does, in this order (the executor carries it out).

    ``collections`` (with their members) run first; when there are any, the
    round ends there. Otherwise ``blocked`` versions are skipped and, if there
    were any, the round ends; otherwise ``singles`` run in batches, then each
    of ``cycles`` together.
    """

    fall_back: list[tuple[OpRecord, Reason]] = field(default_factory=list)
    """Whole-collection deletes to skip (their members then go one by one), with why."""
    collections: list[tuple[OpRecord, list[OpRecord]]] = field(default_factory=list)
    blocked: list[tuple[OpRecord, Reason]] = field(default_factory=list)
    """Versions to skip: a planned referrer of theirs was skipped or failed."""
    singles: list[OpRecord] = field(default_factory=list)
    cycles: list[list[OpRecord]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.fall_back or self.collections or self.blocked or self.singles or self.cycles)


def next_round(ops: Sequence[OpRecord], refs: References) -> Round:
    """The next round, from the journal's operations as they stand."""
    state = {o.target: o.state for o in ops if o.kind == "delete_version"}
    labels = {o.target: o.label for o in ops if o.kind == "delete_version"}
    out = Round()
    # Collections: whole only once every planned referrer of a member outside them is done.
    colls = [o for o in ops if o.kind == "delete_collection" and o.state == "pending"]
    children: dict[int, list[OpRecord]] = {c.op_id: [] for c in colls}
    for o in ops:
        if o.parent in children:
            children[o.parent].append(o)
    waiting: dict[int, set[str]] = {}
    for c in colls:
        members = {o.target for o in children[c.op_id]}
        outside = refs.referrers_of(members) - members
        waiting[c.op_id] = outside
        if all(state.get(r) == "done" for r in outside):
            out.collections.append((c, children[c.op_id]))
        elif any(state.get(r) in ("skipped", "failed") for r in outside):
            by = tuple(sorted(labels[r] for r in outside if state.get(r) != "done"))
            out.fall_back.append((c, referenced_reason(by)))
    if out.collections:
        return out
    todo = versions_to_run(ops)
    for o in todo:
        bad = [r for r in refs.referrers(o.target) if state.get(r) in ("skipped", "failed")]
        if bad:
            out.blocked.append((o, referenced_reason(tuple(labels[r] for r in bad))))
    if out.blocked:
        return out
    ready = [o for o in todo if all(state.get(r) == "done" for r in refs.outside_referrers(o.target))]
    cycles: dict[frozenset[str], list[OpRecord]] = {}
    for o in ready:
        cycle = refs.cycle(o.target)
        if len(cycle) == 1:
            out.singles.append(o)
        else:
            cycles.setdefault(cycle, []).append(o)
    out.cycles = [
        group
        for cycle, group in cycles.items()
        if len(group) == len([t for t in cycle if state.get(t) == "pending"])
    ]
    if out.empty and colls:
        # Collections waiting on each other's members (a cycle across collections): per-version.
        out.fall_back = [
            (c, referenced_reason(tuple(sorted(labels[r] for r in waiting[c.op_id])))) for c in colls
        ]
    return out
