"""Property: whatever changes between plan and apply, apply deletes nothing the rules now block.

Random projects, random policies, random changes after planning (aliases,
consumers, registry links, running producers, deletions elsewhere, new
versions). After ``apply``:

- every version it deleted was in the plan, and the rules, re-run on the
  state just before the apply, do not block it;
- every planned deletion that nothing changed is deleted;
- each operation settled (done, skipped with a reason, or failed), and none failed.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from artifact_guard._rules import Facts, evaluate
from fakes import FakeWandb

from ._support import NOW, PROJECT

CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["alias", "consume", "link", "delete", "run", "log"]),
        st.integers(0, 30),
    ),
    max_size=6,
)
POLICIES = st.builds(
    Policy,
    keep_last=st.sampled_from([None, 0, 1, 2]),
    older_than=st.sampled_from([None, timedelta(days=2)]),
    allow_delete_aliases=st.booleans(),
    allow_empty_collection=st.booleans(),
    allow_consumed=st.booleans(),
    allow_empty=st.just(True),
)


def _build(sizes: list[int]) -> FakeWandb:
    fake = FakeWandb(now=NOW)
    runs = [fake.create_run(PROJECT, f"r{i}") for i in range(len(sizes))]
    for c, (run, size) in enumerate(zip(runs, sizes, strict=True)):
        for i in range(size):
            fake.log_artifact(
                run,
                f"coll-{c}",
                "model",
                {"f.bin": f"{c}-{i}".encode()},
                aliases=["tag"] if (c + i) % 4 == 1 else [],
                created_at=NOW - timedelta(days=40 - i * 3),
            )
    return fake


def _change(fake: FakeWandb, kind: str, n: int) -> None:
    live = fake.versions(scope=PROJECT)
    if not live:
        return
    v = live[n % len(live)]
    if kind == "alias":
        fake.add_aliases(v, [f"new{n}"])
    elif kind == "consume":
        fake.use_artifact(fake.create_run(PROJECT, f"reader{n}-{len(fake.runs())}"), v)
    elif kind == "link":
        with contextlib.suppress(ag.ConflictError):
            fake.link(v, f"team/wandb-registry-model/reg{n}")
    elif kind == "delete":
        fake.delete_version(v, delete_aliases=True)
    elif kind == "run":
        if v.producer is not None:
            fake.finish_run(v.producer, state="running")
    elif kind == "log" and v.producer is not None:
        fake.log_artifact(v.producer, v.collection, "model", {"n.bin": f"new{n}".encode()}, created_at=NOW)


@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    policy=POLICIES,
    changes=CHANGES,
    concurrency=st.integers(1, 3),
)
def test_apply_never_deletes_what_the_rules_block_after_changes(
    sizes: list[int], policy: Policy, changes: list[tuple[str, int]], concurrency: int
) -> None:
    fake = _build(sizes)
    plan = ag.plan(fake.repository(), PROJECT, policy, now=NOW)
    for kind, n in changes:
        _change(fake, kind, n)
    before = {v.id: v for v in fake.versions(include_deleted=True)}
    facts = {
        vid: Facts(v, fake.lineage(vid), fake.links(vid), NOW)
        for vid, v in before.items()
        if v.state is not VersionState.DELETED
    }
    repo = fake.repository()

    result = ag.apply(plan, repo, concurrency=concurrency, now=NOW)

    planned = {d.version.id: d.version for d in plan.deletions}
    deleted_now = {
        v.id
        for v in fake.versions(include_deleted=True)
        if v.state is VersionState.DELETED and before[v.id].state is not VersionState.DELETED
    }
    assert deleted_now <= set(planned)
    for vid in deleted_now:
        assert evaluate(facts[vid], policy) == (), (vid, evaluate(facts[vid], policy))
        # Aliases go only when the policy allows it and nobody touched them since planning.
        assert not before[vid].aliases or (
            policy.allow_delete_aliases and before[vid].aliases == planned[vid].aliases
        )
    assert result.failed == [] and result.pending == [] and result.complete
    settled = set(result.done) | {vid for vid, _ in result.skipped}
    assert settled == set(planned)
    assert all(reasons for _, reasons in result.skipped)
    if not changes:
        assert deleted_now == set(planned) and result.skipped == []
