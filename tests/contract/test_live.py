"""The read-only contract against real W&B: opt-in, never in CI by default.

Runs when both are set, else each test is skipped with the reason shown::

    WANDB_API_KEY=...  ARTIFACT_GUARD_LIVE_PROJECT=entity/project  pytest -m live tests/contract/test_live.py

Nothing here writes: it lists the project, reads manifests, lineage and links
of a few versions, and checks that a snapshot of the project plans offline
exactly as the project plans online.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import ManifestEntry, Policy, Scope, capture, plan
from artifact_guard._snapshot_file import write_snapshot
from fakes import load_snapshot

PROJECT = os.environ.get("ARTIFACT_GUARD_LIVE_PROJECT", "")
_MISSING = [name for name in ("WANDB_API_KEY", "ARTIFACT_GUARD_LIVE_PROJECT") if not os.environ.get(name)]

pytestmark = [
    pytest.mark.live,
    pytest.mark.timeout(600),
    pytest.mark.skipif(bool(_MISSING), reason=f"live W&B tests need {' and '.join(_MISSING)} set"),
]


@pytest.fixture(scope="module")
def live_repo() -> Any:
    from artifact_guard.adapters.wandb import WandbRepository

    return WandbRepository()


def test_live_listing_and_reads(live_repo: Any) -> None:
    scope = Scope.parse(PROJECT)
    versions = list(live_repo.versions(scope))
    assert all(v.scope == scope for v in versions)
    for v in versions[:3]:
        assert all(isinstance(e, ManifestEntry) for e in live_repo.manifest(v.id))
        live_repo.lineage(v.id)
        live_repo.links(v.id)
        assert live_repo.version(v.id).id == v.id


def test_live_snapshot_plans_offline_as_online(live_repo: Any, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    policy = Policy(keep_last=3, grace_period=timedelta(days=1))
    snap = capture(live_repo, PROJECT, now=now)
    offline = load_snapshot(write_snapshot(snap, tmp_path / "live.json.gz"))
    online_plan = plan(live_repo, PROJECT, policy, now=now)
    offline_plan = plan(offline.repository(), PROJECT, policy, now=now)
    assert [(d.version.id, d.action) for d in offline_plan.decisions] == [
        (d.version.id, d.action) for d in online_plan.decisions
    ]
    assert offline_plan.reclaimable_bytes == online_plan.reclaimable_bytes
