"""GraphQL resolvers: the wire face of :class:`fakes.FakeWandb`, assembled from one module per W&B area.

Every GraphQL field is resolved by a method of the same (camelCase) name on a
small *view* object, so any selection the SDK or a user's custom query makes
works. Root query and mutation resolvers follow the moto shape: read the
inputs, call one backend method, wrap the domain object in a view. Views hold
no state of their own; they read :class:`FakeWandb` when a field is asked for.

The areas, each holding its views and its root fields:

- :mod:`._handlers_projects`: viewer, entities, projects, server info;
- :mod:`._handlers_runs`: runs (``wandb.init``'s upsert, run files);
- :mod:`._handlers_artifacts`: versions, collections, aliases, artifact types;
- :mod:`._handlers_artifacts_write`: artifacts logged through the SDK (create, manifest, commit, use);
- :mod:`._handlers_registries`: organizations, registry portfolios, links;
- :mod:`._handlers_storage`: stored files, manifests, upload slots;
- :mod:`._handlers_common`: the request context, ids, times, paging, filters.

Domain errors (``artifact_guard._errors``) propagate out of resolvers and
become GraphQL errors in :mod:`fakes.server._graphql`, shaped like W&B's.
"""

from __future__ import annotations

from ._handlers_artifacts import (
    AliasView,
    ArtifactMutations,
    ArtifactQueries,
    ArtifactTypeView,
    ArtifactView,
    CollectionView,
    MembershipView,
)
from ._handlers_artifacts_write import ArtifactWriteMutations, ArtifactWriteQueries
from ._handlers_common import Context, PageRequest, Pagination, decode_id, encode_id, paginate
from ._handlers_projects import EntityView, ProjectQueries, ProjectView, UserView
from ._handlers_registries import OrganizationView, RegistryMutations, RegistryQueries
from ._handlers_runs import RunMutations, RunQueries, RunView
from ._handlers_storage import StorageMutations, manifest_json

__all__ = [
    "AliasView",
    "ArtifactTypeView",
    "ArtifactView",
    "CollectionView",
    "Context",
    "EntityView",
    "MembershipView",
    "MutationRoot",
    "OrganizationView",
    "PageRequest",
    "Pagination",
    "ProjectView",
    "QueryRoot",
    "RunView",
    "UserView",
    "decode_id",
    "encode_id",
    "manifest_json",
    "paginate",
]


class QueryRoot(ProjectQueries, RunQueries, ArtifactQueries, ArtifactWriteQueries, RegistryQueries):
    """Root query fields: each area's, in one object."""


class MutationRoot(
    ArtifactMutations, ArtifactWriteMutations, StorageMutations, RegistryMutations, RunMutations
):
    """Root mutation fields: each reads its input, calls one backend method, serialises."""
