"""Seams between the write path (real SDK) and the safety rules, the audit and snapshots.

State is made the way users make it: ``wandb.init`` + ``log_artifact`` /
``add_reference`` / ``use_artifact`` / ``link_artifact`` / ``artifact.ttl``
through the real SDK, in a subprocess, against the fake server. Then the
planner (through :class:`FakeRepository` and through :class:`WandbRepository`
over the same server), the audit and the snapshot round trip must see it
exactly as they see the same state made with the :class:`FakeWandb` builder.
One SDK script builds the world once for the module (SDK subprocesses are slow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from artifact_guard import Action, Policy, capture, plan
from artifact_guard._audit import ChangeKind, audit
from fakes import FakeWandb
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

SCOPE = "team/proj"


def _run_sdk(server: FakeWandbServer, script: str) -> Any:
    """Run an SDK script in a fresh Python against ``server``; its last stdout line, as JSON.

    (conftest's ``run_sdk`` is function-scoped; the module's world is built once.)
    """
    env = {**os.environ, **server.env()}
    env.pop("WANDB_SERVICE", None)  # never share this process's wandb-core
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


BUILD = """
import json, wandb
def log(run, name, text, **kw):
    art = wandb.Artifact(name, type="dataset")
    with art.new_file("x.txt", mode="w") as f:
        f.write(text)
    run.log_artifact(art, **kw)
    art.wait()
    return art
with wandb.init(project="proj", entity="team", id="producer") as run:
    base0 = log(run, "base", "base-0")
    log(run, "base", "base-1")
    refs = wandb.Artifact("refs", type="dataset")
    refs.add_reference(base0.get_entry("x.txt"), name="from-base.txt")
    run.log_artifact(refs)
    refs.wait()
    log(run, "used", "used-0")
    log(run, "used", "used-1")
    linked0 = log(run, "linked", "linked-0")
    log(run, "linked", "linked-1")
    run.link_artifact(linked0, "team/wandb-registry-model/prod", aliases=["golden"])
    log(run, "ttl", "ttl-0")
    log(run, "ttl", "ttl-1")
with wandb.init(project="proj", entity="team", id="consumer") as run:
    run.use_artifact("team/proj/used:v0")
print(json.dumps({"base0": base0.id}))
"""

CLEANUP = """
import json, wandb
from datetime import timedelta
api = wandb.Api()
a = api.artifact("team/proj/ttl:v0")
a.ttl = timedelta(days=1)
a.save()
done = []
for name in ("base:v0", "used:v0", "linked:v0"):
    try:
        api.artifact(f"team/proj/{name}").delete(delete_aliases=True)
        done.append(name)
    except Exception:
        pass
