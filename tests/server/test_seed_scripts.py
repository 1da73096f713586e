"""The W&B docs' cleanup scripts (see shared/seed), run unmodified through the real SDK.

Each test: given a small project in FakeWandb, when the script runs in a
subprocess against the fake server, then FakeWandb holds exactly the expected
state (every version's state and aliases), nothing more and nothing less.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from artifact_guard._model import CollectionRef, VersionState
from fakes import FakeWandb
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

State = dict[str, tuple[str, frozenset[str]]]


def build(fake: FakeWandb) -> State:
    """acme/cv: checkpoints v0..v6 (two runs), a dataset sharing files, one eval result."""
    train1 = fake.create_run("acme/cv", "train-1")
    for i in range(6):
        aliases = {1: ["stale"], 3: ["best"]}.get(i, [])
        fake.log_artifact(train1, "ckpt", "model", {"w.bin": bytes([i])}, aliases)
    prep = fake.create_run("acme/cv", "prep")
    fake.log_artifact(prep, "data", "dataset", {"a.csv": b"a", "b.csv": b"b"})
    fake.log_artifact(prep, "data", "dataset", {"a.csv": b"a", "b.csv": b"b2"})
    train2 = fake.create_run("acme/cv", "train-2")
    fake.use_artifact(train2, fake.resolve("acme/cv/ckpt:best"))
    fake.use_artifact(train2, fake.resolve("acme/cv/data:v1"))
    fake.log_artifact(train2, "ckpt", "model", {"w.bin": b"6"})
    fake.log_artifact(train2, "eval", "results", {"r.json": b"{}"})
    return state(fake)


def state(fake: FakeWandb) -> State:
    return {
        f"{v.collection}:v{v.index}": (v.state.value, v.aliases) for v in fake.versions(include_deleted=True)
    }


def deleted(before: State, *names: str) -> State:
    after = dict(before)
    for name in names:
        after[name] = ("DELETED", frozenset())
    return after


@pytest.fixture
def project(fresh: FakeWandbServer) -> State:
    return build(fresh.fake)


Runner = Callable[..., Any]


def test_delete_every_artifact_a_run_logged(fresh: FakeWandbServer, project: State, run_sdk: Runner) -> None:
    run_sdk(
        fresh,
        """
        import wandb
        api = wandb.Api()
        run = api.run("acme/cv/train-1")
        for artifact in run.logged_artifacts():
            # Set delete_aliases=True in order to delete artifacts with one more aliases
            artifact.delete(delete_aliases=True)
        print("{}")
        """,
    )
    assert state(fresh.fake) == deleted(project, *(f"ckpt:v{i}" for i in range(6)))


def test_delete_versions_picked_by_name(fresh: FakeWandbServer, project: State, run_sdk: Runner) -> None:
    run_sdk(
        fresh,
        """
        import wandb
        api = wandb.Api()
        runs = api.run("acme/cv/train-1")
        # Delete artifacts with alias 'v3' and 'v4'
        for artifact_version in runs.logged_artifacts():
            # Insert your own deletion logic here.
            if artifact_version.name[-2:] == "v3" or artifact_version.name[-2:] == "v4":
                artifact_version.delete(delete_aliases=True)
        print("{}")
        """,
    )
    assert state(fresh.fake) == deleted(project, "ckpt:v3", "ckpt:v4")


def test_delete_versions_carrying_given_aliases(
    fresh: FakeWandbServer, project: State, run_sdk: Runner
) -> None:
    run_sdk(
        fresh,
        """
        import wandb
        api = wandb.Api()
        for v in api.artifacts("model", "acme/cv/ckpt"):
            if {"stale", "best"} & set(v.aliases):
                v.delete(delete_aliases=True)
        print("{}")
        """,
    )
    assert state(fresh.fake) == deleted(project, "ckpt:v1", "ckpt:v3")


ALIASLESS = """
import json
import wandb
api = wandb.Api(overrides={"project": "cv", "entity": "acme"})
artifact_type, artifact_name = "model", "ckpt"
for v in api.artifact_versions(artifact_type, artifact_name):
    # Clean up all versions that don't have an alias such as 'latest'.
    # NOTE: You can put whatever deletion logic you want here.
    if len(v.aliases) == 0:
        v.delete()
