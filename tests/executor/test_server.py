"""The executor through the real adapter and wandb SDK, against the fake W&B server.

Each apply runs in a subprocess (wandb-core can hang at exit; a SIGKILLed
child must not take the test process with it); the project lives in this
process, in the server's FakeWandb.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from fakes import FakeWandb
from fakes.server import FakeWandbServer

from ._support import PROJECT

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT = 90.0


def _project(fake: FakeWandb) -> tuple[ag.Plan, set[str]]:
    """Three collections; the plan keeps the newest 2 of each; one planned version gains an alias after."""
    run = fake.create_run(PROJECT, "trainer")
    old = fake.now() - timedelta(days=30)
    for name in ("ckpt-a", "ckpt-b", "ckpt-c"):
        for i in range(9):
            fake.log_artifact(run, name, "model", {"w.bin": f"{name}{i}".encode()}, created_at=old)
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=2), now=fake.now())
    changed = next(v for v in fake.versions() if v.collection == "ckpt-b" and v.index == 3)
    fake.add_aliases(changed, ["hold"])
    return plan, {d.version.id for d in plan.deletions} - {changed.id}


def _child(server: FakeWandbServer, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.executor._server_child", *args],
        cwd=ROOT,
        env={**os.environ, **server.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"child hung for {CHILD_TIMEOUT}s and was killed")
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _deleted(fake: FakeWandb) -> set[str]:
    return {v.id for v in fake.versions(include_deleted=True) if v.state is VersionState.DELETED}


@pytest.mark.timeout(180)
def test_under_20_percent_429_and_500_every_operation_settles_and_nothing_outside_the_plan_goes(
    tmp_path: Path,
) -> None:
    fake = FakeWandb()
    plan, valid = _project(fake)
    with FakeWandbServer(fake, fault_seed=3) as server:
        server.faults.add("*", latency=0.005)
        server.faults.add("*", status=429, fraction=0.1, retry_after=0.0)
        server.faults.add("*", status=500, fraction=0.1)
        (tmp_path / "plan.pickle").write_bytes(pickle.dumps(plan))
        out = _finish(_child(server, "apply", str(tmp_path / "plan.pickle"), str(tmp_path / "j.db"), "4"))
        statuses = [r.status for r in server.requests]

    planned = {d.version.id for d in plan.deletions}
    settled = set(out["done"]) | {v for v, _ in out["skipped"]} | {v for v, _ in out["failed"]}
    assert settled == planned and out["pending"] == [], out["summary"]
    assert all(reasons for _, reasons in out["skipped"]) and all(err for _, err in out["failed"])
    assert _deleted(fake) <= planned
    assert set(out["done"]) == _deleted(fake)
    assert [v for v, rules in out["skipped"] if "has-aliases" in rules] == sorted(planned - valid)
    assert statuses.count(429) + statuses.count(500) > 0, "the faults never fired"


KILL_TRIALS = 12 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else 2


@pytest.mark.timeout(60 + 60 * KILL_TRIALS)
def test_sigkill_mid_apply_through_the_sdk_then_resume(tmp_path: Path) -> None:
    rng = random.Random(11)
    for trial in range(KILL_TRIALS):
        fake = FakeWandb()
        plan, valid = _project(fake)
        with FakeWandbServer(fake) as server:
            server.faults.add("*", latency=0.02)
            plan_file = tmp_path / f"plan{trial}.pickle"
            plan_file.write_bytes(pickle.dumps(plan))
            journal = tmp_path / f"j{trial}.db"
            proc = _child(server, "apply", str(plan_file), str(journal), "2")
            target = rng.randint(1, 12)
            deadline = time.monotonic() + CHILD_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                if server.operations().count("DeleteArtifact") >= target:
                    proc.kill()
                    break
                time.sleep(0.005)
            proc.communicate(timeout=CHILD_TIMEOUT)
            killed_after = server.operations().count("DeleteArtifact")
            out = _finish(_child(server, "resume", "-", str(journal), "2"))
            deletes = [
                r.variables.get("input", {}).get("artifactID")
                for r in server.requests
                if r.operation == "DeleteArtifact" and r.status == 200
            ]

        assert out["ok"], out["summary"]
        assert target <= killed_after < len(valid), "the kill did not land mid-apply"
        assert _deleted(fake) == valid, (trial, target, killed_after)
        # Each valid version deleted by exactly one successful call; none ran twice.
        assert sorted(deletes) == sorted(valid), (trial, target, killed_after)


@pytest.mark.timeout(120)
def test_the_batch_re_read_sees_what_one_by_one_re_reads_see_in_one_request_per_50(tmp_path: Path) -> None:
    fake = FakeWandb()
    _project(fake)
    live = fake.versions(scope=PROJECT)
    fake.use_artifact(fake.create_run(PROJECT, "reader"), live[4])
    fake.link(live[5], "team/wandb-registry-model/reg")
    fake.delete_version(live[6], delete_aliases=True)
    ids = [v.id for v in live] + ["QXJ0aWZhY3Q6OTk5OTk5"]  # one W&B does not know
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    with FakeWandbServer(fake) as server:
        out = _finish(_child(server, "reread", str(tmp_path / "ids.json"), "-", "-"))
        batches = server.operations().count("ArtifactGuardVersions")

    assert out["batch"] == out["single"]
    assert len(out["batch"]) == len(live) and "QXJ0aWZhY3Q6OTk5OTk5" not in out["batch"]
    assert out["batch"][live[6].id][1] == "DELETED"
    assert batches == -(-len(ids) // 50)


@pytest.mark.timeout(120)
def test_planning_through_the_sdk_reports_versions_listed_and_manifests_read(tmp_path: Path) -> None:
    fake = FakeWandb()
    _project(fake)
    with FakeWandbServer(fake) as server:
        out = _finish(_child(server, "progress", PROJECT, "-", "-"))

    n = len(fake.versions(scope=PROJECT))
    assert out["seen"]["versions"][-1] == n and out["seen"]["versions"] == sorted(out["seen"]["versions"])
    assert out["seen"]["manifests"] and out["seen"]["manifests"][-1] <= n
    assert out["deletions"] > 0
