"""The CLI against W&B's wire protocol: the real adapter (wandb SDK, wandb-core) talking to the fake server.

Each command runs as its own process, as a user runs it, with the credentials in
the environment the way wandb reads them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fakes
from artifact_guard import VersionState
from artifact_guard._plan_io import load_plan
from fakes.server import FakeWandbServer

PROJECT = "demo-team/vision"
TIMEOUT = 120.0
"""Seconds one CLI process may take; wandb-core can hang at exit after a failed call."""

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWandbServer]:
    with FakeWandbServer(fakes.FakeWandb()) as srv:
        srv.seed({"demo": True})
        yield srv


def _cli(server: FakeWandbServer, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    environ = {**os.environ, **server.env(), "ARTIFACT_GUARD_WORKSPACE": str(tmp_path / "ws"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "artifact_guard.cli", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.timeout(300)
def test_inventory_plan_apply_status_against_the_wire(server: FakeWandbServer, tmp_path: Path) -> None:
    inv = _cli(server, tmp_path, "inventory", PROJECT, "--json")
    assert inv.returncode == 0, inv.stderr
    names = {c["name"] for c in json.loads(inv.stdout)["collections"]}
    assert "resnet50-000" in names and "imagenet-subset" in names

    (tmp_path / "p.toml").write_text('types = ["model"]\nkeep-last = 37\n')
    made = _cli(server, tmp_path, "plan", PROJECT, "-p", "p.toml", "-o", "plan.json")
    assert made.returncode == 0, made.stderr
    plan = load_plan(tmp_path / "plan.json")
    assert plan.deletions

    applied = _cli(server, tmp_path, "apply", "plan.json", "--yes", "--json", "--rate", "0")
    assert applied.returncode == 0, applied.stderr
    outcome = json.loads(applied.stdout)
    assert sorted(d["id"] for d in outcome["done"]) == sorted(d.version.id for d in plan.deletions)
    fake = server.fake
    for d in plan.deletions:
        assert fake.version(d.version.id).state is VersionState.DELETED
    assert fake.gc() == plan.reclaimable_bytes

    status = _cli(server, tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["plan_id"] == plan.id


@pytest.mark.timeout(200)
def test_refused_credentials_are_one_line_and_exit_2(server: FakeWandbServer, tmp_path: Path) -> None:
    result = _cli(server, tmp_path, "inventory", PROJECT, env={"WANDB_API_KEY": "x" * 40})
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "x" * 40 not in result.stderr


@pytest.mark.timeout(60)
def test_serve_fake_serves_on_loopback_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "artifact_guard.cli", "serve-fake", "--seed", "demo"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("fake W&B server at http://127.0.0.1:"), first + proc.stderr.read()
        url = first.rsplit(" ", 1)[1].strip()
        import urllib.request

        with urllib.request.urlopen(f"{url}/_fake/requests", timeout=10) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
