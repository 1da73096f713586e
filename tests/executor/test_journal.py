"""The journal, and bad input: another plan's journal, a newer format, a missing project, refused credentials.

Each bad input gives one clear error, deletes nothing, and leaves the journal consistent.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from artifact_guard._journal import Journal, policy_from_json, policy_to_json

from ._support import NOW, PROJECT, FaultyRepository, seed


def _plan(fake: object, **policy: object) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, Policy(**policy), now=NOW)  # type: ignore[attr-defined, arg-type]


def _live(fake: object) -> int:
    return len(fake.versions(scope=PROJECT))  # type: ignore[attr-defined]


def _states(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT kind, state FROM journal_ops ORDER BY plan_id, op_id").fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------------- policy JSON

policies = st.builds(
    Policy,
    types=st.lists(st.sampled_from(["model", "dataset"]), unique=True),
    collections=st.lists(st.sampled_from(["ckpt-*", "data"]), unique=True),
    aliases=st.sampled_from(["any", "unaliased", "aliased"]),
    keep_last=st.none() | st.integers(0, 9),
    keep_within=st.none() | st.integers(0, 10**6).map(lambda s: timedelta(seconds=s)),
    older_than=st.none() | st.floats(0, 10**6).map(lambda s: timedelta(seconds=s)),
    protected_aliases=st.frozensets(st.sampled_from(["production", "best", "gold"])),
    allow_delete_aliases=st.booleans(),
    allow_consumed=st.booleans(),
    grace_period=st.integers(0, 10**6).map(lambda s: timedelta(seconds=s)),
    waive=st.frozensets(st.sampled_from(["consumed", "grace-period", "last-version"])),
    allow_empty=st.booleans(),
)


@given(policies)
def test_policy_survives_the_journal_round_trip(policy: Policy) -> None:
    assert policy_from_json(policy_to_json(policy)) == policy


def test_a_policy_with_unknown_fields_is_refused() -> None:
    data = policy_to_json(Policy(keep_last=1))
    data["keep_forever"] = True
    with pytest.raises(ag.JournalError, match="unknown fields"):
        policy_from_json(data)


# ---------------------------------------------------------------------- journal content


def test_journal_records_every_operation_with_state_attempts_and_timestamps(tmp_path: Path) -> None:
    fake = seed(collections={"ckpt": 4})
    fake.add_aliases(next(v for v in fake.versions() if v.index == 0), ["tag"])
    plan = _plan(fake, keep_last=1)
    fake.use_artifact(fake.create_run(PROJECT, "eval"), next(v for v in fake.versions() if v.index == 1))
    journal = tmp_path / "ws.sqlite3"

    result = ag.apply(plan, fake.repository(), journal=journal)

    assert result.journal_path == journal
    j = Journal.open(journal)
    header = j.header(plan.id)
    assert header.policy == plan.policy and header.status == "finished"
    assert header.reclaimable_bytes == plan.reclaimable_bytes
    ops = {op.label: op for op in j.ops(plan.id)}
    j.close()
    assert set(ops) == {"ckpt:v1", "ckpt:v2"}
    assert ops["ckpt:v1"].state == "skipped" and ops["ckpt:v1"].reasons[0].rule == "consumed"
    done = ops["ckpt:v2"]
    assert (done.state, done.attempts, done.calls, done.outcome) == ("done", 1, 1, "deleted")
    assert done.started_at and done.finished_at and done.started_at <= done.finished_at


def test_apply_again_with_the_same_journal_continues_and_calls_nothing_twice(tmp_path: Path) -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    journal = tmp_path / "ws.sqlite3"
    first = ag.apply(plan, fake.repository(), journal=journal)
    repo = fake.repository()

    again = ag.apply(plan, repo, journal=journal)

    assert again.ok and sorted(again.done) == sorted(first.done)
    assert repo.write_calls == []


def test_several_finished_plans_share_one_workspace(tmp_path: Path) -> None:
    fake = seed()
    journal = tmp_path / "ws.sqlite3"
    ag.apply(_plan(fake, keep_last=4), fake.repository(), journal=journal)
    second = ag.apply(_plan(fake, keep_last=2), fake.repository(), journal=journal)
    assert second.ok and len(second.done) == 2
    assert len(Journal.open(journal).plan_ids()) == 2


# ---------------------------------------------------------------------- bad input


def _unfinished(tmp_path: Path, fake: object) -> tuple[ag.Plan, Path]:
    """A journal whose apply stopped (credentials refused) with everything still pending."""
    plan = _plan(fake, keep_last=2)
    repo = FaultyRepository(
        fake.repository(),  # type: ignore[attr-defined]
        {"version": lambda a, n: ag.AuthenticationError("API key refused")},
    )
    journal = tmp_path / "ws.sqlite3"
    result = ag.apply(plan, repo, journal=journal, breaker_threshold=1, concurrency=1)
    assert result.stopped
    return plan, journal


def test_a_journal_holding_another_plans_unfinished_apply_is_refused(tmp_path: Path) -> None:
    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    before = _states(journal)
    other = _plan(fake, keep_last=3)

    with pytest.raises(ag.JournalError, match="unfinished apply of another plan"):
        ag.apply(other, fake.repository(), journal=journal)

    assert _live(fake) == 6 and _states(journal) == before


def test_resume_with_a_plan_id_the_journal_does_not_hold_is_refused(tmp_path: Path) -> None:
    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    with pytest.raises(ag.JournalError, match="no single plan matching"):
        ag.resume(journal, fake.repository(), plan_id="0123456789abcdef")
    assert _live(fake) == 6


def test_a_journal_from_a_newer_format_is_refused(tmp_path: Path) -> None:
    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    conn = sqlite3.connect(journal)
    conn.execute("UPDATE journal_plans SET format = 99")
    conn.commit()
    conn.close()

    with pytest.raises(ag.JournalError, match="format 99, newer"):
        ag.resume(journal, fake.repository())
    assert _live(fake) == 6


def test_journal_tables_from_a_newer_format_are_refused(tmp_path: Path) -> None:
    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    conn = sqlite3.connect(journal)
    conn.execute("UPDATE schema_versions SET version = 7 WHERE component = 'journal'")
    conn.commit()
    conn.close()

    with pytest.raises(ag.JournalError, match="newer than this artifact-guard"):
        ag.resume(journal, fake.repository())
    assert _live(fake) == 6


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a database, it is a shopping list\n" * 100)
    fake = seed()
    with pytest.raises(ag.JournalError, match="not a readable workspace database"):
        ag.resume(bogus, fake.repository())
    with pytest.raises(ag.JournalError, match="no journal at"):
        ag.resume(tmp_path / "missing.sqlite3", fake.repository())
    assert _live(fake) == 6


def test_a_plan_whose_project_is_gone_deletes_nothing_and_writes_no_journal(tmp_path: Path) -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    fake.reset()
    journal = tmp_path / "ws.sqlite3"

    with pytest.raises(ag.NotFoundError, match="team/proj"):
        ag.apply(plan, fake.repository(), journal=journal)
    assert not journal.exists()


def test_refused_credentials_delete_nothing_and_leave_the_journal_as_it_was(tmp_path: Path) -> None:
    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    before = _states(journal)
    refused = FaultyRepository(fake.repository(), {"*": lambda a, n: ag.AuthenticationError("key refused")})

    with pytest.raises(ag.AuthenticationError, match="key refused"):
        ag.resume(journal, refused)
    with pytest.raises(ag.AuthenticationError):
        ag.apply(_plan(fake, keep_last=3), refused, journal=tmp_path / "other.sqlite3")

    assert refused.writes == [] and _live(fake) == 6
    assert _states(journal) == before
    assert not (tmp_path / "other.sqlite3").exists()
    # Once the key works, the same journal completes.
    assert ag.resume(journal, fake.repository()).ok
    assert {v.index for v in fake.versions(scope=PROJECT)} == {4, 5}


def test_status_reads_a_journal_without_a_repository(tmp_path: Path) -> None:
    fake = seed()
    plan, journal = _unfinished(tmp_path, fake)
    status = ag.journal_status(journal)
    assert status.plan_id == plan.id and status.stopped
    # The four planned versions are re-read in one batch: that read failed, so all four did
    # (resume retries them).
    assert (len(status.failed), len(status.pending)) == (4, 0)
    assert "stopped:" in status.summary()
    assert all(v.state is VersionState.COMMITTED for v in fake.versions())


def test_a_format_1_journal_is_upgraded_in_place_and_resumes(tmp_path: Path) -> None:
    import sqlite3

    fake = seed()
    _, journal = _unfinished(tmp_path, fake)
    conn = sqlite3.connect(journal)
    conn.execute("ALTER TABLE journal_ops DROP COLUMN notes")
    conn.execute("UPDATE schema_versions SET version = 1 WHERE component = 'journal'")
    conn.commit()
    conn.close()

    finished = ag.resume(journal, fake.repository())

    assert finished.ok and all(o.notes == () for o in finished.operations)
    conn = sqlite3.connect(journal)
    assert conn.execute("SELECT version FROM schema_versions WHERE component = 'journal'").fetchone() == (2,)
    conn.close()
