"""``responses`` mode: manifest downloads served or failed in-process from a FakeWandb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from fakes import FakeDownloads, FakeWandb
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.timeout(60)]


@pytest.fixture
def fake() -> FakeWandb:
    fake = FakeWandb()
    run = fake.create_run("team/proj", "r1")
    fake.log_artifact(run, "data", "dataset", {"a.txt": b"hello"})
    return fake


def test_serves_manifests_in_w_and_b_format(fake: FakeWandb) -> None:
    (v,) = fake.versions()
    with FakeDownloads(fake) as downloads:
        body = requests.get(downloads.url(v.id), timeout=5).json()
    assert body["contents"] == {
        "a.txt": {"digest": "XUFAKrxLKna5cZ2REBfFkg==", "size": 5, "birthArtifactID": v.id}
    }
    assert [c.status for c in downloads.calls] == [200]


def test_fails_chosen_downloads_then_serves(fake: FakeWandb) -> None:
    (v,) = fake.versions()
    with FakeDownloads(fake) as downloads:
        downloads.fail(v.id, status=503, times=2)
        statuses = [requests.get(downloads.url(v.id), timeout=5).status_code for _ in range(3)]
        missing = requests.get(downloads.url("QXJ0aWZhY3Q6OTk="), timeout=5).status_code
    assert statuses == [503, 503, 200]
    assert missing == 404


def test_other_hosts_are_refused_and_the_mock_is_removed_after(fake: FakeWandb) -> None:
    with FakeDownloads(fake) as downloads, pytest.raises(requests.ConnectionError):
        requests.get("http://example.invalid/x", timeout=5)
    assert downloads.calls == []
    with pytest.raises(ValueError, match="4xx/5xx"):
        downloads.fail(status=200)


@pytest.mark.server
def test_passthru_reaches_the_real_server_for_other_paths(fake: FakeWandb) -> None:
    with FakeWandbServer(fake) as server, FakeDownloads(fake, base_url=server.url):
        assert requests.get(server.url + "/healthz", timeout=5).json()["fake"] is True


@pytest.mark.server
@pytest.mark.timeout(120)
def test_sdk_manifest_download_goes_through_responses_mode(
    fresh: FakeWandbServer, run_sdk: Callable[..., Any]
) -> None:
    # given the demo on the server, and the same (deterministic) demo in the script's own process
    fresh.seed({"demo": True})
    out = run_sdk(
        fresh,
        """
        import json, os
        import wandb
        from fakes import FakeDownloads
        from fakes.demo import seed_demo

        fake = seed_demo()
        api = wandb.Api(timeout=20)
        with FakeDownloads(fake, base_url=os.environ["WANDB_BASE_URL"]) as downloads:
            a = api.artifact("demo-team/vision/imagenet-subset:production")
            entries = sorted(a.manifest.entries)
        print(json.dumps({"entries": entries, "calls": [c.status for c in downloads.calls]}))
        """,
    )
    # then the manifest came from responses mode, not the server
    assert out["calls"] == [200]
    assert len(out["entries"]) == 9
    assert "GET manifest" not in [r.operation for r in fresh.requests]
