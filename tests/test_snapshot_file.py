"""The snapshot file format: round trips, and a clear error for every kind of broken file."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from artifact_guard import Policy, SnapshotError, capture, plan
from artifact_guard._snapshot_file import (
    FORMAT_VERSION,
    read_snapshot,
    snapshot_from_json,
    snapshot_to_json,
    write_snapshot,
)
from artifact_guard.testing import strategies as ags
from fakes import FakeWandb
from fakes._snapshot_load import load_snapshot
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo

POLICY = Policy(keep_last=3, grace_period=timedelta(0))


def _small_fake() -> FakeWandb:
    fake = FakeWandb(now=DEMO_NOW)
    run = fake.create_run("team/proj", "train")
    user = fake.create_run("team/proj", "eval")
    v0 = fake.log_artifact(
        run, "model", "model", {"a.bin": b"aaaa", "shared.bin": b"ss"}, created_at=DEMO_NOW
    )
    v1 = fake.log_artifact(run, "model", "model", {"b.bin": b"bbbbbb", "shared.bin": b"ss"}, aliases=["best"])
    fake.log_artifact(run, "preds", "predictions", {}, references=[("p.parquet", "s3://bucket/p", 7)])
    fake.use_artifact(user, v0)
    fake.link(v1, "team/wandb-registry-model/champion", aliases=["candidate"], protected=["production"])
    return fake


def _json_of(fake: FakeWandb, scope: str = "team/proj") -> dict[str, Any]:
    return snapshot_to_json(capture(fake.repository(), scope, now=DEMO_NOW))


def _error(data: Any) -> str:
    with pytest.raises(SnapshotError) as info:
        snapshot_from_json(data)
    return str(info.value)


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ["snap.json", "snap.json.gz"])
def test_given_a_project_when_written_and_read_then_the_snapshot_is_equal(tmp_path: Path, name: str) -> None:
    original = capture(_small_fake().repository(), "team/proj", now=DEMO_NOW)
    path = write_snapshot(original, tmp_path / name)
    again = read_snapshot(path)
    assert again.scope == original.scope
    assert again.taken_at == original.taken_at
    assert again.versions == original.versions
    assert dict(again.manifests) == dict(original.manifests)
    assert dict(again.lineage) == dict(original.lineage)
    assert dict(again.links) == dict(original.links)
    assert dict(again.runs) == dict(original.runs)


def test_given_the_demo_when_loaded_from_a_snapshot_then_the_plan_is_identical(tmp_path: Path) -> None:
    fake = seed_demo()
    path = write_snapshot(capture(fake.repository(), DEMO_PROJECT, now=DEMO_NOW), tmp_path / "demo.json")
    loaded = load_snapshot(path)
    before = plan(fake.repository(), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    after = plan(loaded.repository(), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    assert after.decisions == before.decisions
    assert after.reclaimable_bytes == before.reclaimable_bytes
    assert after.id == before.id


def test_given_a_loaded_snapshot_when_applying_deletes_then_gc_frees_the_same_bytes(tmp_path: Path) -> None:
    fake = seed_demo()
    path = write_snapshot(capture(fake.repository(), DEMO_PROJECT, now=DEMO_NOW), tmp_path / "demo.json")
    loaded = load_snapshot(path)
    p = plan(loaded.repository(), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    for d in p.deletions:
        loaded.delete_version(d.version.id, delete_aliases=True)
    assert loaded.gc() == p.reclaimable_bytes


def test_given_a_loaded_snapshot_when_logging_a_new_version_then_ids_and_indices_do_not_collide(
    tmp_path: Path,
) -> None:
    fake = _small_fake()
    loaded = load_snapshot(_json_of(fake))
    run = loaded.create_run("team/proj", "more")
    new = loaded.log_artifact(run, "model", "model", {"c.bin": b"c"})
    assert new.index == 2
    assert new.id not in {v.id for v in fake.versions(include_deleted=True)}


def test_given_a_loaded_snapshot_then_protected_registry_aliases_still_block(tmp_path: Path) -> None:
    loaded = load_snapshot(_json_of(_small_fake()))
    best = loaded.resolve("team/proj/model:best")
    with pytest.raises(Exception, match="protected"):
        loaded.delete_version(best.id, delete_aliases=True)


@settings(max_examples=15)
@given(fake=ags.project_states())
def test_any_generated_project_round_trips_through_the_file_format(fake: FakeWandb) -> None:
    snap = capture(fake.repository(), ags.PROJECT, dedupe=fake.dedupe, now=ags.NOW)
    data = json.loads(json.dumps(snapshot_to_json(snap)))
    again = snapshot_from_json(data)
    assert again.versions == snap.versions
    assert dict(again.lineage) == dict(snap.lineage)
    assert dict(again.links) == dict(snap.links)
    assert dict(again.manifests) == dict(snap.manifests)
    policy = Policy(keep_last=1, grace_period=timedelta(0))
    assert plan(load_snapshot(data).repository(), ags.PROJECT, policy, now=ags.NOW).decisions == (
        plan(fake.repository(), ags.PROJECT, policy, now=ags.NOW).decisions
    )


# ---------------------------------------------------------------------- broken files


def test_truncated_file_is_named_truncated(tmp_path: Path) -> None:
    path = write_snapshot(capture(_small_fake().repository(), "team/proj", now=DEMO_NOW), tmp_path / "s.json")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SnapshotError, match="truncated"):
        read_snapshot(path)


def test_truncated_gzip_file_is_named_truncated(tmp_path: Path) -> None:
    path = write_snapshot(
        capture(_small_fake().repository(), "team/proj", now=DEMO_NOW), tmp_path / "s.json.gz"
    )
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 20])
    with pytest.raises(SnapshotError, match="truncated"):
        read_snapshot(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(SnapshotError, match="empty"):
        read_snapshot(tmp_path / "empty.json")
    with pytest.raises(SnapshotError, match="cannot read"):
        read_snapshot(tmp_path / "missing.json")
    (tmp_path / "gz.json").write_bytes(gzip.compress(b"[1, 2"))
    with pytest.raises(SnapshotError, match="truncated"):
        read_snapshot(tmp_path / "gz.json")


def test_newer_format_version_says_upgrade() -> None:
    data = _json_of(_small_fake())
    data["format_version"] = FORMAT_VERSION + 1
    assert "upgrade artifact-guard" in _error(data)


def test_not_a_snapshot() -> None:
    assert "not an artifact-guard snapshot" in _error({"format": "something-else"})
    assert "JSON object" in _error([1, 2])


def _edit(path: list[Any], value: Any) -> str:
    data = _json_of(_small_fake())
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return _error(data)


_DELETE = object()


def _version_index(data: dict[str, Any], collection: str, index: int) -> int:
    return next(
        i for i, v in enumerate(data["versions"]) if v["collection"] == collection and v["index"] == index
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["versions", 0, "manifest", 0, "size"], "12", "versions[0].manifest[0].size must be an integer"),
        (["versions", 0, "manifest", 0, "size"], True, "must be an integer, not a boolean"),
        (["versions", 0, "manifest", 0, "size"], -1, "must be at least 0"),
        (["versions", 0, "manifest", 0, "digest"], 17, "versions[0].manifest[0].digest must be a string"),
        (["versions", 0, "manifest", 0, "digest"], "", "must not be empty"),
        (["versions", 0, "index"], 1.5, "versions[0].index must be an integer"),
        (["versions", 0, "size"], None, "versions[0].size must be an integer, not null"),
        (["versions", 0, "state"], "DELETED", "surviving versions only"),
        (["versions", 0, "state"], "GONE", "must be PENDING or COMMITTED"),
        (["versions", 0, "created_at"], "yesterday", "not an ISO 8601 time"),
        (["versions", 0, "created_at"], "2026-01-01T00:00:00", "no UTC offset"),
        (["versions", 0, "producer"], "team/proj/nobody", "producer 'team/proj/nobody' is not in 'runs'"),
        (["versions", 0, "consumers"], ["team/proj/ghost"], "'team/proj/ghost' is not in 'runs'"),
        (["versions", 0, "aliases"], ["a", "a"], "lists 'a' twice"),
        (["versions", 0, "ttl_seconds"], -5, "ttl_seconds must be a positive number"),
        (["versions", 0, "colour"], "red", "unknown field(s) 'colour'"),
        (["versions", 0, "id"], _DELETE, "versions[0] is missing field 'id'"),
        (["runs", 0, "path"], "not-a-path", "is not entity/project/run-id"),
        (["scope"], "no-slash", "snapshot.scope"),
        (["dedupe"], "galaxy", "snapshot.dedupe must be one of"),
        (["versions"], {}, "snapshot.versions must be a list"),
    ],
)
def test_hand_edits_with_wrong_types_or_dangling_ids_are_named(
    path: list[Any], value: Any, expected: str
) -> None:
    assert expected in _edit(path, value)


def test_alias_on_two_versions_of_one_collection() -> None:
    data = _json_of(_small_fake())
    v0 = _version_index(data, "model", 0)
    data["versions"][v0]["aliases"].append("best")
    assert "alias 'best' is on two versions of collection 'model'" in _error(data)


def test_two_versions_with_one_index() -> None:
    data = _json_of(_small_fake())
    data["versions"][_version_index(data, "model", 0)]["index"] = 1
    assert "model:v1 is claimed by two versions" in _error(data)


def test_duplicate_version_id() -> None:
    data = _json_of(_small_fake())
    a, b = _version_index(data, "model", 0), _version_index(data, "model", 1)
    data["versions"][b]["id"] = data["versions"][a]["id"]
    assert "is used by two versions" in _error(data)


def test_one_digest_with_two_sizes() -> None:
    data = _json_of(_small_fake())
    v1 = data["versions"][_version_index(data, "model", 1)]
    shared = next(e for e in v1["manifest"] if e["path"] == "shared.bin")
    shared["size"] = 999
    assert "has size 2 in model:v0 but 999 in model:v1" in _error(data)


def test_protected_alias_not_held_by_the_link() -> None:
    data = _json_of(_small_fake())
    v1 = data["versions"][_version_index(data, "model", 1)]
    v1["links"][0]["protected_aliases"].append("gold")
    assert "protected alias 'gold' is not one of the link's aliases" in _error(data)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    data = _json_of(_small_fake())
    data["versions"][0]["manifest"][0]["size"] = "big"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=r"edited\.json: versions\[0\]\.manifest\[0\]\.size"):
        read_snapshot(path)


# ---------------------------------------------------------------------- streaming layout, bounded reads


def _demo_snapshot() -> Any:
    return capture(seed_demo().repository(), DEMO_PROJECT, now=DEMO_NOW)


@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_snapshots_are_written_one_version_per_line_and_read_back_streaming(
    tmp_path: Path, name: str
) -> None:
    snap = _demo_snapshot()
    path = write_snapshot(snap, tmp_path / name)
    text = (gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()).decode()
    lines = text.splitlines()
    assert lines[0].startswith('{"format":"artifact-guard-snapshot"') and lines[0].endswith('"versions":[')
    assert len(lines) == len(snap.versions) + 2
    assert json.loads(text) == snapshot_to_json(snap)  # still one ordinary JSON document
    back = read_snapshot(path)
    assert back.versions == snap.versions and back.manifests == snap.manifests and back.links == snap.links


def test_a_snapshot_in_another_layout_is_still_read(tmp_path: Path) -> None:
    snap = _demo_snapshot()
    path = tmp_path / "indented.json"
    path.write_text(json.dumps(snapshot_to_json(snap), indent=2))
    assert read_snapshot(path).versions == snap.versions


@pytest.mark.timeout(30)
def test_dev_zero_as_a_snapshot_is_one_line_at_once() -> None:
    with pytest.raises(SnapshotError) as info:
        read_snapshot("/dev/zero")
    assert "\n" not in str(info.value)


@pytest.mark.timeout(30)
def test_a_gzip_stream_that_inflates_past_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from artifact_guard import _snapshot_file

    monkeypatch.setattr(_snapshot_file, "MAX_SNAPSHOT_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b"{" + b" " * (8 << 20) + b"}"))  # 8 MiB of JSON in a few KiB
    with pytest.raises(SnapshotError, match="larger than") as info:
        read_snapshot(bomb)
    assert "\n" not in str(info.value)


def test_a_truncated_streamed_snapshot_says_so(tmp_path: Path) -> None:
    path = write_snapshot(_demo_snapshot(), tmp_path / "s.json")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))
    with pytest.raises(SnapshotError, match="truncated"):
        read_snapshot(path)
