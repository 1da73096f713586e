"""Faults seen through the real SDK: wandb-core retries 429 (honouring Retry-After) and 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from artifact_guard._model import VersionState
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def test_sdk_retries_rate_limits_and_server_errors_then_succeeds(
    fresh: FakeWandbServer, run_sdk: Callable[..., Any]
) -> None:
    # given a version, and a server that first answers its delete with 429 then 502
    run = fresh.fake.create_run("team/proj", "r1")
    v = fresh.fake.log_artifact(run, "model", "model", {"w": b"1"})
    fresh.faults.add("DeleteArtifact", status=429, times=1, retry_after=1)
    fresh.faults.add("DeleteArtifact", status=502, times=1)

    # when the SDK deletes it
    out = run_sdk(
        fresh,
        """
        import json, time, wandb
        api = wandb.Api(timeout=30)
        a = api.artifact("team/proj/model:v0")
        started = time.monotonic()
        a.delete(delete_aliases=True)
        print(json.dumps({"seconds": time.monotonic() - started}))
        """,
    )

    # then wandb-core retried both faults, waiting at least the Retry-After
    assert [r.status for r in fresh.requests if r.operation == "DeleteArtifact"] == [429, 502, 200]
    assert out["seconds"] >= 1.0
    assert fresh.fake.version(v.id).state is VersionState.DELETED
