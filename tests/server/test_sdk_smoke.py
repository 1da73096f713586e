"""End-to-end smoke test: the real wandb SDK, in a subprocess, against the fake server.

Given the demo project, when a script lists, reads lineage and manifests and
deletes through every path, then the SDK sees W&B's answers and FakeWandb
holds exactly the resulting state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from artifact_guard._model import VersionState
from fakes.demo import seed_demo
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

SCRIPT = r"""
import json
import wandb
from wandb.errors import CommError

api = wandb.Api(timeout=20)
out = {"entity": api.default_entity}
out["collections"] = sorted(c.name for c in api.artifact_collections("demo-team/vision", "model"))
versions = list(api.artifacts("model", "demo-team/vision/resnet50-000"))
out["versions"] = [v.name for v in versions]
out["latest_aliases"] = versions[0].aliases
best = api.artifact("demo-team/vision/resnet50-000:best")
out["best"] = [best.name, best.source_name, best.aliases, best.size, best.type]
out["manifest"] = {p: [e.digest, e.size] for p, e in best.manifest.entries.items()}
out["logged_by"] = best.logged_by().id
out["used_by"] = [r.id for r in api.artifact("demo-team/vision/resnet50-000:v10").used_by()]
run = api.run("demo-team/vision/train-000")
out["outputs"] = len(list(run.logged_artifacts()))
out["inputs"] = [a.name for a in run.used_artifacts()]

# Every delete path.
try:
    best.delete()
    out["aliased_delete"] = "deleted"
except CommError as e:
    out["aliased_delete"] = "CommError"
best.delete(delete_aliases=True)
api.artifact("demo-team/vision/resnet50-000:v0").delete()
try:
    api.artifact("demo-team/vision/resnet50-004:production").delete(delete_aliases=True)
    out["protected_delete"] = "deleted"
except CommError:
    out["protected_delete"] = "CommError"
link = api.artifact("demo-team/wandb-registry-model/resnet50:baseline")
out["link"] = [link.is_link, link.source_name]
link.delete()
v5 = api.artifact("demo-team/vision/resnet50-001:v5")
v5.aliases.append("keep")
v5.save()
latest = api.artifact("demo-team/vision/resnet50-001:latest")
latest.aliases.remove("latest")
latest.save()
api.artifact_collection("model", "demo-team/vision/resnet50-002").delete()
try:
    api.artifact("demo-team/vision/no-such:v0")
    out["missing"] = "found"
except (CommError, ValueError) as e:
    out["missing"] = type(e).__name__
