"""The fake's GraphQL schema against the best public evidence of W&B's own.

Two sources, neither copied into the project:

- the installed SDK's generated artifact operations
  (``wandb/sdk/artifacts/_generated/operations.py``): every one must validate
  against the fake's schema, or the SDK's call fails on the fake where it works
  on W&B;
- W&B's published GraphQL types (``wandb-schema-weave.graphql``, read from
  ``../shared/reference/`` next to the clone, skipped where absent): every type
  and field the fake shares with it must have the same type, nullability
  included, and the same argument types. A field the reference lacks is newer
  than it (the SDK selects it) and is not compared.

Deliberate differences are listed below with the SDK evidence for each; any
other difference fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import wandb.sdk.artifacts._generated.operations as sdk_operations
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    parse,
    validate,
)

from fakes.server._schema import schema

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "wandb-schema-weave.graphql"

SDK_OPERATIONS = sorted(name for name in dir(sdk_operations) if name.endswith("_GQL"))

DELIBERATE: dict[str, str] = {
    # key: "Type.field", "Type.field(arg)" or "Enum" -> why the fake differs from the reference
    "ArtifactDigestAlgorithm": (
        "newer than the reference: wandb/sdk/artifacts/_generated/enums.py lists MANIFEST_XXH128"
    ),
    "Entity.projects(filters)": "newer: the SDK's FetchRegistries sends it (operations.py)",
    "Entity.artifactCollections(projectFilters)": "newer: the SDK's RegistryCollections sends it",
    "Project.artifactTypes(includeAll)": "newer: the SDK's RegistryFragment selects it (includeAll: true)",
    "Project.bucket(name)": (
        "newer: wandb-core's RunResumeStatus sends bucket(name:, missingOk:) "
        "(reference/wandb-core-graphql/query_run_resume_status.graphql)"
    ),
    "Project.bucket(missingOk)": "newer: wandb-core's RunResumeStatus sends it (as above)",
    "Run.wandbConfig(keys)": 'newer: wandb-core\'s RunResumeStatus selects wandbConfig(keys: ["t"])',
    "Project.artifactCollections(filters)": (
        "newer: the SDK's ProjectArtifactCollections sends it where the server reports "
        "ARTIFACT_COLLECTIONS_FILTERING_SORTING (wandb/apis/public/artifacts.py); the fake refuses it "
        "when that feature is switched off"
    ),
}


def _reference() -> GraphQLSchema:
    if not REFERENCE.is_file():
        pytest.skip(f"W&B's reference schema is not at {REFERENCE} (CI keeps shared/ next to the clone)")
    return build_schema(REFERENCE.read_text(encoding="utf-8"))


def _differences(fake: GraphQLSchema, ref: GraphQLSchema) -> dict[str, str]:
    """Every shared type, field or argument typed differently, as key -> description."""
    found: dict[str, str] = {}
    for name, fake_type in fake.type_map.items():
        ref_type: GraphQLNamedType | None = ref.type_map.get(name)
        if name.startswith("__") or ref_type is None:
            continue
        if type(fake_type) is not type(ref_type):
            found[name] = f"{type(fake_type).__name__} here, {type(ref_type).__name__} in W&B's"
            continue
        if isinstance(fake_type, GraphQLEnumType) and isinstance(ref_type, GraphQLEnumType):
            if set(fake_type.values) != set(ref_type.values):
                found[name] = f"values {sorted(fake_type.values)} here, {sorted(ref_type.values)} in W&B's"
        elif isinstance(fake_type, GraphQLUnionType) and isinstance(ref_type, GraphQLUnionType):
            mine, theirs = sorted(t.name for t in fake_type.types), sorted(t.name for t in ref_type.types)
            if mine != theirs:
                found[name] = f"members {mine} here, {theirs} in W&B's"
        elif isinstance(fake_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            assert isinstance(ref_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType)
            for field_name, field in fake_type.fields.items():
                ref_field = ref_type.fields.get(field_name)
                if ref_field is None:
                    continue
                key = f"{name}.{field_name}"
                if str(field.type) != str(ref_field.type):
                    found[key] = f"{field.type} here, {ref_field.type} in W&B's"
                for arg_name, arg in getattr(field, "args", {}).items():
                    ref_arg = getattr(ref_field, "args", {}).get(arg_name)
                    if ref_arg is None:
                        # A client relying on it (the adapter, a script) would fail on W&B.
                        found[f"{key}({arg_name})"] = "accepted here, absent from W&B's"
                    elif str(arg.type) != str(ref_arg.type):
                        found[f"{key}({arg_name})"] = f"{arg.type} here, {ref_arg.type} in W&B's"
    return found


def test_the_sdk_ships_the_operations_this_test_counts() -> None:
    # A new SDK that drops its generated operations would make the next test pass vacuously.
    assert len(SDK_OPERATIONS) >= 47


@pytest.mark.parametrize("name", SDK_OPERATIONS)
def test_every_sdk_artifact_operation_validates_against_the_fakes_schema(name: str) -> None:
    errors = validate(schema(), parse(getattr(sdk_operations, name)))
    assert [e.message for e in errors] == []


def test_shared_types_fields_and_arguments_are_typed_as_in_w_and_bs_schema() -> None:
    found = _differences(schema(), _reference())
    unexplained = {k: v for k, v in found.items() if k not in DELIBERATE}
    assert unexplained == {}, "fake schema differs from W&B's:\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(unexplained.items())
    )


def test_every_listed_deliberate_difference_still_exists() -> None:
    # A stale exception hides nothing today but would hide a regression tomorrow.
    found = _differences(schema(), _reference())
    assert sorted(k for k in DELIBERATE if k not in found) == []


def test_protected_aliases_are_readable_and_writable_as_in_w_and_bs_schema() -> None:
    # The adapter reads Entity.protectedAliases; it must exist in both schemas with the same shape.
    ref, fake = _reference(), schema()
    for s in (ref, fake):
        entity = s.type_map["Entity"]
        assert isinstance(entity, GraphQLObjectType)
        field = entity.fields["protectedAliases"]
        assert (str(field.type), str(field.args["adminType"].type)) == ("[String!]!", "WorkflowsAdminType!")
        mutation = s.mutation_type
        assert mutation is not None
        assert {"addProtectedAliases", "removeProtectedAliases"} <= set(mutation.fields)


CORE_DOCUMENTS = REFERENCE.parent / "wandb-core-graphql"

NOT_MODELLED_CORE_DOCUMENTS = {
    # wandb-core documents outside what the fake models (runs' alerts, charts, queues, history, logs):
    # an SDK call sending one gets a GraphQL error naming the field, never a wrong answer.
    "mutation_alert.graphql": "run alerts",
    "mutation_create_custom_chart.graphql": "custom charts",
    "mutation_rewind_run.graphql": "run rewind",
    "mutation_run_queue.graphql": "launch run queues",
    "query_artifact_files_by_manifest_entries.graphql": "file lookup by manifest entries",
    "query_org_feature_flags.graphql": "organization feature flags",
    "query_parquethistory.graphql": "run history export",
    "query_run_console_logs.graphql": "run console logs",
    "query_runhistory_backend.graphql": "run history",
    "query_runhistory_backend_keys.graphql": "run history keys",
}


def test_every_wandb_core_document_validates_or_is_listed_as_not_modelled() -> None:
    if not CORE_DOCUMENTS.is_dir():
        pytest.skip(f"wandb-core's documents are not at {CORE_DOCUMENTS}")
    failing = {
        path.name
        for path in sorted(CORE_DOCUMENTS.glob("*.graphql"))
        if validate(schema(), parse(path.read_text(encoding="utf-8")))
    }
    # Both ways: a listed document that now validates must leave the list.
    assert failing == set(NOT_MODELLED_CORE_DOCUMENTS)


def test_a_difference_is_caught() -> None:
    # given a fake schema with one field retyped, then the comparison names it
    altered = build_schema("type Query { a: Int }\ntype Run { projectId: Int! }")
    reference = build_schema("type Query { a: Int }\ntype Run { projectId: ID! }")
    assert _differences(altered, reference) == {"Run.projectId": "Int! here, ID! in W&B's"}
