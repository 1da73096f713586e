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


def test_a_persistent_rate_limit_ends_in_comm_error_after_the_sdk_timeout(
    fresh: FakeWandbServer, run_sdk: Callable[..., Any]
) -> None:
    # given a project whose deletes are always rate limited
    run = fresh.fake.create_run("team/proj", "r1")
    v = fresh.fake.log_artifact(run, "model", "model", {"w": b"1"})
    fresh.faults.add("DeleteArtifact", status=429, retry_after=1)

    # when the SDK deletes with a 4 s timeout
    out = run_sdk(
        fresh,
        """
        import json, time, wandb
        api = wandb.Api(timeout=4)
        a = api.artifact("team/proj/model:v0")
        started = time.monotonic()
        try:
            a.delete(delete_aliases=True)
            error = None
        except wandb.errors.CommError as e:
            error = type(e).__name__
        print(json.dumps({"error": error, "seconds": time.monotonic() - started}))
        """,
    )

    # then the call gives up with CommError once its timeout ran out, having retried meanwhile
    assert out["error"] == "CommError"
    assert 3.5 <= out["seconds"] <= 15
    assert [r.status for r in fresh.requests if r.operation == "DeleteArtifact"].count(429) >= 2
    assert fresh.fake.version(v.id).state is VersionState.COMMITTED
