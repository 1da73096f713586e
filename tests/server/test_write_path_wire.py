"""The write path on the wire, request by request: uploads, multipart, bad input, stored bytes.

These drive the documents wandb-core sends (``CreateArtifact``,
``CreateArtifactFiles``, ``CommitArtifact``, ...) directly, so malformed
uploads can be sent on purpose; the SDK-level flows are in
``test_write_path.py``.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from artifact_guard import Policy, plan
from artifact_guard._model import VersionState
from artifact_guard._snapshot import capture
from fakes import FakeWandb
from fakes._backend import md5_b64
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(60)]

CREATE = """mutation CreateArtifact($input: CreateArtifactInput!) {
  createArtifact(input: $input) { artifact { id state artifactSequence { latestArtifact { id } } } }
}"""
MANIFEST = """mutation CreateArtifactManifest($artifactID: ID!, $digest: String!) {
  createArtifactManifest(input: {artifactID: $artifactID, name: "wandb_manifest.json", digest: $digest,
    entityName: "team", projectName: "proj", runName: "r1", type: FULL}) {
    artifactManifest { id file { id uploadUrl } }
  }
}"""
FILES = """mutation CreateArtifactFiles($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) { files { edges { node {
    storagePath uploadUrl uploadMultipartUrls { uploadID uploadUrlParts { partNumber uploadUrl } }
  } } } }
}"""
COMMIT = """mutation CommitArtifact($artifactID: ID!) {
  commitArtifact(input: {artifactID: $artifactID}) { artifact { id digest } }
}"""
COMPLETE = """mutation CompleteMultipartUploadArtifact(
  $parts: [UploadPartsInput!]!, $id: ID!, $path: String!
) {
  completeMultipartUploadArtifact(input: {completeMultipartAction: Complete, completedParts: $parts,
    artifactID: $id, storagePath: $path, uploadID: $path}) { digest }
}"""


def _request(
    server: FakeWandbServer, url: str, data: bytes | None, method: str, key: bool = True
) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url if url.startswith("http") else server.url + url, data=data, method=method
    )
    if key:
        req.add_header("Authorization", "Bearer " + server.api_key)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _gql(server: FakeWandbServer, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    status, body = _request(
        server, "/graphql", json.dumps({"query": query, "variables": variables}).encode(), "POST"
    )
    assert status == 200, body
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def _start(server: FakeWandbServer, files: dict[str, bytes], collection: str = "data") -> tuple[str, str]:
    """A pending version of ``collection`` and the id of its manifest (logged by run team/proj/r1)."""
    if "team/proj/r1" not in {r.path for r in server.fake.runs()}:
        server.fake.upsert_run("team/proj/r1")
    created = _gql(
        server,
        CREATE,
        {
            "input": {
                "entityName": "team",
                "projectName": "proj",
                "runName": "r1",
                "artifactTypeName": "dataset",
                "artifactCollectionName": collection,
                "digest": md5_b64(json.dumps(sorted(files)).encode()),
                "aliases": [{"alias": "best", "artifactCollectionName": collection}],
            }
        },
    )
    vid = created["data"]["createArtifact"]["artifact"]["id"]
    assert created["data"]["createArtifact"]["artifact"]["state"] == "PENDING"
    manifest = _gql(server, MANIFEST, {"artifactID": vid, "digest": "x"})
    return vid, manifest["data"]["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]


def _manifest_body(files: dict[str, bytes], vid: str) -> bytes:
    contents = {p: {"digest": md5_b64(b), "size": len(b), "birthArtifactID": vid} for p, b in files.items()}
    return json.dumps(
        {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents}
    ).encode()


def _slots(server: FakeWandbServer, vid: str, files: dict[str, bytes], **parts: Any) -> list[dict[str, Any]]:
    specs = [{"artifactID": vid, "name": p, "md5": md5_b64(b), **parts.get(p, {})} for p, b in files.items()]
    out = _gql(server, FILES, {"input": {"artifactFiles": specs, "storageLayout": "V2"}})
    return [e["node"] for e in out["data"]["createArtifactFiles"]["files"]["edges"]]


def test_an_upload_with_the_wrong_bytes_is_refused_and_the_version_stays_pending(
    fresh: FakeWandbServer,
) -> None:
    files = {"a.txt": b"alpha"}
    vid, manifest_url = _start(fresh, files)
    (slot,) = _slots(fresh, vid, files)
    status, body = _request(fresh, slot["uploadUrl"], b"ALPHA", "PUT", key=False)
    assert status == 400 and b"BadDigest" in body
    assert _request(fresh, manifest_url, _manifest_body(files, vid), "PUT", key=False)[0] == 200
    refused = _gql(fresh, COMMIT, {"artifactID": vid})
    assert "files not uploaded: a.txt" in refused["errors"][0]["message"]
    v = fresh.fake.version(vid)
    assert v.state is VersionState.PENDING and v.aliases == frozenset()
    assert fresh.fake.stored_bytes() == 0 and fresh.fake.manifest(vid) == ()
    # the audit sees it as PENDING (capture reads it through the repository)
    (seen,) = capture(fresh.fake.repository(), "team/proj").versions
    assert seen.state is VersionState.PENDING
    # a retry with the right bytes commits: best and latest arrive only now
    assert _request(fresh, slot["uploadUrl"], b"alpha", "PUT", key=False)[0] == 200
    committed = _gql(fresh, COMMIT, {"artifactID": vid})
    assert "errors" not in committed
    assert fresh.fake.version(vid).aliases == {"best", "latest"} and fresh.fake.stored_bytes() == 5


def test_a_truncated_upload_and_a_size_mismatch_are_refused(fresh: FakeWandbServer) -> None:
    files = {"a.txt": b"alpha"}
    vid, manifest_url = _start(fresh, files)
    (slot,) = _slots(fresh, vid, files)
    # a body that stops short of its Content-Length: the fake reads what came and refuses it
    req = urllib.request.Request(slot["uploadUrl"], data=b"alp", method="PUT")
    req.add_header("Content-Length", "3")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 400
    assert _request(fresh, slot["uploadUrl"], b"alpha", "PUT", key=False)[0] == 200
    # a manifest claiming another size than the uploaded bytes: the commit is refused
    lying = json.loads(_manifest_body(files, vid))
    lying["contents"]["a.txt"]["size"] = 6
    assert _request(fresh, manifest_url, json.dumps(lying).encode(), "PUT", key=False)[0] == 200
    out = _gql(fresh, COMMIT, {"artifactID": vid})
    assert "is 5 bytes, the manifest says 6" in out["errors"][0]["message"]
    assert fresh.fake.version(vid).state is VersionState.PENDING


def test_commit_without_a_manifest_is_refused(fresh: FakeWandbServer) -> None:
    vid, _ = _start(fresh, {"a.txt": b"alpha"})
    out = _gql(fresh, COMMIT, {"artifactID": vid})
    assert "no manifest was uploaded" in out["errors"][0]["message"]
    assert fresh.fake.version(vid).state is VersionState.PENDING


def test_multipart_upload_joins_its_parts_and_refuses_a_missing_one(fresh: FakeWandbServer) -> None:
    parts_data = [b"a" * 100, b"b" * 50]
    whole = b"".join(parts_data)
    files = {"big.bin": whole}
    vid, manifest_url = _start(fresh, files)
    parts = [{"partNumber": i + 1, "hexMD5": hashlib.md5(p).hexdigest()} for i, p in enumerate(parts_data)]
    (slot,) = _slots(fresh, vid, files, **{"big.bin": {"uploadPartsInput": parts}})
    urls = slot["uploadMultipartUrls"]
    assert slot["uploadUrl"] is None and [u["partNumber"] for u in urls["uploadUrlParts"]] == [1, 2]
    assert _request(fresh, urls["uploadUrlParts"][0]["uploadUrl"], parts_data[0], "PUT", key=False)[0] == 200
    variables = {"parts": parts, "id": vid, "path": slot["storagePath"]}
    truncated = _gql(fresh, COMPLETE, variables)
    assert "missing parts [2]" in truncated["errors"][0]["message"]
    assert _request(fresh, urls["uploadUrlParts"][1]["uploadUrl"], parts_data[1], "PUT", key=False)[0] == 200
    done = _gql(fresh, COMPLETE, variables)
    assert done["data"]["completeMultipartUploadArtifact"]["digest"] == md5_b64(whole)
    assert _request(fresh, manifest_url, _manifest_body(files, vid), "PUT", key=False)[0] == 200
    assert "errors" not in _gql(fresh, COMMIT, {"artifactID": vid})
    assert fresh.fake.blobs.get(md5_b64(whole)) == whole


def test_builder_bytes_are_served_metadata_only_files_answer_404_and_gc_drops_bytes(
    fresh: FakeWandbServer,
) -> None:
    fake = fresh.fake
    run = fake.create_run("team/proj", "r1")
    v = fake.log_artifact(
        run, "data", "dataset", {"a.txt": b"alpha", "m.bin": ("XUFAKrxLKna5cZ2REBfFkg==", 5)}
    )
    assert _request(fresh, f"/artifactsV2/files/{v.id}/a.txt", None, "GET", key=False) == (200, b"alpha")
    status, body = _request(fresh, f"/artifactsV2/files/{v.id}/m.bin", None, "GET", key=False)
    assert status == 404 and b"metadata only" in body
    fake.delete_version(v.id, delete_aliases=True)
    assert md5_b64(b"alpha") in fake.blobs
    assert fake.gc() == 10
    assert md5_b64(b"alpha") not in fake.blobs


def test_large_blobs_spill_to_a_folder_the_store_removes() -> None:
    from fakes._blobs import BlobStore

    store = BlobStore(memory_limit=10)
    small, big = b"s" * 5, b"b" * 100
    small_digest, big_digest = store.put(small), store.put(big)
    assert store.get(big_digest) == big and store.get(small_digest) == small
    assert store._memory_bytes == 5  # the big one went to disk
    folder = store._folder
    assert folder is not None
    store.close()
    import os

    assert not os.path.exists(folder)


def test_sdk_and_builders_make_the_same_snapshot(fresh: FakeWandbServer, run_sdk: Any) -> None:
    # Given one project logged through the SDK ...
    run_sdk(
        fresh,
        """
        import json, wandb
        with wandb.init(project="proj", entity="team", id="train") as run:
            for i, alias in enumerate(["first", None, "best"]):
                art = wandb.Artifact("model", type="model")
                with art.new_file("w.bin", mode="wb") as f:
                    f.write(bytes([i]) * 10)
                with art.new_file("shared.txt", mode="w") as f:
                    f.write("shared")
                run.log_artifact(art, aliases=[alias] if alias else [])
                art.wait()
        with wandb.init(project="proj", entity="team", id="eval") as run:
            best = run.use_artifact("model:best")
            run.link_artifact(best, "team/wandb-registry-model/prod", aliases=["staging"])
        print(json.dumps({}))
        """,
    )
    # ... and the same project made with the builders
    built = FakeWandb()
    train = built.create_run("team/proj", "train")
    for i, alias in enumerate(["first", None, "best"]):
        built.log_artifact(
            train,
            "model",
            "model",
            {"shared.txt": b"shared", "w.bin": bytes([i]) * 10},
            [alias] if alias else [],
        )
    evaluation = built.create_run("team/proj", "eval")
    best = built.resolve("team/proj/model:best")
    built.use_artifact(evaluation, best)
    built.link(best, "team/wandb-registry-model/prod", aliases=["staging"])
    built.finish_run(train)

    def normalised(fake: FakeWandb) -> Any:
        snap = capture(fake.repository(), "team/proj")
        ids = {v.id: f"v{v.index}" for v in snap.versions}
        return (
            [
                (v.collection, v.type, v.index, v.state, sorted(v.aliases), v.size, v.producer, v.ttl)
                for v in snap.versions
            ],
            {ids[k]: sorted(m) for k, m in snap.manifests.items()},
            {ids[k]: (lin.producer, lin.consumers) for k, lin in snap.lineage.items()},
            {
                ids[k]: [
                    (str(lk.portfolio), lk.index, sorted(lk.aliases), ids[lk.version_id]) for lk in links
                ]
                for k, links in snap.links.items()
            },
        )

    # Then capture() sees the same project both ways, ids aside
    assert normalised(fresh.fake) == normalised(built)
    assert fresh.fake.stored_objects() == built.stored_objects()
    # and a plan over either deletes the same versions
    later = datetime.now(UTC) + timedelta(days=30)
    policy = Policy(keep_last=1)
    sdk_plan = plan(fresh.fake.repository(), "team/proj", policy, now=later)
    built_plan = plan(built.repository(), "team/proj", policy, now=later)

    def decided(p: Any) -> list[tuple[str, str]]:
        return sorted((d.version.name, str(d.action)) for d in p.decisions)

    assert decided(sdk_plan) == decided(built_plan)
    assert sdk_plan.reclaimable_bytes == built_plan.reclaimable_bytes


def test_cloud_references_commit_without_uploads_and_store_nothing(fresh: FakeWandbServer) -> None:
    vid, manifest_url = _start(fresh, {})
    contents = {
        "a.bin": {"digest": "etag-a", "ref": "s3://bucket/a.bin", "size": 10},
        "b.bin": {"digest": "etag-b", "ref": "gs://bucket/b.bin", "size": 20},
    }
    body = json.dumps({"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents})
    assert _request(fresh, manifest_url, body.encode(), "PUT", key=False)[0] == 200
    assert "errors" not in _gql(fresh, COMMIT, {"artifactID": vid})
    refs = sorted((e.path, e.ref, e.size) for e in fresh.fake.manifest(vid))
    assert refs == [("a.bin", "s3://bucket/a.bin", 10), ("b.bin", "gs://bucket/b.bin", 20)]
    assert fresh.fake.stored_bytes() == 0 and fresh.fake.version(vid).size == 30


def test_link_by_client_id_before_the_server_id_is_known(fresh: FakeWandbServer) -> None:
    fresh.fake.upsert_run("team/proj/r1")
    created = _gql(
        fresh,
        CREATE,
        {
            "input": {
                "entityName": "team",
                "projectName": "proj",
                "runName": "r1",
                "artifactTypeName": "model",
                "artifactCollectionName": "m",
                "digest": "d",
                "clientID": "client-123",
            }
        },
    )
    vid = created["data"]["createArtifact"]["artifact"]["id"]
    mapping = _gql(
        fresh, "query M($c: ID!) { clientIDMapping(clientID: $c) { serverID } }", {"c": "client-123"}
    )
    assert mapping["data"]["clientIDMapping"]["serverID"] == vid
    link = """mutation L($c: ID) { linkArtifact(input: {clientID: $c, artifactPortfolioName: "prod",
      entityName: "team", projectName: "wandb-registry-model", aliases: []}) { versionIndex } }"""
    assert _gql(fresh, link, {"c": "client-123"})["data"]["linkArtifact"]["versionIndex"] == 0
    (made,) = fresh.fake.links(vid)
    assert str(made.portfolio) == "team/wandb-registry-model/prod"


def test_a_run_whose_stream_falls_silent_is_crashed() -> None:
    fake = FakeWandb(now=datetime(2026, 1, 1, tzinfo=UTC))
    fake.upsert_run("team/proj/alive")
    fake.upsert_run("team/proj/done")
    fake.stream_run("team/proj/done", {}, complete=True, exit_code=0)
    fake.advance(timedelta(minutes=4))
    assert fake.crash_silent_runs() == []
    fake.stream_run("team/proj/alive", {"wandb-events.jsonl": ['{"cpu": 1}']})  # a heartbeat
    fake.advance(timedelta(minutes=4))
    assert fake.crash_silent_runs() == []
    fake.advance(timedelta(minutes=2))
    assert [r.path for r in fake.crash_silent_runs()] == ["team/proj/alive"]
    assert {r.path: r.state for r in fake.runs()} == {
        "team/proj/alive": "crashed",
        "team/proj/done": "finished",
    }


def test_a_part_with_the_wrong_bytes_and_a_chunked_upload(fresh: FakeWandbServer) -> None:
    import http.client
    from urllib.parse import urlsplit

    files = {"big.bin": b"x" * 10, "c.bin": b"chunked body"}
    vid, _ = _start(fresh, files)
    part = [{"partNumber": 1, "hexMD5": hashlib.md5(b"x" * 10).hexdigest()}]
    big, chunked = _slots(fresh, vid, files, **{"big.bin": {"uploadPartsInput": part}})
    url = big["uploadMultipartUrls"]["uploadUrlParts"][0]["uploadUrl"]
    status, body = _request(fresh, url, b"y" * 10, "PUT", key=False)
    assert status == 400 and b"BadDigest" in body
    # Transfer-Encoding: chunked (no Content-Length), as some HTTP clients send file bodies
    where = urlsplit(chunked["uploadUrl"])
    conn = http.client.HTTPConnection(where.netloc, timeout=10)
    conn.putrequest("PUT", f"{where.path}?{where.query}" if where.query else where.path)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for piece in (b"chunked", b" body"):
        conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    conn.send(b"0\r\n\r\n")
    assert conn.getresponse().status == 200
    conn.close()
    assert fresh.fake.blobs.get(md5_b64(b"chunked body")) == b"chunked body"


def test_create_artifact_refuses_another_type_and_invalid_tags_like_w_and_b(fresh: FakeWandbServer) -> None:
    vid, _ = _start(fresh, {"a": b"a"})
    base = {
        "entityName": "team",
        "projectName": "proj",
        "runName": "r1",
        "artifactCollectionName": "data",
        "digest": "other",
    }
    wrong_type = _gql(fresh, CREATE, {"input": {**base, "artifactTypeName": "model"}})
    assert "already exists with type 'dataset'" in wrong_type["errors"][0]["message"]
    bad_tag = {**base, "artifactTypeName": "dataset", "tags": [{"tagName": "no/slash"}]}
    refused = _gql(fresh, CREATE, {"input": bad_tag})
    assert "Invalid tag" in refused["errors"][0]["message"]
    assert [v.id for v in fresh.fake.versions()] == [vid]  # neither made a version


def test_a_storage_region_the_server_does_not_have_is_refused(fresh: FakeWandbServer) -> None:
    fresh.fake.upsert_run("team/proj/r1")
    base = {
        "entityName": "team",
        "projectName": "proj",
        "runName": "r1",
        "artifactTypeName": "dataset",
        "artifactCollectionName": "data",
        "digest": "d",
    }
    fresh.set_storage_regions(["default"])
    try:
        refused = _gql(fresh, CREATE, {"input": {**base, "storageRegion": "coreweave-us"}})
        assert "invalid storageRegion: coreweave-us" in refused["errors"][0]["message"]
        accepted = _gql(fresh, CREATE, {"input": {**base, "storageRegion": "default"}})
        assert "errors" not in accepted
    finally:
        fresh.set_storage_regions(None)
    anywhere = _gql(fresh, CREATE, {"input": {**base, "digest": "e", "storageRegion": "coreweave-us"}})
    assert "errors" not in anywhere  # by default any region is accepted


def test_reset_drops_stored_bytes_and_their_folder() -> None:
    import os

    fake = FakeWandb()
    fake.blobs.memory_limit = 0  # everything to disk
    run = fake.create_run("team/proj", "r1")
    fake.log_artifact(run, "data", "dataset", {"a": b"alpha"})
    folder = fake.blobs._folder
    assert folder is not None and os.listdir(folder)
    fake.reset()
    assert not os.path.exists(folder) and fake.blobs.digests() == frozenset()
