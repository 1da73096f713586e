"""Crash and resume: an apply killed with SIGKILL at random points, then resumed from its journal.

The project lives in this process (a FakeWandb served over loopback RPC, see
``_rpc.py``); the apply runs in a child process that is killed either at a
chosen write call (before or after the fake carried it out, so the reply is
lost) or at a random moment. After ``resume``:

- the deleted set is exactly the plan's deletions that are still valid
  (the plan is made before a consumer is added to one version and another
  version is deleted by someone else);
- no operation ran twice: every version was deleted by exactly one call (its
  own ``delete_version`` or its collection's ``delete_collection``), and no
  write ever reached a version or collection the plan did not list.

``ci`` runs 24 trials, ``nightly`` 200.
"""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from artifact_guard._journal import Journal
from fakes import FakeWandb

from ._rpc import KillWhen, RpcServer
from ._support import NOW, PROJECT

ROOT = Path(__file__).resolve().parents[2]
WRITES = 15
"""Write calls a clean apply of the project below makes: 2 collection deletes and 13 version deletes."""
TRIALS = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else 24
POLICY = Policy(
    older_than=timedelta(days=10),
    allow_empty_collection=True,
    allow_delete_aliases=True,
    protected_aliases=frozenset({"production"}),
)


def _project() -> tuple[FakeWandb, ag.Plan, set[str], str]:
    """A project, a plan over it, changes made after planning, the deletions still valid, the gone id."""
    fake = FakeWandb(now=NOW)
    run = fake.create_run(PROJECT, "trainer")
    old = NOW - timedelta(days=40)
    for name, count, recent in (("old-a", 8, 0), ("old-b", 5, 0), ("mixed", 12, 3), ("mixed-2", 9, 2)):
        for i in range(count):
            created = NOW - timedelta(days=1, hours=i) if i >= count - recent else old + timedelta(hours=i)
            fake.log_artifact(run, name, "model", {f"{i}.bin": f"{name}{i}".encode()}, created_at=created)
    prod = next(v for v in fake.versions() if v.collection == "mixed" and v.index == 4)
    fake.add_aliases(prod, ["production"])
    plan = ag.plan(fake.repository(), PROJECT, POLICY, now=NOW)
    # After planning: one version gains a consumer (no longer valid), one is deleted by someone else.
    used = next(v for v in fake.versions() if v.collection == "mixed-2" and v.index == 1)
    fake.use_artifact(fake.create_run(PROJECT, "eval"), used)
    gone = next(v for v in fake.versions() if v.collection == "mixed" and v.index == 0)
    fake.delete_version(gone.id)
    valid = {d.version.id for d in plan.deletions} - {used.id}
    assert gone.id in valid and used.id not in valid and prod.id not in valid
    return fake, plan, valid, gone.id


def _kill_points(rng: random.Random, trials: int) -> list[tuple[int, KillWhen] | float]:
    """Half at write calls (before or after they land), half at random moments."""
    points: list[tuple[int, KillWhen] | float] = []
    for t in range(trials):
        if t % 2 == 0:
            points.append((rng.randint(1, WRITES), rng.choice(["before", "after"])))
        else:
            points.append(rng.uniform(0.0, 0.3))
    return points


def _run_trial(tmp_path: Path, point: tuple[int, KillWhen] | float, concurrency: int) -> None:
    fake, plan, valid, gone_id = _project()
    server = RpcServer(fake.repository(), latency=0.002)
    plan_file = tmp_path / "plan.pickle"
    plan_file.write_bytes(pickle.dumps(plan))
    journal = tmp_path / "ws.sqlite3"
    host, port = server.address
    argv = [host, str(port), str(plan_file), str(journal), str(concurrency)]
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.executor._crash_child", *argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server.arm(child.pid, point if isinstance(point, tuple) else None)
        if isinstance(point, float):
            assert server.first_call.wait(30), "the child never called the repository"
            time.sleep(point)
            if child.poll() is None:
                child.kill()
        try:
            _, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
        assert child.returncode in (0, -9), err.decode()[-2000:]

        # Resume in this process, against the very same state.
        if _recorded(journal):
            result = ag.resume(journal, _Counting(server), rate=None)
        else:  # killed before the journal recorded the plan: nothing ran, start again
            assert not server.attempted
            result = ag.apply(plan, _Counting(server), journal=journal, rate=None)
        assert result.ok and result.complete, result.summary()

        # The deleted set is exactly the still-valid deletions (the one deleted by someone else included).
        deleted = {v.id for v in fake.versions(include_deleted=True) if v.state is VersionState.DELETED}
        assert deleted == valid, (point, sorted(deleted ^ valid))

        # No operation ran twice, no write reached anything the plan did not list.
        assert server.attempted == server.applied, (point, server.attempted - server.applied)
        version_calls = {t: n for (m, t), n in server.applied.items() if m == "delete_version"}
        collection_calls = {t: n for (m, t), n in server.applied.items() if m == "delete_collection"}
        assert set(version_calls) <= valid - {gone_id}
        assert set(collection_calls) <= {f"{PROJECT}/old-a", f"{PROJECT}/old-b"}
        for vid in valid - {gone_id}:
            via = str(fake.version(vid).collection_ref) in collection_calls
            assert version_calls.get(vid, 0) + via == 1, (point, vid, version_calls.get(vid), via)
        assert all(n == 1 for n in collection_calls.values()), (point, collection_calls)
    finally:
        server.close()


def _recorded(journal: Path) -> bool:
    if not journal.exists():
        return False
    j = Journal.open(journal)
    try:
        return bool(j.plan_ids())
    finally:
        j.close()


class _Counting:
    """Writes through the server's repository, counted in the same ledger as the child's."""

    default_rate = None

    def __init__(self, server: RpcServer) -> None:
        self._server = server
        self._repo = server.repository

    def __getattr__(self, name: str) -> object:
        return getattr(self._repo, name)

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        self._server.attempted[("delete_version", version_id)] += 1
        self._repo.delete_version(version_id, delete_aliases=delete_aliases)
        self._server.applied[("delete_version", version_id)] += 1

    def delete_collection(self, collection: ag.CollectionRef) -> None:
        self._server.attempted[("delete_collection", str(collection))] += 1
        self._repo.delete_collection(collection)
        self._server.applied[("delete_collection", str(collection))] += 1


@pytest.mark.timeout(120)
def test_sigkill_at_random_points_then_resume_deletes_each_valid_version_exactly_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261127)
    for t, point in enumerate(_kill_points(rng, TRIALS)):
        trial_dir = tmp_path / f"t{t}"
        trial_dir.mkdir()
        _run_trial(trial_dir, point, concurrency=1 + t % 4)