print(json.dumps(out))
"""


def test_sdk_reads_and_deletes_through_every_path(
    fresh: FakeWandbServer, run_sdk: Callable[..., Any]
) -> None:
    # given the demo project
    fake = seed_demo(fresh.fake)
    r000 = {v.name: v for v in fake.versions(include_deleted=True) if v.collection == "resnet50-000"}
    best = next(v for v in r000.values() if "best" in v.aliases)
    manifest = {e.path: [e.digest, e.size] for e in fake.manifest(best.id)}

    # when the SDK script runs
    out = run_sdk(fresh, SCRIPT)

    # then the SDK saw W&B's answers
    assert out["entity"] == "fake-user"
    assert out["collections"] == sorted(c.name for c in fake.collections("demo-team/vision", type="model"))
    assert out["versions"] == [f"resnet50-000:v{i}" for i in range(39, -1, -1)]
    assert out["latest_aliases"] == ["latest"]
    assert out["best"] == ["resnet50-000:best", best.name, ["best"], best.size, "model"]
    assert out["manifest"] == manifest
    assert out["logged_by"] == "train-000"
    assert out["used_by"] == ["eval-001"]
    assert out["outputs"] == 40
    assert out["inputs"] == ["imagenet-subset:v0"]
    assert out["aliased_delete"] == "CommError"
    assert out["protected_delete"] == "CommError"
    assert out["link"] == [True, "resnet50-004:v12"]
    assert out["missing"] in ("CommError", "ValueError")

    # and FakeWandb holds exactly the resulting state
    state = {v.name: v for v in fake.versions(include_deleted=True)}
    assert state[best.name].state is VersionState.DELETED
    assert state["resnet50-000:v0"].state is VersionState.DELETED
    assert state["resnet50-004:v33"].state is VersionState.COMMITTED
    assert "production" in state["resnet50-004:v33"].aliases
    links = fake.portfolio_links("demo-team/wandb-registry-model/resnet50")
    assert [lk.version_id for lk in links] == [state["resnet50-004:v33"].id]
    assert state["resnet50-004:v12"].state is VersionState.COMMITTED
    assert state["resnet50-001:v5"].aliases == frozenset({"keep"})
    assert state["resnet50-001:v39"].aliases == frozenset()
    assert all(v.state is VersionState.DELETED for v in state.values() if v.collection == "resnet50-002")
    deleted = sorted(n for n, v in state.items() if v.state is VersionState.DELETED)
    assert len(deleted) == 2 + 40

    # and every request went through the GraphQL layer without an unexpected error
    errors = [r for r in fresh.requests if r.errors]
    assert {r.operation for r in errors} <= {"DeleteArtifact", "ArtifactMembershipByName"}
    assert all(r.status == 200 for r in fresh.requests)


REGISTRY_AND_RUNS = r"""
import json
import wandb
api = wandb.Api(timeout=20)
linked = api.artifact("team/proj/other:v0").link("team/wandb-registry-model/champions", aliases=["x"])
registry = api.artifact_collection("model", "team/wandb-registry-model/champions")
out = {"is_sequence": registry.is_sequence(), "linked": [linked.qualified_name, sorted(linked.aliases)]}
registry.delete()
api.run("team/proj/r2").delete(delete_artifacts=True)
print(json.dumps(out))
"""


def test_sdk_links_then_deletes_a_registry_collection_and_a_run_with_its_artifacts(
    fresh: FakeWandbServer, run_sdk: Callable[..., Any]
) -> None:
    # given two versions linked into a registry collection, and a second run with its own version
    fake = fresh.fake
    r1, r2 = fake.create_run("team/proj", "r1"), fake.create_run("team/proj", "r2")
    a = fake.log_artifact(r1, "m", "model", {"w": b"1"})
    b = fake.log_artifact(r1, "m", "model", {"w": b"2"})
    c = fake.log_artifact(r2, "other", "model", {"w": b"3"})
    fake.link(a, "team/wandb-registry-model/champions")
    fake.link(b, "team/wandb-registry-model/champions", aliases=["prod-candidate"])

    # when the SDK links a third, deletes the registry collection, and the run with delete_artifacts=True
    out = run_sdk(fresh, REGISTRY_AND_RUNS)

    # then the registry collection was a portfolio and only lost its links
    assert out == {
        "is_sequence": False,
        "linked": ["team/wandb-registry-model/champions:v2", ["latest", "x"]],
    }
    assert fake.portfolio_links("team/wandb-registry-model/champions") == []
    assert fake.version(a.id).state is VersionState.COMMITTED
    assert fake.version(b.id).state is VersionState.COMMITTED
    # and the run is gone with the version it logged
    assert [r.path for r in fake.runs()] == ["team/proj/r1"]
    assert fake.version(c.id).state is VersionState.DELETED
    assert "DeleteArtifactPortfolio" in fresh.operations()


@pytest.mark.timeout(120)
def test_a_wrong_api_key_fails_cleanly_and_fast(fresh: FakeWandbServer) -> None:
    # given a script whose key is not the server's
    env = {**os.environ, **fresh.env(), "WANDB_API_KEY": "x" * 40}
    started = time.monotonic()
    # when it starts wandb.Api(), then it fails with W&B's error, without hanging
    proc = subprocess.run(
        [sys.executable, "-c", "import wandb; wandb.Api(timeout=10)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode != 0
    assert "AuthenticationError" in proc.stderr or "401" in proc.stderr
    assert time.monotonic() - started < 60
    assert [r.status for r in fresh.requests] and all(r.status == 401 for r in fresh.requests)


@pytest.mark.timeout(60)
def test_python_m_fakes_server_prints_url_and_key() -> None:
    # given the module started by hand, when it has printed where it listens
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.server", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url_line = proc.stdout.readline()
        key_line = proc.stdout.readline()
        assert url_line.startswith("fake W&B server at http://127.0.0.1:")
        url = url_line.rsplit(" ", 1)[1].strip()
        key = key_line.split(": ", 1)[1].strip()
        # then it answers with the demo loaded
        req = urllib.request.Request(url + "/_fake/requests", method="GET")
        req.add_header("Authorization", "Bearer " + key)
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        body = json.dumps({"query": '{ project(entityName: "demo-team", name: "vision") { name } }'}).encode()
        req = urllib.request.Request(url + "/graphql", body, method="POST")
        req.add_header("Authorization", "Bearer " + key)
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["data"]["project"]["name"] == "vision"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
