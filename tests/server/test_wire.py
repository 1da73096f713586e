"""The fake server's wire behaviour, driven with plain HTTP (no SDK): fast and exact."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import capture, write_snapshot
from artifact_guard._model import VersionState
from fakes import FakeWandb
from fakes.demo import seed_demo
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(60)]


def http(
    server: FakeWandbServer,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    key: str | None = "server",
    raw: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(server.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key is not None:
        req.add_header("Authorization", "Bearer " + (server.api_key if key == "server" else key))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def gql(server: FakeWandbServer, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    status, body, _ = http(server, "/graphql", {"query": query, "variables": variables or {}}, **kw)
    assert status == 200, body
    return body


def seed_versions(fake: FakeWandb, count: int, *, aliased: tuple[int, ...] = ()) -> list[str]:
    run = fake.create_run("team/proj", "r1")
    ids = []
    for i in range(count):
        aliases = ["keep"] if i in aliased else []
        ids.append(fake.log_artifact(run, "model", "model", {"w": bytes([i % 256, i // 256])}, aliases).id)
    return ids


VERSIONS = """
query Versions($cursor: String, $perPage: Int) {
  project(entityName: "team", name: "proj") {
    artifactType(name: "model") {
      artifactCollection(name: "model") {
        artifacts(after: $cursor, first: $perPage) {
          totalCount
          pageInfo { endCursor hasNextPage }
          edges { version node { id versionIndex state } }
        }
      }
    }
  }
}
"""


def page(server: FakeWandbServer, cursor: str | None, per_page: int) -> dict[str, Any]:
    data = gql(server, VERSIONS, {"cursor": cursor, "perPage": per_page})["data"]
    conn: dict[str, Any] = data["project"]["artifactType"]["artifactCollection"]["artifacts"]
    return conn


# ---------------------------------------------------------------------- auth and bad input


def test_only_the_servers_own_key_is_accepted(fresh: FakeWandbServer) -> None:
    status, body, _ = http(fresh, "/graphql", {"query": "{ viewer { id } }"}, key="x" * 40)
    assert status == 401
    assert body["errors"][0]["message"] == "user is not logged in"
    status, _, _ = http(fresh, "/graphql", {"query": "{ viewer { id } }"}, key=None)
    assert status == 401
    assert [r.status for r in fresh.requests] == [401, 401]
    assert gql(fresh, "{ viewer { id entity } }")["data"]["viewer"]["entity"] == "fake-user"


def test_api_key_is_long_enough_for_the_sdk(fresh: FakeWandbServer) -> None:
    assert len(fresh.api_key) >= 40
    with pytest.raises(ValueError, match="40 characters"):
        FakeWandbServer(FakeWandb(), api_key="short")


def test_server_binds_loopback_only(fresh: FakeWandbServer) -> None:
    assert fresh.url.startswith("http://127.0.0.1:")


def test_unknown_operation_gets_an_error_naming_it_and_is_logged(fresh: FakeWandbServer) -> None:
    body = gql(fresh, "query FancyNewThing { somethingElse { id } }")
    message = body["errors"][0]["message"]
    assert "'FancyNewThing' is not supported by the fake W&B server" in message
    assert "somethingElse" in message
    assert fresh.requests[-1].operation == "FancyNewThing"


def test_unknown_field_and_undeclared_variable_are_named(fresh: FakeWandbServer) -> None:
    body = gql(fresh, "query Q { viewer { id shoeSize } }")
    assert "shoeSize" in body["errors"][0]["message"]
    body = gql(fresh, 'query Q { project(name: $nope, entityName: "e") { id } }')
    assert "$nope" in body["errors"][0]["message"]


def test_malformed_requests_never_get_a_500(fresh: FakeWandbServer) -> None:
    status, body, _ = http(fresh, "/graphql", raw=b"{not json")
    assert status == 400 and "not valid JSON" in body["errors"][0]["message"]
    status, body, _ = http(fresh, "/graphql", raw=b"[" * 100_000)
    assert status == 400 and "nested too deeply" in body["errors"][0]["message"]
    body = gql(fresh, "query Broken { viewer { id ")
    assert "Syntax Error" in body["errors"][0]["message"]
    body = gql(fresh, "{ artifact(id: 42) { id } }")
    assert body["data"]["artifact"] is None  # an id that is not one resolves to nothing
    assert [r.operation for r in fresh.requests] == ["malformed", "malformed", "malformed", "anonymous"]


def test_operation_name_is_parsed_when_not_given(fresh: FakeWandbServer) -> None:
    gql(fresh, "query GetDefaultEntity { viewer { id entity } }")
    assert fresh.operations() == ["GetDefaultEntity"]


def test_not_found_answers_like_w_and_b(fresh: FakeWandbServer) -> None:
    seed_versions(fresh.fake, 1)
    q = """query Q($e: String!, $p: String!, $n: String!) {
        project(entityName: $e, name: $p) { artifactCollectionMembership(name: $n) { id } } }"""
    assert gql(fresh, q, {"e": "team", "p": "nope", "n": "model:v0"})["data"] == {"project": None}
    data = gql(fresh, q, {"e": "team", "p": "proj", "n": "model:v9"})["data"]
    assert data == {"project": {"artifactCollectionMembership": None}}
    missing = "QXJ0aWZhY3Q6OTk5OQ=="  # Artifact:9999
    assert gql(fresh, "query A($id: ID!) { artifact(id: $id) { id } }", {"id": missing})["data"] == {
        "artifact": None
    }
    body = gql(
        fresh,
        "mutation D($id: ID!) { deleteArtifact(input: {artifactID: $id}) { artifact { id } } }",
        {"id": missing},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_deleting_an_aliased_version_is_a_graphql_error(fresh: FakeWandbServer) -> None:
    (vid,) = seed_versions(fresh.fake, 1)
    delete = """mutation DeleteArtifact($input: DeleteArtifactInput!) {
        result: deleteArtifact(input: $input) { artifact { id state } } }"""
    body = gql(fresh, delete, {"input": {"artifactID": vid}})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "latest" in body["errors"][0]["message"]
    assert fresh.fake.version(vid).state is VersionState.COMMITTED
    body = gql(fresh, delete, {"input": {"artifactID": vid, "deleteAliases": True}})
    assert body["data"]["result"]["artifact"] == {"id": vid, "state": "DELETED"}


# ---------------------------------------------------------------------- manifests and control


def test_manifest_direct_url_serves_w_and_b_manifest_json(fresh: FakeWandbServer) -> None:
    run = fresh.fake.create_run("team/proj", "r1")
    v = fresh.fake.log_artifact(
        run, "data", "dataset", {"a.txt": b"hello"}, references=[("b", "s3://x/b", 7)]
    )
    body = gql(
        fresh,
        "query FetchArtifactManifest($id: ID!) "
        "{ artifact(id: $id) { currentManifest { file { directUrl } } } }",
        {"id": v.id},
    )
    url = body["data"]["artifact"]["currentManifest"]["file"]["directUrl"]
    assert url.startswith(fresh.url)
    status, manifest, _ = http(fresh, url[len(fresh.url) :], method="GET", key=None)
    assert status == 200
    assert manifest["version"] == 1 and manifest["storagePolicy"] == "wandb-storage-policy-v1"
    (entry_a, entry_b) = (manifest["contents"]["a.txt"], manifest["contents"]["b"])
    assert entry_a == {"digest": "XUFAKrxLKna5cZ2REBfFkg==", "size": 5, "birthArtifactID": v.id}
    assert entry_b["ref"] == "s3://x/b" and entry_b["size"] == 7
    assert http(fresh, "/artifactsV2/manifests/QXJ0aWZhY3Q6OTk5/wandb_manifest.json", method="GET")[0] == 404
    meta = fresh.fake.log_artifact(run, "meta", "dataset", {"m.bin": ("XUFAKrxLKna5cZ2REBfFkh==", 5)})
    status, body, _ = http(fresh, f"/artifactsV2/files/{meta.id}/m.bin", method="GET")
    assert status == 404 and "metadata only" in body["errors"][0]["message"]


def test_control_surface_is_post_only_and_keyed(fresh: FakeWandbServer) -> None:
    assert http(fresh, "/_fake/reset", method="GET")[0] == 405
    assert http(fresh, "/_fake/reset", {}, key="y" * 40)[0] == 401  # a wrong key is refused
    assert http(fresh, "/_fake/reset", {}, key=None)[0] == 200  # no key is fine: loopback only
    status, body, _ = http(fresh, "/_fake/seed", {"demo": True})
    assert status == 200 and body["versions"] == len(fresh.fake.versions()) > 100
    status, body, _ = http(fresh, "/_fake/seed", {"colour": "red"})
    assert status == 400 and "colour" in body["errors"][0]["message"]
    gql(fresh, "query Viewer { viewer { id } }")
    status, log, _ = http(fresh, "/_fake/requests", method="GET")
    assert status == 200 and "Viewer" in [r["operation"] for r in log]
    assert http(fresh, "/_fake/reset", {})[0] == 200
    assert fresh.fake.versions() == [] and fresh.requests == []


def test_telemetry_is_accepted_and_ignored(fresh: FakeWandbServer) -> None:
    assert http(fresh, "/telemetry", {"event": "x"}, key=None)[0] == 200


def test_wandb_cores_own_metrics_export_is_accepted_as_telemetry(fresh: FakeWandbServer) -> None:
    # wandb-core posts OpenTelemetry metrics and logs to the base URL about once a minute: a long test
    # session sees them between its API requests, which count them apart.
    fresh.clear_requests()
    for path in ("/sdk/otel/v1/metrics", "/sdk/otel/v1/logs"):
        assert http(fresh, path, {"resourceMetrics": []}, key=None)[0] == 200
    assert [r.operation for r in fresh.requests] == ["telemetry", "telemetry"]


# ---------------------------------------------------------------------- pagination


def _delete_while_paginating(server: FakeWandbServer) -> int:
    """Delete every version without aliases while paginating, as the seed page's script does."""
    cursor = None
    while True:
        conn = page(server, cursor, 50)
        for edge in conn["edges"]:
            vid = edge["node"]["id"]
            if not server.fake.version(vid).aliases:
                server.fake.delete_version(vid)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        cursor = conn["pageInfo"]["endCursor"]
    return len(server.fake.versions())


