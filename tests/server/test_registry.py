"""Registry semantics on the wire: protected aliases, alias edits through links, orders and filters."""

from __future__ import annotations

import json
from typing import Any

import pytest
import wandb.sdk.artifacts._generated as art

from fakes import FakeWandb
from fakes.server._graphql import run_graphql
from fakes.server._handlers import Context

E, P, REG = "team", "proj", "wandb-registry-model"

PROTECTED = """query P($entity: String!) { entity(name: $entity) { protectedAliases(adminType: MODEL) } }"""
ADD = """mutation A($entity: String!, $aliases: [String!]!) {
  addProtectedAliases(input: {entityName: $entity, adminType: MODEL, aliases: $aliases}) { aliases } }"""
REMOVE = """mutation R($entity: String!, $aliases: [String!]!) {
  removeProtectedAliases(input: {entityName: $entity, adminType: MODEL, aliases: $aliases}) { aliases } }"""


def call(fake: FakeWandb, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = run_graphql(
        Context(fake, "http://fake"), {"query": query, "variables": variables}
    ).body
    return body


def ok(fake: FakeWandb, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = call(fake, query, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def refused(fake: FakeWandb, query: str, variables: dict[str, Any]) -> str:
    body = call(fake, query, variables)
    assert body.get("errors"), body
    message: str = body["errors"][0]["message"]
    return message


@pytest.fixture
def world() -> tuple[FakeWandb, Any]:
    fake = FakeWandb()
    run = fake.create_run(f"{E}/{P}", "r")
    v = fake.log_artifact(run, "m", "model", {"w": b"1"})
    fake.log_artifact(run, "m", "model", {"w": b"2"})
    fake.link(v, f"{E}/{REG}/champ", aliases=["production", "candidate"])
    return fake, v


def _alias_input(vid: str, collection: str, project: str, alias: str) -> dict[str, Any]:
    item = {"entityName": E, "projectName": project, "artifactCollectionName": collection, "alias": alias}
    return {"input": {"artifactID": vid, "aliases": [item]}}


def test_protected_aliases_are_per_entity_and_change_only_for_an_admin(world: tuple[FakeWandb, Any]) -> None:
    fake, v = world
    # a non-admin viewer can read but not change them
    assert ok(fake, PROTECTED, {"entity": E})["entity"]["protectedAliases"] == []
    assert "only an admin" in refused(fake, ADD, {"entity": E, "aliases": ["production"]})
    # an admin protects production: every link of the entity holding it is now protected
    fake.set_admin(E)
    assert ok(fake, ADD, {"entity": E, "aliases": ["production"]})["addProtectedAliases"]["aliases"] == [
        "production"
    ]
    (link,) = fake.links(v.id)
    assert link.protected_aliases == frozenset({"production"})
    assert fake.protected_aliases("other-team") == frozenset()
    # and unprotecting lifts it
    ok(fake, REMOVE, {"entity": E, "aliases": ["production"]})
    (link,) = fake.links(v.id)
    assert link.protected_aliases == frozenset()


def test_a_non_admin_cannot_remove_a_protected_alias_or_delete_through_it(
    world: tuple[FakeWandb, Any],
) -> None:
    fake, v = world
    fake.add_protected_aliases(E, ["production"])
    # removing the protected alias from the link is refused; the other alias goes
    message = refused(fake, art.DELETE_ALIASES_GQL, _alias_input(v.id, "champ", REG, "production"))
    assert "protected" in message
    ok(fake, art.DELETE_ALIASES_GQL, _alias_input(v.id, "champ", REG, "candidate"))
    (link,) = fake.links(v.id)
    assert link.aliases == frozenset({"production", "latest"})
    # deleting the source, or unlinking, is refused too
    assert "protected" in refused(
        fake, art.DELETE_ARTIFACT_GQL, {"input": {"artifactID": v.id, "deleteAliases": True}}
    )
    assert fake.version(v.id).state.value == "COMMITTED"
    # an admin may remove it
    fake.set_admin(E)
    ok(fake, art.DELETE_ALIASES_GQL, _alias_input(v.id, "champ", REG, "production"))
    (link,) = fake.links(v.id)
    assert link.protected_aliases == frozenset()


def test_alias_edits_through_a_linked_collection_edit_the_link(world: tuple[FakeWandb, Any]) -> None:
    fake, v = world
    ok(fake, art.ADD_ALIASES_GQL, _alias_input(v.id, "champ", REG, "staging"))
    (link,) = fake.links(v.id)
    assert "staging" in link.aliases and "staging" not in fake.version(v.id).aliases
    # a collection the version is not linked into is named in the refusal
    assert "not linked into" in refused(fake, art.ADD_ALIASES_GQL, _alias_input(v.id, "other", REG, "x"))


def _versions_order(fake: FakeWandb, order: str | None) -> list[int]:
    query = """query V($order: String) { project(name: "proj", entityName: "team") {
      artifactCollection(name: "m") { artifacts(order: $order) { edges { node { versionIndex } } } } } }"""
    edges = ok(fake, query, {"order": order})["project"]["artifactCollection"]["artifacts"]["edges"]
    return [e["node"]["versionIndex"] for e in edges]


def test_versions_order_by_version_index_and_creation_both_ways(world: tuple[FakeWandb, Any]) -> None:
    fake, _ = world
    assert _versions_order(fake, "version_index") == [0, 1]
    assert _versions_order(fake, "-version_index") == [1, 0]
    assert _versions_order(fake, "createdAt") == [0, 1]
    assert _versions_order(fake, "-createdAt") == [1, 0]
    assert "does not support ordering artifacts by 'size'" in refused(
        fake,
        """query { project(name: "proj", entityName: "team") { artifactCollection(name: "m") {
        artifacts(order: "size") { edges { node { id } } } } } }""",
        {},
    )


def _collection_names(fake: FakeWandb, order: str | None, filters: dict[str, Any] | None = None) -> list[str]:
    query = """query C($order: String, $filters: JSONString) { project(name: "proj", entityName: "team") {
      artifactCollections(order: $order, filters: $filters) { edges { node { name } } } } }"""
    variables = {"order": order, "filters": json.dumps(filters) if filters else None}
    edges = ok(fake, query, variables)["project"]["artifactCollections"]["edges"]
    return [e["node"]["name"] for e in edges]


def test_collections_order_by_name_creation_and_update_both_ways() -> None:
    fake = FakeWandb()
    run = fake.create_run(f"{E}/{P}", "r")
    for name in ("b", "c", "a"):
        fake.log_artifact(run, name, "model", {"w": name.encode()})
    assert _collection_names(fake, "name") == ["a", "b", "c"]
    assert _collection_names(fake, "-name") == ["c", "b", "a"]
    assert _collection_names(fake, "createdAt") == ["b", "c", "a"]
    assert _collection_names(fake, "-createdAt") == ["a", "c", "b"]
    fake.advance(__import__("datetime").timedelta(seconds=5))
    fake.add_collection_tags(f"{E}/{P}/b", ["keep"])  # b is now the most recently updated
    assert _collection_names(fake, "-updatedAt")[0] == "b"
    assert _collection_names(fake, "updatedAt")[-1] == "b"
    # filters the SDK sends: name, $regex, tags; an unknown one is refused by name
    assert _collection_names(fake, None, {"name": {"$regex": "^[ab]$"}}) == ["a", "b"]
    assert _collection_names(fake, None, {"tag": "keep"}) == ["b"]
    assert "collection filter 'color'" in refused(
        fake,
        """query C($f: JSONString) { project(name: "proj", entityName: "team") {
        artifactCollections(filters: $f) { edges { node { name } } } } }""",
        {"f": json.dumps({"color": "red"})},
    )


def test_registry_versions_list_links_of_the_entitys_registries(world: tuple[FakeWandb, Any]) -> None:
    fake, v = world
    data = ok(fake, art.REGISTRY_VERSIONS_GQL, {"organization": E, "includeAliases": True})
    parsed = art.RegistryVersions.model_validate(data)
    conn = parsed.organization.org_entity.artifact_memberships
    (edge,) = conn.edges
    assert edge.node.artifact.id == v.id
    assert edge.node.artifact_collection.name == "champ"
    assert sorted(a.alias for a in edge.node.aliases) == ["candidate", "latest", "production"]
    # a version filter on aliases narrows it; an unknown filter is refused
    none = ok(fake, art.REGISTRY_VERSIONS_GQL, {"organization": E, "artifactFilter": '{"alias": "nope"}'})
    assert none["organization"]["orgEntity"]["artifactMemberships"]["edges"] == []
    assert "version filter 'color'" in refused(
        fake, art.REGISTRY_VERSIONS_GQL, {"organization": E, "artifactFilter": '{"color": 1}'}
    )


@pytest.mark.timeout(120)
def test_the_real_sdk_lists_registries_their_collections_and_versions(run_sdk: Any) -> None:
    # given the demo world served over HTTP, when an unmodified SDK script walks the Registry
    from fakes.demo import seed_demo
    from fakes.server import FakeWandbServer

    with FakeWandbServer(seed_demo()) as server:
        out = run_sdk(
            server,
            """
            import json, wandb
            api = wandb.Api()
            regs = api.registries(organization="demo-team")
            versions = api.registries(organization="demo-team").versions()
            print(json.dumps({
                "registries": [r.name for r in regs],
                "collections": [c.name for c in api.registries(organization="demo-team").collections()],
                "versions": sorted(a.qualified_name for a in versions),
                "registry": api.registry("model", organization="demo-team").full_name,
            }))
            """,
        )
        errors = [r for r in server.requests if r.errors]
    # then it sees the registry, its collection and the linked versions, and no request failed
    assert out["registries"] == ["model"]
    assert out["collections"] == ["resnet50"]
    assert out["registry"] == "wandb-registry-model"
    assert out["versions"] == [f"demo-team/wandb-registry-model/resnet50:v{i}" for i in (0, 1)]
    assert errors == []


TYPED = """query T { project(name: "proj", entityName: "team") {
  run(name: "r") { projectId }
  artifactType(name: "model") {
    artifactSequence(name: "m") { __typename latestArtifact { versionIndex } }
    artifactSequences { edges { node { __typename name } } }
  } } }"""


def test_fields_typed_as_w_and_b_answer_alike_on_both_executors(world: tuple[FakeWandb, Any]) -> None:
    # Run.projectId is an ID (a string on the wire); artifactSequence(s) are ArtifactSequence(Connection)
    fake, _ = world
    fast = ok(fake, TYPED, {})
    slow = run_graphql(Context(fake, "http://fake", fast=False), {"query": TYPED}).body["data"]
    assert fast == slow
    project = fast["project"]
    assert isinstance(project["run"]["projectId"], str)
    assert project["artifactType"]["artifactSequence"]["latestArtifact"]["versionIndex"] == 1
    assert (
        project["artifactType"]["artifactSequences"]["edges"][0]["node"]["__typename"] == "ArtifactSequence"
    )


@pytest.mark.timeout(150)
def test_the_real_sdk_orders_versions_collections_and_registries_as_w_and_b_tests_expect(
    run_sdk: Any,
) -> None:
    # given two registries and linked collections, and a source collection of three versions
    from fakes.server import FakeWandbServer

    fake = FakeWandb()
    run = fake.create_run("team/proj", "r")
    versions = [fake.log_artifact(run, "m", "model", {"w": bytes([i])}) for i in range(3)]
    for name in ("b", "c", "a"):
        fake.log_artifact(run, name, "model", {"w": name.encode()})
    for i, v in enumerate(versions):
        fake.link(v, f"team/wandb-registry-model/reg-{'yxz'[i]}")
    fake.upsert_registry("team", "wandb-registry-data")
    with FakeWandbServer(fake) as server:
        out = run_sdk(
            server,
            """
            import json, wandb
            api = wandb.Api()
            regs = lambda **kw: api.registries(organization="team", **kw)
            print(json.dumps({
                "versions": {o: [a.name for a in api.artifacts("model", "team/proj/m", order=o)]
                             for o in ("version_index", "+version_index", "-version_index")},
                "collections": {o: [c.name for c in api.artifact_collections("team/proj", "model", order=o)]
                                for o in ("name", "-name")},
                "registries": {o: [r.name for r in regs(order=o)] for o in ("name", "-name")},
                "registry_collections": {o: [c.name for c in regs().collections(order=o)]
                                         for o in ("name", "-name")},
                "registry_versions": [v.name for v in regs(filter={"name": "wandb-registry-model"})
                                      .collections(order="-name").versions()],
            }))
            """,
        )
        errors = [(r.operation, r.errors) for r in server.requests if r.errors]
    assert out["versions"] == {
        "version_index": ["m:v0", "m:v1", "m:v2"],
        "+version_index": ["m:v0", "m:v1", "m:v2"],
        "-version_index": ["m:v2", "m:v1", "m:v0"],
    }
    assert out["collections"] == {"name": ["a", "b", "c", "m"], "-name": ["m", "c", "b", "a"]}
    assert out["registries"] == {"name": ["data", "model"], "-name": ["model", "data"]}
    assert out["registry_collections"] == {
        "name": ["reg-x", "reg-y", "reg-z"],
        "-name": ["reg-z", "reg-y", "reg-x"],
    }
    assert out["registry_versions"] == ["reg-z:v0", "reg-y:v0", "reg-x:v0"]
    assert errors == []


def test_linking_with_a_new_protected_alias_takes_it_from_an_unprotected_holder() -> None:
    # given a link holding `production` before anyone protected it
    fake = FakeWandb()
    run = fake.create_run("t/p", "r")
    a = fake.log_artifact(run, "m", "model", {"w": b"1"})
    b = fake.log_artifact(run, "m", "model", {"w": b"2"})
    fake.link(a, "t/wandb-registry-model/c", aliases=["production"])
    # when another version is linked with `production` protected, then it moves, and only then is protected
    new = fake.link(b, "t/wandb-registry-model/c", protected=["production"])
    assert new.protected_aliases == frozenset({"production"})
    (old,) = fake.links(a.id)
    assert "production" not in old.aliases and old.protected_aliases == frozenset()
    # and a refused link leaves no trace: moving a protected alias away is refused whole
    c = fake.log_artifact(run, "m", "model", {"w": b"3"})
    with pytest.raises(Exception, match="protected"):
        fake.link(c, "t/wandb-registry-model/c", aliases=["production"])
    assert fake.links(c.id) == () and len(fake.portfolio_links("t/wandb-registry-model/c")) == 2


def test_deleting_a_registry_unlinks_its_collections_and_refuses_what_it_cannot_do_whole() -> None:
    fake = FakeWandb()
    run = fake.create_run("t/p", "r")
    v = fake.log_artifact(run, "m", "model", {"w": b"1"})
    fake.link(v, "t/wandb-registry-model/c", aliases=["production"])
    fake.add_protected_aliases("t", ["production"])
    # a registry holding a protected link is refused whole
    with pytest.raises(Exception, match="protected"):
        fake.delete_registry("t/wandb-registry-model")
    assert len(fake.links(v.id)) == 1
    # one holding versions logged straight into it is refused by name (not modelled)
    other = fake.create_run("t/wandb-registry-odd", "r")
    fake.log_artifact(other, "x", "model", {"w": b"2"})
    with pytest.raises(ValueError, match="not model"):
        fake.delete_registry("t/wandb-registry-odd")
    # otherwise its links go, the source stays, and the registry is gone
    fake.remove_protected_aliases("t", ["production"])
    fake.delete_registry("t/wandb-registry-model")
    assert fake.links(v.id) == () and fake.version(v.id).state.value == "COMMITTED"
    assert fake.registry("t/wandb-registry-model") is None
    assert [r.scope.project for r in fake.registries("t")] == ["wandb-registry-odd"]


def test_registry_versions_filter_by_the_versions_tags(world: tuple[FakeWandb, Any]) -> None:
    fake, v = world
    fake.update_artifact_details(v.id, tags_to_add=["gold"])
    tagged = ok(fake, art.REGISTRY_VERSIONS_GQL, {"organization": E, "artifactFilter": '{"tag": "gold"}'})
    none = ok(fake, art.REGISTRY_VERSIONS_GQL, {"organization": E, "artifactFilter": '{"tag": "tin"}'})
    assert [
        e["node"]["artifact"]["id"]
        for e in tagged["organization"]["orgEntity"]["artifactMemberships"]["edges"]
    ] == [v.id]
    assert none["organization"]["orgEntity"]["artifactMemberships"]["edges"] == []