print(json.dumps({"deleted": done}))
"""


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[FakeWandbServer, dict[str, Any]]]:
    """A server holding the world BUILD made through the SDK; its env applied to this process."""
    with FakeWandbServer(FakeWandb()) as srv:
        srv.fake.add_protected_aliases("team", ["golden"])
        out = _run_sdk(srv, BUILD)
        saved = {k: os.environ.get(k) for k in srv.env()}
        os.environ.update(srv.env())
        try:
            yield srv, out
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


POLICY = Policy(keep_last=1, grace_period=timedelta(0), allow_delete_aliases=True)


def _decisions(repo: Any, fake: FakeWandb) -> dict[str, Any]:
    p = plan(repo, SCOPE, POLICY, now=fake.now() + timedelta(days=2))
    return {d.version.qualified_name.split("/")[-1]: d for d in p.decisions}


def _rules(d: Any) -> set[str]:
    return {r.rule for r in d.reasons if r.blocks}


@pytest.mark.parametrize("via", ["fake", "wandb"])
def test_sdk_made_reference_link_and_use_block_their_targets(
    built: tuple[FakeWandbServer, dict[str, Any]], via: str
) -> None:
    srv, _ = built
    if via == "fake":
        repo: Any = srv.fake.repository()
    else:
        from artifact_guard.adapters.wandb import WandbRepository

        repo = WandbRepository(api_key=srv.api_key, base_url=srv.url, timeout=15, page_size=3)
    ds = _decisions(repo, srv.fake)
    # The referenced, consumed and protected-linked v0s are kept, each for its own rule.
    assert ds["base:v0"].action is Action.KEEP and "referenced" in _rules(ds["base:v0"]), ds["base:v0"]
    assert ds["used:v0"].action is Action.KEEP and "consumed" in _rules(ds["used:v0"])
    linked = _rules(ds["linked:v0"])
    assert ds["linked:v0"].action is Action.KEEP and {"registry-linked", "protected-alias"} <= linked, linked
    # The unremarkable one goes: the rules are not blocking everything.
    assert ds["ttl:v0"].action is Action.DELETE


def test_the_adapter_keeps_the_reference_uri_of_an_sdk_made_reference(
    built: tuple[FakeWandbServer, dict[str, Any]],
) -> None:
    from artifact_guard.adapters.wandb import WandbRepository

    srv, _ = built
    repo = WandbRepository(api_key=srv.api_key, base_url=srv.url, timeout=15)
    (refs,) = [v for v in repo.versions(SCOPE) if v.collection == "refs"]
    (entry,) = repo.manifest(refs.id)
    (fake_entry,) = srv.fake.manifest(refs.id)
    assert entry.ref is not None and entry.ref == fake_entry.ref
    assert entry.ref.startswith("wandb-artifact://")


def test_snapshot_of_an_sdk_made_world_round_trips_into_a_fake_that_plans_the_same(
    built: tuple[FakeWandbServer, dict[str, Any]], tmp_path: Any
) -> None:
    from artifact_guard import read_snapshot, write_snapshot
    from fakes import load_snapshot

    srv, _ = built
    snap = capture(srv.fake.repository(), SCOPE, now=srv.fake.now())
    path = tmp_path / "snap.json"
    write_snapshot(snap, path)
    loaded = load_snapshot(read_snapshot(path))
    want = {k: (d.action, _rules(d)) for k, d in _decisions(srv.fake.repository(), srv.fake).items()}
    got_fake = loaded if isinstance(loaded, FakeWandb) else loaded.fake
    got = {k: (d.action, _rules(d)) for k, d in _decisions(got_fake.repository(), srv.fake).items()}
    assert got == want


def test_audit_of_an_sdk_cleanup_flags_what_it_broke_and_sees_the_sdk_ttl(
    built: tuple[FakeWandbServer, dict[str, Any]],
) -> None:
    srv, _ = built
    fake = srv.fake
    before = capture(fake.repository(), SCOPE, now=fake.now())
    out = _run_sdk(srv, CLEANUP)
    # The server refuses deleting the source of a protected link; the other two go.
    assert sorted(out["deleted"]) == ["base:v0", "used:v0"]
    report = audit(before, fake, Policy(grace_period=timedelta(0)))
    by_target = {c.target.split("/")[-1]: c for c in report.changes}
    assert {r.rule for r in by_target["base:v0"].reasons} >= {"referenced"}
    assert {r.rule for r in by_target["used:v0"].reasons} >= {"consumed"}
    ttl = by_target["ttl:v0"]
    assert ttl.kind is ChangeKind.SET_TTL and ttl.ttl == timedelta(days=1)
    # Exactly as a TTL set through the builder on the same state
    twin = FakeWandb(now=fake.now())
    run = twin.create_run(SCOPE, "r")
    for i in range(2):
        twin.log_artifact(run, "ttl", "dataset", {"x.txt": f"ttl-{i}".encode()})
    twin_before = capture(twin.repository(), SCOPE, now=twin.now())
    twin.set_ttl(twin.resolve(f"{SCOPE}/ttl:v0"), timedelta(days=1))
    (twin_change,) = audit(twin_before, twin, Policy(grace_period=timedelta(0))).changes
    assert (twin_change.kind, twin_change.ttl, {r.rule for r in twin_change.reasons}) == (
        ttl.kind,
        ttl.ttl,
        {r.rule for r in ttl.reasons},
    )


INFLIGHT = """
import json, os, wandb
from datetime import timedelta
from artifact_guard import Policy, plan
from artifact_guard.adapters.wandb import WandbRepository
with wandb.init(project="live", entity="team", id="trainer") as run:
    for i in range(3):
        art = wandb.Artifact("ckpt", type="model")
        with art.new_file("w.bin", mode="w") as f:
            f.write(f"w{i}")
        run.log_artifact(art)
        art.wait()
    repo = WandbRepository(api_key=os.environ["WANDB_API_KEY"], base_url=os.environ["WANDB_BASE_URL"])
    p = plan(repo, "team/live", Policy(keep_last=1, grace_period=timedelta(0)))
    during = {d.version.name: [r.rule for r in d.reasons if r.blocks] for d in p.decisions}
print(json.dumps({"during": during}))
"""


def test_versions_of_a_run_still_running_through_the_sdk_are_in_flight(
    built: tuple[FakeWandbServer, dict[str, Any]],
) -> None:
    srv, _ = built
    out = _run_sdk(srv, INFLIGHT)
    # While the run that logged them runs, no version is deleted, each for in-flight
    assert out["during"]["ckpt:v0"] and "in-flight" in out["during"]["ckpt:v0"]
    assert "in-flight" in out["during"]["ckpt:v1"]
    # Once it finished, the same plan deletes the old ones
    p = plan(srv.fake.repository(), "team/live", Policy(keep_last=1, grace_period=timedelta(0)))
    assert sorted(d.version.name for d in p.deletions) == ["ckpt:v0", "ckpt:v1"]
