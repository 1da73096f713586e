"""The offline-simulation round trip: real adapter over the fake server -> snapshot file -> fresh fake.

The plan made against the fresh fake must be the plan made through the real
adapter: same versions, same actions, same bytes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import Action, Policy, capture, plan
from artifact_guard._snapshot_file import read_snapshot, write_snapshot
from fakes import load_snapshot
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo

from .conftest import wandb_repository

POLICIES = [
    Policy(keep_last=3, grace_period=timedelta(hours=1)),
    Policy(keep_last=1, grace_period=timedelta(0)),
    Policy(older_than=timedelta(days=30), grace_period=timedelta(0)),
]


@pytest.mark.server
@pytest.mark.timeout(120)
def test_adapter_snapshot_file_fake_gives_the_identical_plan(fake_server: Any, tmp_path: Path) -> None:
    # given the demo project behind the fake server, read through the real SDK
    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100, collections_per_page=20)

    # when it is captured, written, read back and loaded into a fresh fake
    snap = capture(repo, DEMO_PROJECT, dedupe=fake_server.fake.dedupe, now=DEMO_NOW)
    path = write_snapshot(snap, tmp_path / "demo.json.gz")
    assert read_snapshot(path).versions == snap.versions
    offline = load_snapshot(path)

    # then every policy plans the same decisions and bytes, online and offline
    for policy in POLICIES:
        online_plan = plan(repo, DEMO_PROJECT, policy, now=DEMO_NOW)
        offline_plan = plan(offline.repository(), DEMO_PROJECT, policy, now=DEMO_NOW)
        assert [(d.version, d.action, d.reasons) for d in offline_plan.decisions] == [
            (d.version, d.action, d.reasons) for d in online_plan.decisions
        ]
        assert offline_plan.reclaimable_bytes == online_plan.reclaimable_bytes
        assert offline_plan.id == online_plan.id
        assert any(d.action is Action.DELETE for d in online_plan.decisions)

    # and applying offline frees exactly what the plan said
    the_plan = plan(offline.repository(), DEMO_PROJECT, POLICIES[0], now=DEMO_NOW)
    for d in the_plan.deletions:
        offline.delete_version(d.version.id, delete_aliases=True)
    assert offline.gc() == the_plan.reclaimable_bytes
