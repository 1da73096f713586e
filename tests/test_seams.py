"""Seams between areas: what each engineer's tests could not see on their own.

Throughput x safety (batch re-validation judging a state that changed since the
plan), CLI x plan files x reports, snapshots x the newer fields. Given / when / then.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from fakes import FakeWandb, load_snapshot

PROJECT = "team/proj"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def seed(*, count: int = 6) -> FakeWandb:
    """One finished run logging ``count`` versions of ckpt, every one 30 days old."""
    fake = FakeWandb(now=NOW)
    run = fake.create_run(PROJECT, "trainer")
    for i in range(count):
        created = NOW - timedelta(days=30, hours=count - i)
        fake.log_artifact(run, "ckpt", "model", {f"w{i}.bin": f"ckpt-{i}".encode()}, created_at=created)
    return fake


def version_of(fake: FakeWandb, collection: str, index: int) -> ag.Version:
    return next(v for v in fake.versions(scope=PROJECT) if v.collection == collection and v.index == index)


def _ref_to(v: ag.Version, path: str) -> str:
    """The URI W&B writes for a reference to ``path`` of version ``v``."""
    return f"wandb-artifact://{base64.b64decode(v.id).hex()}/{path}"


def _plan(fake: FakeWandb, **policy: object) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, Policy(**policy), now=NOW)  # type: ignore[arg-type]


# --------------------------------------------------------------- throughput x safety


def test_apply_keeps_a_target_that_a_version_logged_since_the_plan_references() -> None:
    # Given a plan deleting ckpt:v0 ..
    fake = seed()
    p = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)
    assert target.id in {d.version.id for d in p.deletions}
    # .. when, before apply, a new version (another collection) starts referencing it
    run = fake.create_run(PROJECT, "late")
    fake.log_artifact(run, "derived", "dataset", {}, references=[("w0.bin", _ref_to(target, "w0.bin"))])
    # Then apply (batch re-validation, rate auto) does not delete it, and says why
    result = ag.apply(p, fake.repository())
    assert fake.version(target.id).state is VersionState.COMMITTED
    assert {r.rule for vid, rs in result.skipped if vid == target.id for r in rs} == {"referenced"}
    # and the rest of the plan went ahead
    assert len(result.done) == len(p.deletions) - 1


def test_apply_keeps_a_survivor_when_the_kept_version_got_a_ttl_that_ends_within_the_grace_period() -> None:
    # Given a plan keeping only ckpt:v5 (every version 30 days old)
    fake = seed()
    p = _plan(fake, keep_last=1)
    kept = version_of(fake, "ckpt", 5)
    # When, before apply, the kept version gets a TTL that runs out within the day
    fake.set_ttl(kept, timedelta(days=30, hours=1))
    ag.apply(p, fake.repository())
    # Then, once that TTL has done its work, the collection is not empty: apply left a survivor
    fake.advance(timedelta(days=2))
    fake.expire_ttl()
    assert [v for v in fake.versions(scope=PROJECT) if v.collection == "ckpt"], "apply emptied ckpt"


def test_apply_does_not_count_a_pending_upload_as_the_collection_survivor() -> None:
    # Given a plan keeping only ckpt:v5
    fake = seed()
    p = _plan(fake, keep_last=1)
    # When, before apply, the kept version is deleted elsewhere and a new upload starts (PENDING)
    fake.delete_version(version_of(fake, "ckpt", 5), delete_aliases=True)
    run = fake.create_run(PROJECT, "uploader", state="running")
    fake.log_artifact(run, "ckpt", "model", {"new.bin": b"n"}, state=VersionState.PENDING)
    ag.apply(p, fake.repository())
    # Then a committed version remains: the upload may never commit
    left = [v for v in fake.versions(scope=PROJECT) if v.collection == "ckpt"]
    assert any(v.state is VersionState.COMMITTED for v in left), left


@pytest.mark.xfail(
    strict=True,
    reason="apply does not know which planned deletions reference a target ('removed together' at plan "
    "time): when the referrer is skipped at apply (it got an alias), the target is still deleted",
)
def test_apply_keeps_a_target_whose_planned_referrer_was_skipped() -> None:
    # Given a plan deleting ckpt:v0 and derived:v0, which references it (removed together) ..
    fake = seed()
    run = fake.create_run(PROJECT, "deriver")
    target = version_of(fake, "ckpt", 0)
    old = NOW - timedelta(days=20)
    referrer = fake.log_artifact(
        run, "derived", "dataset", {}, references=[("w0.bin", _ref_to(target, "w0.bin"))], created_at=old
    )
    fake.log_artifact(run, "derived", "dataset", {"d.bin": b"d"}, created_at=old + timedelta(hours=1))
    p = _plan(fake, keep_last=1)
    assert {target.id, referrer.id} <= {d.version.id for d in p.deletions}
    # .. when the referrer gets an alias before apply (so apply skips it)
    fake.add_aliases(referrer, ["keep-me"])
    ag.apply(p, fake.repository())
    # Then its target is not deleted from under it
    assert fake.version(referrer.id).state is VersionState.COMMITTED
    assert fake.version(target.id).state is VersionState.COMMITTED


# --------------------------------------------------------------- CLI x plan files x reports x snapshots


def _referenced_world() -> FakeWandb:
    """ckpt v0..v5, 30 days old; ckpt:v0 is referenced by a kept dataset; ckpt:v1 linked with a
    registry-protected alias; ckpt:v2 carries a TTL."""
    fake = seed()
    run = fake.create_run(PROJECT, "deriver")
    fake.log_artifact(
        run,
        "derived",
        "dataset",
        {},
        references=[("w0.bin", _ref_to(version_of(fake, "ckpt", 0), "w0.bin"))],
        created_at=NOW - timedelta(days=20),
    )
    fake.link(version_of(fake, "ckpt", 1), "team/wandb-registry-model/prod", aliases=["golden"])
    fake.add_protected_aliases("team", ["golden"])
    fake.set_ttl(version_of(fake, "ckpt", 2), timedelta(days=400))
    return fake


def test_snapshot_round_trip_keeps_references_ttl_links_and_protected_aliases(tmp_path: Path) -> None:
    fake = _referenced_world()
    path = tmp_path / "snap.json.gz"
    ag.write_snapshot(ag.capture(fake.repository(), PROJECT, now=NOW), path)
    loaded = load_snapshot(path)

    def facts(f: FakeWandb) -> dict[str, object]:
        p = _plan(f, keep_last=2, allow_registry_linked=True)
        return {d.version.name: (d.action, sorted(str(r) for r in d.reasons)) for d in p.decisions}

    assert facts(loaded) == facts(fake)
    assert loaded.version(version_of(fake, "ckpt", 2).id).ttl == timedelta(days=400)
    assert loaded.protected_aliases("team") == frozenset({"golden"})


def test_cli_plan_reports_and_plan_file_carry_the_referenced_reason_into_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from artifact_guard.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTIFACT_GUARD_WORKSPACE", str(tmp_path / "ws"))
    fake = _referenced_world()
    ag.write_snapshot(ag.capture(fake.repository(), PROJECT, now=NOW), tmp_path / "snap.json")
    (tmp_path / "artifact-guard.toml").write_text('keep-last = 2\ngrace-period = "0s"\n')
    runner = CliRunner()
    target = version_of(fake, "ckpt", 0)

    planned = runner.invoke(
        app,
        [
            *("plan", PROJECT, "--snapshot", "snap.json", "-o", "plan.json", "--markdown", "plan.md"),
            *("--html", "plan.html", "--json"),
        ],
        catch_exceptions=False,
    )
    assert planned.exit_code == 0, planned.output
    doc = json.loads(planned.stdout)
    (d,) = [d for d in doc["decisions"] if d["id"] == target.id]
    assert d["action"] == "keep" and "referenced" in {r["rule"] for r in d["reasons"]}
    md = (tmp_path / "plan.md").read_text()
    assert "`referenced`" in md and "team/proj/derived:v0" in md
    assert "referenced" in (tmp_path / "plan.html").read_text()

    applied = runner.invoke(
        app, ["apply", "plan.json", "--snapshot", "snap.json", "--yes", "--json"], catch_exceptions=False
    )
    assert applied.exit_code == 0, applied.output
    result = json.loads(applied.stdout)
    assert result["done"] and target.id not in result["done"]


@pytest.mark.parametrize(
    "command", ["inventory", "plan", "apply", "resume", "snapshot", "serve-fake", "simulate"]
)
def test_every_command_names_the_values_of_snapshot_seed_and_setup_alike(command: str) -> None:
    from typer.testing import CliRunner

    from artifact_guard.cli import app

    text = " ".join(CliRunner().invoke(app, [command, "--help"], terminal_width=200).stdout.split())
    assert "--snapshot FILE" in text and "--seed NAME" in text, text
    if command == "simulate":
        assert "--setup FILE" in text and "-p, --policy FILE" in text, text


def test_a_new_version_deleted_between_the_listing_and_its_manifest_read_references_nothing() -> None:
    # Given a plan, then a version logged since, which is gone by the time apply reads its manifest
    fake = seed()
    p = _plan(fake, keep_last=2)
    late = fake.log_artifact(fake.create_run(PROJECT, "late"), "other", "dataset", {"o.bin": b"o"})
    repo = fake.repository()
    manifest = repo.manifest

    def vanishing(version_id: str) -> tuple[ag.ManifestEntry, ...]:
        if version_id == late.id:
            raise ag.NotFoundError(f"{version_id} was deleted")
        return manifest(version_id)

    repo.manifest = vanishing  # type: ignore[method-assign]
    # Then the apply goes ahead as planned
    result = ag.apply(p, repo)
    assert result.ok and len(result.done) == len(p.deletions), result.summary()


def test_a_whole_collection_delete_keeps_a_member_referenced_since_the_plan() -> None:
    # Given a plan emptying ckpt (one delete_collection call at apply) ..
    fake = seed()
    p = _plan(fake, keep_last=0, allow_empty_collection=True, allow_empty=True, allow_delete_aliases=True)
    assert len(p.deletions) == 6
    # .. when a version logged since references ckpt:v3
    target = version_of(fake, "ckpt", 3)
    run = fake.create_run(PROJECT, "late")
    fake.log_artifact(run, "derived", "dataset", {}, references=[("w3.bin", _ref_to(target, "w3.bin"))])
    result = ag.apply(p, fake.repository())
    # Then ckpt:v3 survives (the collection is not deleted whole) and the others go
    assert fake.version(target.id).state is VersionState.COMMITTED
    assert {r.rule for vid, rs in result.skipped if vid == target.id for r in rs} == {"referenced"}
    assert len(result.done) == 5


def test_apply_deletes_what_the_plan_may_when_no_version_of_the_collection_outlives() -> None:
    # Given ckpt: an expiring committed version between two PENDING uploads (nothing outlives)
    fake = FakeWandb(now=NOW)
    run = fake.create_run(PROJECT, "r")
    fake.log_artifact(run, "ckpt", "model", {"a": b"a"}, state=VersionState.PENDING, created_at=NOW)
    expiring = fake.log_artifact(run, "ckpt", "model", {"b": b"b"}, created_at=NOW, ttl=timedelta(0))
    fake.log_artifact(run, "ckpt", "model", {"c": b"c"}, state=VersionState.PENDING, created_at=NOW)
    fake.finish_run(run)
    p = _plan(fake, keep_last=0, allow_empty=True, allow_delete_aliases=True, grace_period=timedelta(0))
    assert [d.version.id for d in p.deletions] == [expiring.id]
    # Then apply deletes it, as the planner's last-version rule allows (a version stays)
    result = ag.apply(p, fake.repository())
    assert result.done == [expiring.id], result.summary()
