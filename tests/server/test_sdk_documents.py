"""Every GraphQL document the SDK sends for artifact work, answered and validated by the SDK's own models.

The wandb SDK parses each answer with a generated pydantic model: a missing or
mistyped field fails there. This runs the SDK's documents (straight from
``wandb``'s generated modules) through the fake's GraphQL layer in-process and
validates the data with those models, so a schema drift shows up here first.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import wandb.apis._generated as api_gen
import wandb.sdk.artifacts._generated as art
from graphql import OperationDefinitionNode, parse
from wandb.sdk.internal._generated import SERVER_FEATURES_QUERY_GQL, ServerFeaturesQuery

from fakes import FakeWandb
from fakes.demo import seed_demo
from fakes.server._fast import execute_query
from fakes.server._graphql import run_graphql
from fakes.server._handlers import Context, QueryRoot, encode_id
from fakes.server._schema import schema

E, P = "demo-team", "vision"


@pytest.fixture(scope="module")
def demo() -> FakeWandb:
    return seed_demo()


def ids(fake: FakeWandb) -> dict[str, str]:
    best = fake.resolve(f"{E}/{P}/resnet50-000:best")
    linked = fake.resolve(f"{E}/{P}/resnet50-004:v12")
    return {
        "best": best.id,
        "linked": linked.id,
        "sequence": fake.collection_info(f"{E}/{P}/resnet50-000").id,
        "portfolio": fake.collection_info(f"{E}/wandb-registry-model/resnet50").id,
    }


def answer(fake: FakeWandb, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    outcome = run_graphql(Context(fake, "http://fake"), {"query": query, "variables": variables})
    assert "errors" not in outcome.body, outcome.body["errors"]
    data: dict[str, Any] = outcome.body["data"]
    return data


READS: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("ServerFeaturesQuery", SERVER_FEATURES_QUERY_GQL, ServerFeaturesQuery, {}),
    ("GetViewer", api_gen.GET_VIEWER_GQL, api_gen.GetViewer, {}),
    ("GetDefaultEntity", api_gen.GET_DEFAULT_ENTITY_GQL, api_gen.GetDefaultEntity, {}),
    (
        "IsProjectReadOnly",
        api_gen.IS_PROJECT_READ_ONLY_GQL,
        api_gen.IsProjectReadOnly,
        {"entity": E, "project": P},
    ),
    ("GetProject", api_gen.GET_PROJECT_GQL, api_gen.GetProject, {"entity": E, "name": P}),
    ("GetProjects", api_gen.GET_PROJECTS_GQL, api_gen.GetProjects, {"entity": E}),
    ("FetchOrgInfoFromEntity", art.FETCH_ORG_INFO_FROM_ENTITY_GQL, art.FetchOrgInfoFromEntity, {"entity": E}),
    (
        "ProjectArtifactCollections",
        art.PROJECT_ARTIFACT_COLLECTIONS_GQL,
        art.ProjectArtifactCollections,
        {"entity": E, "project": P, "perPage": 3},
    ),
    (
        "ArtifactTypeArtifactCollections",
        art.ARTIFACT_TYPE_ARTIFACT_COLLECTIONS_GQL,
        art.ArtifactTypeArtifactCollections,
        {"entity": E, "project": P, "type": "model", "perPage": 3},
    ),
    (
        "ProjectArtifactCollection",
        art.PROJECT_ARTIFACT_COLLECTION_GQL,
        art.ProjectArtifactCollection,
        {"entity": E, "project": P, "type": "model", "name": "resnet50-000"},
    ),
    (
        "ProjectArtifactTypes",
        art.PROJECT_ARTIFACT_TYPES_GQL,
        art.ProjectArtifactTypes,
        {"entity": E, "project": P},
    ),
    (
        "ProjectArtifactType",
        art.PROJECT_ARTIFACT_TYPE_GQL,
        art.ProjectArtifactType,
        {"entity": E, "project": P, "type": "dataset"},
    ),
    (
        "ProjectArtifacts",
        art.PROJECT_ARTIFACTS_GQL,
        art.ProjectArtifacts,
        {
            "entity": E,
            "project": P,
            "type": "model",
            "collection": "resnet50-000",
            "filters": '{"state": "COMMITTED"}',
        },
    ),
    (
        "RunOutputArtifacts",
        art.RUN_OUTPUT_ARTIFACTS_GQL,
        art.RunOutputArtifacts,
        {"entity": E, "project": P, "run": "train-000", "perPage": 5},
    ),
    (
        "RunInputArtifacts",
        art.RUN_INPUT_ARTIFACTS_GQL,
        art.RunInputArtifacts,
        {"entity": E, "project": P, "run": "train-000"},
    ),
    (
        "ArtifactMembershipByName",
        art.ARTIFACT_MEMBERSHIP_BY_NAME_GQL,
        art.ArtifactMembershipByName,
        {"entity": E, "project": "wandb-registry-model", "name": "resnet50:production"},
    ),
    ("ArtifactByID", art.ARTIFACT_BY_ID_GQL, art.ArtifactByID, {"id": "{best}"}),
    (
        "ArtifactMembershipFiles",
        art.ARTIFACT_MEMBERSHIP_FILES_GQL,
        art.ArtifactMembershipFiles,
        {"entity": E, "project": P, "collection": "resnet50-000", "alias": "best"},
    ),
    (
        "ArtifactCollectionAliases",
        art.ARTIFACT_COLLECTION_ALIASES_GQL,
        art.ArtifactCollectionAliases,
        {"id": "{sequence}"},
    ),
    (
        "FetchLinkedArtifacts",
        art.FETCH_LINKED_ARTIFACTS_GQL,
        art.FetchLinkedArtifacts,
        {"artifactID": "{linked}"},
    ),
    ("FetchArtifactManifest", art.FETCH_ARTIFACT_MANIFEST_GQL, art.FetchArtifactManifest, {"id": "{best}"}),
    ("ArtifactUsedBy", art.ARTIFACT_USED_BY_GQL, art.ArtifactUsedBy, {"id": "{best}"}),
    ("ArtifactCreatedBy", art.ARTIFACT_CREATED_BY_GQL, art.ArtifactCreatedBy, {"id": "{best}"}),
    (
        "ArtifactType",
        art.ARTIFACT_TYPE_GQL,
        art.ArtifactType,
        {"entity": E, "project": P, "name": "resnet50-000:v1"},
    ),
    (
        "GetArtifactMembershipFileUrls",
        art.GET_ARTIFACT_MEMBERSHIP_FILE_URLS_GQL,
        art.GetArtifactMembershipFileUrls,
        {"entity": E, "project": P, "collection": "resnet50-000", "alias": "best"},
    ),
    ("FetchOrganization", art.FETCH_ORGANIZATION_GQL, art.FetchOrganization, {"org": E}),
    (
        "FetchAdvancedRegistryFeatures",
        art.FETCH_ADVANCED_REGISTRY_FEATURES_GQL,
        art.FetchAdvancedRegistryFeatures,
        {"organization": E},
    ),
    (
        "FetchRegistries",
        art.FETCH_REGISTRIES_GQL,
        art.FetchRegistries,
        {"organization": E, "filters": '{"name": {"$regex": "model"}}', "perPage": 10},
    ),
    (
        "FetchRegistry",
        art.FETCH_REGISTRY_GQL,
        art.FetchRegistry,
        {"entity": E, "name": "wandb-registry-model"},
    ),
    (
        "RegistryCollections",
        art.REGISTRY_COLLECTIONS_GQL,
        art.RegistryCollections,
        {"organization": E, "collectionFilter": '{"name": "resnet50"}', "perPage": 10},
    ),
    (
        "RegistryVersions",
        art.REGISTRY_VERSIONS_GQL,
        art.RegistryVersions,
        {"organization": E, "registryFilter": '{"name": "wandb-registry-model"}', "includeAliases": True},
    ),
    (
        "RegistryUserMembers",
        art.REGISTRY_USER_MEMBERS_GQL,
        art.RegistryUserMembers,
        {"entity": E, "project": "wandb-registry-model"},
    ),
    (
        "RegistryTeamMembers",
        art.REGISTRY_TEAM_MEMBERS_GQL,
        art.RegistryTeamMembers,
        {"entity": E, "project": "wandb-registry-model"},
    ),
]


def fill(variables: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
    return {k: known.get(v[1:-1], v) if isinstance(v, str) else v for k, v in variables.items()}


@pytest.mark.parametrize(("name", "query", "model", "variables"), READS, ids=[r[0] for r in READS])
def test_read_answers_validate_against_the_sdks_models(
    demo: FakeWandb, name: str, query: str, model: Any, variables: dict[str, Any]
) -> None:
    data = answer(demo, query, fill(variables, ids(demo)))
    parsed = model.model_validate(data)
    assert parsed is not None
    assert any(value is not None for value in data.values()), f"{name} answered nothing: {data}"


def test_registry_membership_resolves_to_the_link_and_its_source(demo: FakeWandb) -> None:
    data = answer(
        demo,
        art.ARTIFACT_MEMBERSHIP_BY_NAME_GQL,
        {"entity": E, "project": "wandb-registry-model", "name": "resnet50:production"},
    )
    m = art.ArtifactMembershipByName.model_validate(data).project.artifact_collection_membership
    assert m.artifact_collection.typename__ == "ArtifactPortfolio"
    # latest moved to the link made after it (the baseline)
    assert sorted(a.alias for a in m.aliases) == ["candidate", "production"]
    assert m.artifact.artifact_sequence.name == "resnet50-004"
    assert m.artifact.version_index == 33


def test_mutation_answers_validate_against_the_sdks_models() -> None:
    # given a fresh small world (mutations change it)
    fake = FakeWandb()
    run = fake.create_run(f"{E}/{P}", "r1")
    a = fake.log_artifact(run, "m", "model", {"w": b"1"})
    b = fake.log_artifact(run, "m", "model", {"w": b"2"})
    c = fake.log_artifact(run, "other", "model", {"w": b"3"})
    fake.link(b, f"{E}/wandb-registry-model/reg")
    fake.link(c, f"{E}/wandb-registry-model/reg2")
    target = {"entityName": E, "projectName": P, "artifactCollectionName": "m"}
    portfolio = fake.collection_info(f"{E}/wandb-registry-model/reg").id
    cases: list[tuple[str, Any, dict[str, Any]]] = [
        (
            art.ADD_ALIASES_GQL,
            art.AddAliases,
            {"input": {"artifactID": a.id, "aliases": [{**target, "alias": "x"}]}},
        ),
        (
            art.DELETE_ALIASES_GQL,
            art.DeleteAliases,
            {"input": {"artifactID": a.id, "aliases": [{**target, "alias": "x"}]}},
        ),
        (
            art.UPDATE_ARTIFACT_GQL,
            art.UpdateArtifact,
            {"input": {"artifactID": a.id, "ttlDurationSeconds": 3600}},
        ),
        (
            art.UNLINK_ARTIFACT_GQL,
            art.UnlinkArtifact,
            {"input": {"artifactID": b.id, "artifactPortfolioID": portfolio}},
        ),
        (
            art.LINK_ARTIFACT_GQL,
            art.LinkArtifact,
            {
                "input": {
                    "artifactID": a.id,
                    "artifactPortfolioName": "reg3",
                    "entityName": E,
                    "projectName": "wandb-registry-model",
                    "aliases": [{"artifactCollectionName": "reg3", "alias": "candidate"}],
                }
            },
        ),
        (art.DELETE_ARTIFACT_GQL, art.DeleteArtifact, {"input": {"artifactID": a.id, "deleteAliases": True}}),
        (
            art.DELETE_ARTIFACT_PORTFOLIO_GQL,
            art.DeleteArtifactPortfolio,
            {"id": fake.collection_info(f"{E}/wandb-registry-model/reg2").id},
        ),
        (
            art.DELETE_ARTIFACT_SEQUENCE_GQL,
            art.DeleteArtifactSequence,
            {"id": fake.collection_info(f"{E}/{P}/m").id},
        ),
    ]
    for query, model, variables in cases:
        model.model_validate(answer(fake, query, variables))
    # then the world changed as the mutations said
    assert fake.version(a.id).state.value == "DELETED"
    assert fake.version(b.id).state.value == "DELETED"  # the sequence delete took it
    assert fake.version(c.id).state.value == "COMMITTED"  # deleting a portfolio only unlinks
    assert fake.portfolio_links(f"{E}/wandb-registry-model/reg2") == []
    assert fake.version(a.id).ttl is None  # linking cleared the TTL set just before
    (link,) = fake.portfolio_links(f"{E}/wandb-registry-model/reg3")
    assert link.version_id == a.id and link.aliases == frozenset({"candidate", "latest"})


def test_delete_run_with_its_artifacts() -> None:
    fake = FakeWandb()
    run = fake.create_run(f"{E}/{P}", "r1")
    v = fake.log_artifact(run, "m", "model", {"w": b"1"})
    query = """mutation DeleteRun($id: ID!, $deleteArtifacts: Boolean) {
        deleteRun(input: {id: $id, deleteArtifacts: $deleteArtifacts}) { clientMutationId } }"""
    answer(fake, query, {"id": encode_id("Run", run.path), "deleteArtifacts": True})
    assert fake.runs() == []
    assert fake.version(v.id).state.value == "DELETED"


@pytest.mark.parametrize(("name", "query", "model", "variables"), READS, ids=[r[0] for r in READS])
def test_fast_executor_answers_exactly_like_graphql_core(
    demo: FakeWandb, name: str, query: str, model: Any, variables: dict[str, Any]
) -> None:
    # given one of the SDK's documents, when both executors answer it
    filled = fill(variables, ids(demo))
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fast = execute_query(schema(), document, operation, QueryRoot(Context(demo, "http://fake")), filled)
    slow = run_graphql(Context(demo, "http://fake", fast=False), {"query": query, "variables": filled})
    # then the lean executor ran (no fallback) and gave the same JSON, key order included
    assert "errors" not in slow.body
    assert json.dumps(fast) == json.dumps(slow.body["data"])


def test_files_list_what_w_and_b_stores_not_references(demo: FakeWandb) -> None:
    # given a predictions version: one stored file and one s3 reference
    data = answer(
        demo,
        art.ARTIFACT_MEMBERSHIP_FILES_GQL,
        {"entity": E, "project": P, "collection": "predictions", "alias": "v3"},
    )
    files = art.ArtifactMembershipFiles.model_validate(
        data
    ).project.artifact_collection.artifact_membership.files
    # then only the stored file is listed, with its manifest size and digest
    (edge,) = files.edges
    (entry,) = [e for e in demo.manifest(demo.resolve(f"{E}/{P}/predictions:v3").id) if e.ref is None]
    assert (edge.node.name, edge.node.size_bytes, edge.node.md_5) == (entry.path, entry.size, entry.digest)


def test_registry_and_collection_mutations_validate_and_change_the_world() -> None:
    # given a fresh world with one source collection and a registry the viewer administers
    fake = FakeWandb()
    run = fake.create_run(f"{E}/{P}", "r1")
    v = fake.log_artifact(run, "m", "model", {"w": b"1"})
    fake.link(v, f"{E}/wandb-registry-model/reg", aliases=["candidate"])
    sequence = fake.collection_info(f"{E}/{P}/m").id
    portfolio = fake.collection_info(f"{E}/wandb-registry-model/reg").id
    tags = {"entityName": E, "projectName": P, "artifactCollectionName": "m", "tags": [{"tagName": "keep"}]}
    viewer = encode_id("User", 1)
    cases: list[tuple[str, Any, dict[str, Any]]] = [
        (
            art.UPSERT_REGISTRY_GQL,
            art.UpsertRegistry,
            {
                "input": {
                    "name": "wandb-registry-data",
                    "entityName": E,
                    "description": "datasets",
                    "access": "RESTRICTED",
                    "allowAllArtifactTypesInRegistry": False,
                    "artifactTypes": [{"name": "dataset"}],
                }
            },
        ),
        (
            art.RENAME_REGISTRY_GQL,
            art.RenameRegistry,
            {
                "input": {
                    "entityName": E,
                    "oldProjectName": "wandb-registry-data",
                    "newProjectName": "wandb-registry-datasets",
                }
            },
        ),
        (art.ADD_ARTIFACT_COLLECTION_TAGS_GQL, art.AddArtifactCollectionTags, {"input": tags}),
        (
            art.UPDATE_ARTIFACT_SEQUENCE_GQL,
            art.UpdateArtifactSequence,
            {"input": {"artifactSequenceID": sequence, "name": "m", "description": "weights"}},
        ),
        (
            art.UPDATE_ARTIFACT_PORTFOLIO_GQL,
            art.UpdateArtifactPortfolio,
            {"input": {"artifactPortfolioID": portfolio, "description": "champions"}},
        ),
        (
            art.UPDATE_ARTIFACT_SEQUENCE_TYPE_GQL,
            art.UpdateArtifactSequenceType,
            {"input": {"artifactSequenceID": sequence, "destinationArtifactTypeName": "checkpoint"}},
        ),
    ]
    for query, model, variables in cases:
        model.model_validate(answer(fake, query, variables))
    registry = fake.registry(f"{E}/wandb-registry-datasets")
    assert registry is not None and registry.description == "datasets" and registry.types == ("dataset",)
    assert fake.registry(f"{E}/wandb-registry-data") is None
    info = fake.collection_info(f"{E}/{P}/m")
    assert (info.tags, info.description, info.type) == (("keep",), "weights", "checkpoint")
    assert fake.version(v.id).type == "checkpoint"
    assert fake.collection_info(f"{E}/wandb-registry-model/reg").description == "champions"

    # members and roles, as the registry's user and team listings show them
    registry_id = encode_id("Project", f"{E}/wandb-registry-datasets")
    members: list[tuple[str, Any, dict[str, Any]]] = [
        (
            art.CREATE_REGISTRY_MEMBERS_GQL,
            art.CreateRegistryMembers,
            {"input": {"projectId": registry_id, "userIds": [viewer], "teamIds": [encode_id("Entity", E)]}},
        ),
        (
            art.UPDATE_USER_REGISTRY_ROLE_GQL,
            art.UpdateUserRegistryRole,
            {"input": {"projectId": registry_id, "userId": viewer, "userProjectRole": "admin"}},
        ),
        (
            art.UPDATE_TEAM_REGISTRY_ROLE_GQL,
            art.UpdateTeamRegistryRole,
            {
                "input": {
                    "projectId": registry_id,
                    "teamId": encode_id("Entity", E),
                    "teamProjectRole": "viewer",
                }
            },
        ),
    ]
    for query, model, variables in members:
        model.model_validate(answer(fake, query, variables))
    where = {"entity": E, "project": "wandb-registry-datasets"}
    users = art.RegistryUserMembers.model_validate(answer(fake, art.REGISTRY_USER_MEMBERS_GQL, where))
    teams = art.RegistryTeamMembers.model_validate(answer(fake, art.REGISTRY_TEAM_MEMBERS_GQL, where))
    assert [(m.username, m.role.name) for m in users.project.members] == [("fake-user", "admin")]
    assert [(m.team.name, m.role.name) for m in teams.project.team_members] == [(E, "viewer")]

    # then removing them, untagging, and deleting the registry
    finals: list[tuple[str, Any, dict[str, Any]]] = [
        (
            art.DELETE_REGISTRY_MEMBERS_GQL,
            art.DeleteRegistryMembers,
            {"input": {"projectId": registry_id, "userIds": [viewer], "teamIds": [encode_id("Entity", E)]}},
        ),
        (art.DELETE_ARTIFACT_COLLECTION_TAGS_GQL, art.DeleteArtifactCollectionTags, {"input": tags}),
        (art.DELETE_REGISTRY_GQL, art.DeleteRegistry, {"id": registry_id}),
    ]
    for query, model, variables in finals:
        model.model_validate(answer(fake, query, variables))
    assert fake.collection_info(f"{E}/{P}/m").tags == ()
    assert fake.registry(f"{E}/wandb-registry-datasets") is None


def test_every_sdk_artifact_operation_is_answered_here() -> None:
    # The SDK's 47 operations: reads above, mutations in the two mutation tests.
    import inspect
    import re
    import sys

    source = inspect.getsource(sys.modules[__name__])
    exercised = set(re.findall(r"art\.([A-Z_]+_GQL)", source))
    shipped = {name for name in dir(art) if name.endswith("_GQL")}
    assert shipped - exercised == set()


def test_each_distinct_document_is_parsed_and_validated_once() -> None:
    # The SDK sends the same few documents over and over: the second request must reuse the first's work.
    from fakes.server import _graphql

    fake = FakeWandb()
    fake.upsert_registry(E, "wandb-registry-model")
    query = art.REGISTRY_VERSIONS_GQL + "\n# parsed-once probe\n"
    before = _graphql._prepare.cache_info()
    for _ in range(3):
        answer(fake, query, {"organization": E})
    after = _graphql._prepare.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits >= 2