print("{}")
"""


def test_delete_every_version_without_aliases(
    fresh: FakeWandbServer, project: State, run_sdk: Runner
) -> None:
    run_sdk(fresh, ALIASLESS)
    assert state(fresh.fake) == deleted(project, "ckpt:v0", "ckpt:v2", "ckpt:v4", "ckpt:v5")


@pytest.mark.parametrize(("pagination", "left"), [("stable", 1), ("offset", 50)])
def test_deleting_while_paginating_depends_on_the_cursor_style(
    fresh: FakeWandbServer, run_sdk: Runner, pagination: str, left: int
) -> None:
    # given 120 versions without aliases but the newest (latest)
    run = fresh.fake.create_run("acme/cv", "bulk")
    for i in range(120):
        fresh.fake.log_artifact(run, "ckpt", "model", {"w.bin": i.to_bytes(2, "big")})
    fresh.set_pagination(pagination)  # type: ignore[arg-type]
    try:
        # when the docs' script deletes every version without aliases, 50 per page
        run_sdk(fresh, ALIASLESS)
    finally:
        fresh.set_pagination("stable")
    # then stable cursors leave only latest; offset cursors silently skip 49 versions
    survivors = fresh.fake.versions()
    assert len(survivors) == left
    assert survivors[-1].aliases == frozenset({"latest"})


def test_delete_a_whole_collection(fresh: FakeWandbServer, project: State, run_sdk: Runner) -> None:
    run_sdk(
        fresh,
        """
        import wandb
        api = wandb.Api()
        api.artifact_collection("model", "acme/cv/ckpt").delete()
        api.artifact_collection("results", "acme/cv/eval").delete()
        print("{}")
        """,
    )
    assert state(fresh.fake) == deleted(project, *(f"ckpt:v{i}" for i in range(7)), "eval:v0")
    # An emptied collection remains, showing no versions.
    assert CollectionRef("acme", "cv", "ckpt") in fresh.fake.collections("acme/cv")


def test_remove_an_alias_and_save(fresh: FakeWandbServer, project: State, run_sdk: Runner) -> None:
    run_sdk(
        fresh,
        """
        import wandb
        api = wandb.Api()
        artifact = api.artifact("acme/cv/ckpt:best")
        artifact.aliases.remove("best")
        artifact.save()
        other = api.artifact("acme/cv/ckpt:v2")
        other.aliases.append("candidate")
        other.save()
        print("{}")
        """,
    )
    expected = dict(project)
    expected["ckpt:v3"] = ("COMMITTED", frozenset())
    expected["ckpt:v2"] = ("COMMITTED", frozenset({"candidate"}))
    assert state(fresh.fake) == expected
    assert [op for op in fresh.operations() if op in ("AddAliases", "DeleteAliases")] == [
        "DeleteAliases",
        "AddAliases",
    ]


def test_read_lineage_and_manifests_changes_nothing(
    fresh: FakeWandbServer, project: State, run_sdk: Runner
) -> None:
    out = run_sdk(
        fresh,
        """
        import json
        import wandb
        api = wandb.Api()
        run = api.run("acme/cv/train-2")
        used = {a.name: a.logged_by().id for a in run.used_artifacts()}
        logged = sorted(a.name for a in run.logged_artifacts())
        consumers = [r.id for r in api.artifact("acme/cv/ckpt:best").used_by()]
        data = api.artifact("acme/cv/data:v1")
        manifest = {p: [e.digest, e.size] for p, e in sorted(data.manifest.entries.items())}
        print(json.dumps({"used": used, "logged": logged, "consumers": consumers, "manifest": manifest,
                          "size": data.size, "files": data.file_count}))
        """,
    )
    v1 = fresh.fake.resolve("acme/cv/data:v1")
    assert out == {
        "used": {"ckpt:v3": "train-1", "data:v1": "prep"},
        "logged": ["ckpt:v6", "eval:v0"],
        "consumers": ["train-2"],
        "manifest": {e.path: [e.digest, e.size] for e in fresh.fake.manifest(v1.id)},
        "size": 3,
        "files": 2,
    }
    assert state(fresh.fake) == project
    assert not [r for r in fresh.requests if r.operation.startswith(("Delete", "Add", "Update"))]
    assert all(v.state is not VersionState.DELETED for v in fresh.fake.versions(include_deleted=True))
