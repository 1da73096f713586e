"""References between planned deletions: referrers go first, and a kept referrer keeps its targets.

A plan may delete a version T and a version R whose manifest references T
(the planner's ``referenced`` rule lets T go: removed together). If apply then
skips R (it changed since planning), deleting T would leave R, a survivor, with
a broken reference. Given / when / then.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy, TransientError, Version, VersionState
from artifact_guard._pacing import RetryPolicy
from fakes import FakeWandb

from ._support import NOW, PROJECT, FaultyRepository

OLD = NOW - timedelta(days=30)
EMPTYING = Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)


def _ref(v: Version) -> str:
    return f"wandb-artifact://{base64.b64decode(v.id).hex()}/f.bin"


def _log(fake: FakeWandb, name: str, i: int, refs: tuple[Version, ...] = ()) -> Version:
    return fake.log_artifact(
        f"{PROJECT}/trainer",
        name,
        "dataset",
        {f"{name}{i}.bin": f"{name}-{i}".encode()},
        references=[(f"r{n}.bin", _ref(t)) for n, t in enumerate(refs)],
        created_at=OLD + timedelta(hours=i),
    )


def _world() -> FakeWandb:
    fake = FakeWandb(now=NOW)
    fake.create_run(PROJECT, "trainer")
    return fake


def _chain() -> tuple[FakeWandb, Version, Version, Version]:
    """u <- t <- r: r references t, t references u; each in its own collection, each with a newer survivor.

    The collections sort targets first (plan order), so only reference order puts r first."""
    fake = _world()
    u = _log(fake, "a-u", 0)
    t = _log(fake, "b-t", 0, (u,))
    r = _log(fake, "c-r", 0, (t,))
    for name in ("a-u", "b-t", "c-r"):
        _log(fake, name, 1)
    return fake, r, t, u


def _plan(fake: FakeWandb, policy: Policy | None = None) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, policy or Policy(keep_last=1), now=NOW)


def _state(fake: FakeWandb, v: Version) -> VersionState:
    return fake.version(v.id).state


def _rules(result: ag.ApplyResult, v: Version) -> set[str]:
    return {r.rule for vid, rs in result.skipped if vid == v.id for r in rs}


def test_a_chain_whose_head_was_skipped_keeps_all_three() -> None:
    # Given a plan deleting r, t and u, where r references t and t references u ..
    fake, r, t, u = _chain()
    p = _plan(fake)
    assert {r.id, t.id, u.id} <= {d.version.id for d in p.deletions}
    # .. when r gets an alias before apply (so apply skips it)
    fake.add_aliases(r, ["keep-me"])
    result = ag.apply(p, fake.repository())
    # Then neither t nor u is deleted from under it, and the journal says why
    assert {_state(fake, v) for v in (r, t, u)} == {VersionState.COMMITTED}
    assert _rules(result, t) == {"referenced"} and _rules(result, u) == {"referenced"}
    assert result.complete


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_chain_is_deleted_referrers_first(concurrency: int) -> None:
    fake, r, t, u = _chain()
    p = _plan(fake)
    repo = FaultyRepository(fake.repository())
    result = ag.apply(p, repo, concurrency=concurrency)
    assert result.ok
    order = [vid for m, vid in repo.writes if m == "delete_version"]
    assert order.index(r.id) < order.index(t.id) < order.index(u.id), order


def test_a_failed_referrer_delete_keeps_its_target() -> None:
    # Given r references t, both planned; r's delete never gets an answer (outcome unknown) ..
    fake, r, t, u = _chain()
    p = _plan(fake)
    lost = lambda vid, n: TransientError("timed out") if vid == r.id else None  # noqa: E731
    repo = FaultyRepository(fake.repository(), {"delete_version": lost})
    result = ag.apply(p, repo, retry=RetryPolicy(attempts=2, base=0.0), sleep=lambda s: None)
    # Then t and u stay: r may still exist
    assert [vid for vid, _ in result.failed] == [r.id]
    assert _state(fake, t) is VersionState.COMMITTED and _state(fake, u) is VersionState.COMMITTED
    assert _rules(result, t) == {"referenced"} and _rules(result, u) == {"referenced"}


def _cycle() -> tuple[FakeWandb, Version, Version]:
    """a and b reference each other (a's reference to b by client id, made before b committed)."""
    fake = _world()
    a = fake.log_artifact(
        f"{PROJECT}/trainer",
        "a",
        "dataset",
        {"a.bin": b"a"},
        references=[("b.bin", "wandb-client-artifact://client-b/b.bin")],
        created_at=OLD,
    )
    b = fake.log_artifact(
        f"{PROJECT}/trainer",
        "b",
        "dataset",
        {"b.bin": b"b"},
        references=[("a.bin", _ref(a))],
        created_at=OLD,
        client_id="client-b",
    )
    for name in ("a", "b"):
        _log(fake, name, 1)
    return fake, a, b


@pytest.mark.parametrize("skipped", ["a", "b"])
def test_a_cycle_with_one_member_skipped_is_kept_whole(skipped: str) -> None:
    fake, a, b = _cycle()
    p = _plan(fake)
    assert {a.id, b.id} <= {d.version.id for d in p.deletions}
    kept, other = (a, b) if skipped == "a" else (b, a)
    fake.add_aliases(kept, ["keep-me"])
    result = ag.apply(p, fake.repository())
    assert _state(fake, a) is VersionState.COMMITTED and _state(fake, b) is VersionState.COMMITTED
    assert _rules(result, other) == {"referenced"} and "referenced" not in _rules(result, kept)


def test_a_cycle_whose_members_all_pass_is_deleted() -> None:
    fake, a, b = _cycle()
    result = ag.apply(_plan(fake), fake.repository())
    assert result.ok
    assert _state(fake, a) is VersionState.DELETED and _state(fake, b) is VersionState.DELETED


def _coarse() -> tuple[FakeWandb, Version, Version]:
    """Two collections emptied whole: a member r of ``derived`` references a member t of ``ckpt``."""
    fake = _world()
    t = _log(fake, "ckpt", 0)
    for i in range(1, 4):
        _log(fake, "ckpt", i)
    r = _log(fake, "derived", 0, (t,))
    _log(fake, "derived", 1)
    return fake, r, t


def test_a_collection_holding_a_target_goes_whole_only_after_its_referrer() -> None:
    fake, _, _ = _coarse()
    repo = FaultyRepository(fake.repository())
    result = ag.apply(_plan(fake, EMPTYING), repo)
    assert result.ok
    assert repo.writes == [
        ("delete_collection", f"{PROJECT}/derived"),
        ("delete_collection", f"{PROJECT}/ckpt"),
    ]


def test_a_collection_holding_a_target_of_a_skipped_referrer_falls_back_to_per_version() -> None:
    fake, r, t = _coarse()
    p = _plan(fake, EMPTYING)
    fake.add_aliases(r, ["keep-me"])  # derived falls back, r is skipped (aliases changed)
    repo = FaultyRepository(fake.repository())
    result = ag.apply(p, repo)
    assert _state(fake, r) is VersionState.COMMITTED and _state(fake, t) is VersionState.COMMITTED
    assert _rules(result, t) == {"referenced"}
    assert not any(m == "delete_collection" for m, _ in repo.writes)
    ckpt_left = [v for v in fake.versions(scope=PROJECT) if v.collection == "ckpt"]
    assert [v.id for v in ckpt_left] == [t.id]  # the rest of ckpt went, one by one
    coll = next(o for o in result.operations if o.target == f"{PROJECT}/ckpt")
    assert coll.state == "skipped" and coll.reasons[0].rule == "referenced"


class _Crash(BaseException):
    """Stands for the process dying in the middle of a write."""


@pytest.mark.parametrize("landed", [False, True])
def test_resume_after_a_crash_mid_referrer_delete_keeps_the_guarantee(tmp_path: Path, landed: bool) -> None:
    # Given an apply that dies while r's delete is in flight (it landed, or not) ..
    fake, r, t, u = _chain()
    p = _plan(fake)
    inner = fake.repository()

    def crash(vid: str, n: int) -> BaseException | None:
        if vid != r.id:
            return None
        if landed:
            inner.delete_version(vid)
        return _Crash()

    journal = tmp_path / "ws.sqlite3"
    with pytest.raises(_Crash):
        ag.apply(p, FaultyRepository(inner, {"delete_version": crash}), journal=journal, concurrency=1)
    assert _state(fake, t) is VersionState.COMMITTED
    # .. when, before the resume, r (if still there) gets an alias
    if not landed:
        fake.add_aliases(r, ["keep-me"])
    result = ag.resume(journal, fake.repository())
    assert result.complete
    if landed:
        # Then r is settled as gone, and its targets follow
        assert {_state(fake, v) for v in (r, t, u)} == {VersionState.DELETED}
    else:
        # Then r survives and so do its targets
        assert {_state(fake, v) for v in (r, t, u)} == {VersionState.COMMITTED}
        assert _rules(result, t) == {"referenced"} and _rules(result, u) == {"referenced"}


def test_collections_waiting_on_each_other_fall_back_to_per_version_referrers_first() -> None:
    # Given two collections emptied whole: ckpt's m references derived's s, which references ckpt's n
    fake = _world()
    n = _log(fake, "ckpt", 0)
    s = _log(fake, "derived", 0, (n,))
    _log(fake, "derived", 1)
    m = _log(fake, "ckpt", 1, (s,))
    repo = FaultyRepository(fake.repository())
    # When applied: neither collection can go whole first (each holds a target of the other's member)
    result = ag.apply(_plan(fake, EMPTYING), repo)
    # Then both fall back to per-version deletes, referrers first, and everything goes
    assert result.ok and fake.versions(scope=PROJECT) == []
    assert all(method == "delete_version" for method, _ in repo.writes)
    order = [vid for _, vid in repo.writes]
    assert order.index(m.id) < order.index(s.id) < order.index(n.id), order