def test_stable_cursors_survive_deleting_while_paginating(fresh: FakeWandbServer) -> None:
    seed_versions(fresh.fake, 120)
    assert _delete_while_paginating(fresh) == 1  # only v119 (latest) is left


def test_offset_cursors_skip_items_when_deleting_while_paginating(fresh: FakeWandbServer) -> None:
    seed_versions(fresh.fake, 120)
    fresh.set_pagination("offset")
    try:
        left = _delete_while_paginating(fresh)
    finally:
        fresh.set_pagination("stable")
    # The measured hazard: page 2 starts at offset 50 of a listing that lost 49 items.
    assert left == 1 + 49


def test_pages_walk_every_item_once(fresh: FakeWandbServer) -> None:
    seed_versions(fresh.fake, 7)
    seen: list[str] = []
    cursor = None
    while True:
        conn = page(fresh, cursor, 3)
        assert conn["totalCount"] == 7
        seen += [e["version"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        cursor = conn["pageInfo"]["endCursor"]
    assert seen == [f"v{i}" for i in range(6, -1, -1)]


# ---------------------------------------------------------------------- faults


def test_fault_schedule_fires_n_times_then_serves(fresh: FakeWandbServer) -> None:
    rule = fresh.faults.add("Viewer", status=429, times=2, retry_after=3)
    statuses = []
    for _ in range(3):
        status, _, headers = http(fresh, "/graphql", {"query": "query Viewer { viewer { id } }"})
        statuses.append((status, headers.get("Retry-After")))
    assert statuses == [(429, "3"), (429, "3"), (200, None)]
    assert rule.fired == 2
    assert [r.status for r in fresh.requests] == [429, 429, 200]
    assert fresh.requests[0].fault


def test_fault_fraction_is_reproducible_and_other_operations_pass(fresh: FakeWandbServer) -> None:
    def draw() -> list[int]:
        fresh.faults.clear()
        fresh.faults.add("Viewer", status=502, fraction=0.5)
        out = [http(fresh, "/graphql", {"query": "query Viewer { viewer { id } }"})[0] for _ in range(20)]
        assert http(fresh, "/graphql", {"query": "query Other { viewer { id } }"})[0] == 200
        return out

    first = draw()
    assert set(first) == {200, 502}
    assert draw() == first


def test_fault_latency_delays_the_answer(fresh: FakeWandbServer) -> None:
    fresh.faults.add("*", latency=0.2, times=1)
    started = time.perf_counter()
    assert http(fresh, "/graphql", {"query": "{ viewer { id } }"})[0] == 200
    assert time.perf_counter() - started >= 0.2


def test_storage_latency_applies_to_manifest_downloads_named_exactly(fresh: FakeWandbServer) -> None:
    # Storage is slow too, but "*" means the API's operations: a storage delay is asked for by name.
    run = fresh.fake.create_run("team/proj", "r1")
    v = fresh.fake.log_artifact(run, "data", "dataset", {"a.txt": b"hello"})
    path = f"/artifactsV2/manifests/{v.id}/manifest.json"
    fresh.faults.add("*", latency=0.3)
    started = time.perf_counter()
    assert http(fresh, path, method="GET", key=None)[0] == 200
    assert time.perf_counter() - started < 0.3
    fresh.faults.clear()
    fresh.faults.add("GET manifest", latency=0.2)
    started = time.perf_counter()
    assert http(fresh, path, method="GET", key=None)[0] == 200
    assert time.perf_counter() - started >= 0.2


def test_faults_can_be_set_over_http_and_bad_ones_are_refused(fresh: FakeWandbServer) -> None:
    status, body, _ = http(
        fresh, "/_fake/faults", {"rules": [{"operation": "Viewer", "status": 500, "times": 1}]}
    )
    assert status == 200 and body["rules"][0]["status"] == 500
    assert http(fresh, "/graphql", {"query": "query Viewer { viewer { id } }"})[0] == 500
    status, body, _ = http(fresh, "/_fake/faults", {"rules": [{"status": 418}]})
    assert status == 400 and "418" in body["errors"][0]["message"]


def test_rate_limit_is_per_project_with_w_and_b_headers(fresh: FakeWandbServer) -> None:
    (vid,) = seed_versions(fresh.fake, 1)
    fresh.faults.rate_limit(0.5, burst=2)
    q = "query P($entity: String!, $project: String!) { project(entityName: $entity, name: $project) { id } }"
    answers = [
        http(fresh, "/graphql", {"query": q, "variables": {"entity": "team", "project": "proj"}})
        for _ in range(3)
    ]
    assert [a[0] for a in answers] == [200, 200, 429]
    assert answers[0][2]["RateLimit-Remaining"] == "1"
    assert answers[2][2]["RateLimit-Remaining"] == "0"
    assert int(answers[2][2]["Retry-After"]) >= 1
    assert int(answers[2][2]["RateLimit-Reset"]) >= 1
    other = http(fresh, "/graphql", {"query": q, "variables": {"entity": "team", "project": "other"}})
    assert other[0] == 200  # another project has its own bucket
    by_id = http(
        fresh,
        "/graphql",
        {"query": "query A($id: ID!) { artifact(id: $id) { id } }", "variables": {"id": vid}},
    )
    assert by_id[0] == 429  # a request naming a version by id counts against its project
    assert [r.project for r in fresh.requests] == ["team/proj"] * 3 + ["team/other", "team/proj"]


def test_seed_loads_a_snapshot_by_path_or_json(fresh: FakeWandbServer, tmp_path: Path) -> None:
    # given a snapshot of the demo project
    snapshot = capture(seed_demo().repository(), "demo-team/vision")
    path = write_snapshot(snapshot, tmp_path / "demo.json")
    expected = sorted(v.qualified_name for v in snapshot.versions)
    # when the control surface seeds it from a path, then from the decoded JSON
    for spec in ({"snapshot": str(path)}, {"snapshot": json.loads(path.read_text())}):
        status, body, _ = http(fresh, "/_fake/seed", spec)
        # then the fake holds exactly the recorded versions
        assert status == 200, body
        assert sorted(v.qualified_name for v in fresh.fake.versions()) == expected
    status, body, _ = http(fresh, "/_fake/seed", {"snapshot": {"format": "nonsense"}})
    assert status == 400 and "snapshot" in body["errors"][0]["message"]


def test_broken_framing_gets_a_one_line_400(fresh: FakeWandbServer) -> None:
    conn = HTTPConnection("127.0.0.1", fresh.port, timeout=10)
    conn.putrequest("POST", "/graphql")
    conn.putheader("Content-Length", "lots")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["errors"][0]["message"] == "Content-Length is not a number"
    conn.close()
    assert fresh.requests[-1].status == 400


def test_listings_honour_creation_order_and_refuse_what_they_do_not_model(fresh: FakeWandbServer) -> None:
    seed_versions(fresh.fake, 5)
    fresh.fake.create_run("team/proj", "r2", state="running")
    q = """query V($order: String, $cursor: String) { project(entityName: "team", name: "proj") {
        artifactType(name: "model") { artifactCollection(name: "model") {
          artifacts(order: $order, first: 2, after: $cursor) {
            edges { version } pageInfo { endCursor hasNextPage } } } } } }"""

    def versions(order: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            data = gql(fresh, q, {"order": order, "cursor": cursor})["data"]
            conn = data["project"]["artifactType"]["artifactCollection"]["artifacts"]
            seen += [e["version"] for e in conn["edges"]]
            if not conn["pageInfo"]["hasNextPage"]:
                return seen
            cursor = conn["pageInfo"]["endCursor"]

    assert versions("+createdAt") == ["v0", "v1", "v2", "v3", "v4"]
    assert versions("-createdAt") == ["v4", "v3", "v2", "v1", "v0"]
    body = gql(fresh, q, {"order": "-size"})
    assert "does not support ordering artifacts by 'size'" in body["errors"][0]["message"]

    runs = """query R($filters: JSONString, $order: String) { project(entityName: "team", name: "proj") {
        runCount(filters: $filters) runs(filters: $filters, order: $order) { edges { node { name } } } } }"""
    data = gql(fresh, runs, {"filters": '{"state": "running"}'})["data"]["project"]
    assert data["runCount"] == 1 and [e["node"]["name"] for e in data["runs"]["edges"]] == ["r2"]
    data = gql(fresh, runs, {"filters": "{}", "order": "-created_at"})["data"]["project"]
    assert [e["node"]["name"] for e in data["runs"]["edges"]] == ["r2", "r1"]
    body = gql(fresh, runs, {"filters": '{"config.lr": 0.1}'})
    assert "run filter 'config.lr'" in body["errors"][0]["message"]
