"""Viewer, entities and projects: who is asking, and the projects their artifacts live in."""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from typing import Any

from artifact_guard._errors import NotFoundError
from artifact_guard._model import CollectionKind, Run, Scope

from .._backend import CollectionInfo
from . import _handlers_artifacts as _artifacts
from . import _handlers_registries as _registries
from . import _handlers_runs as _runs
from ._handlers_common import (
    FIXED_TIME,
    Context,
    Root,
    connection,
    counter,
    encode_id,
    iso,
    newest_first,
    page_info,
    parse_filters,
    project_number,
)

__all__ = ["EntityView", "ProjectQueries", "ProjectView", "UserView"]

# Features the fake reports as enabled; the SDK adapts its documents to them.
_FEATURES = (
    "ARTIFACT_TAGS",
    "ARTIFACT_MEMBERSHIP_IN_LINK_ARTIFACT_RESPONSE",
    "ARTIFACT_COLLECTIONS_FILTERING_SORTING",
    "ARTIFACT_DIGEST_ALGORITHM",
    "ARTIFACT_REGISTRY_SEARCH",
    "TOTAL_COUNT_IN_FILE_CONNECTION",
)


class UserView:
    """The viewer: the fake's single user."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.typename = "User"
        self.id = encode_id("User", 1)
        self.name = ctx.viewer
        self.username = ctx.viewer
        self.email = f"{ctx.viewer}@example.invalid"
        self.admin = False
        self.flags = "{}"
        self.entity = ctx.default_entity
        self.deletedAt = None
        self.photoUrl = None
        self.apiKeys = {"edges": [], "pageInfo": page_info(None, False)}

    def organizations(self) -> list[_registries.OrganizationView]:
        return [_registries.OrganizationView(self.ctx, name) for name in _registries.org_entities(self.ctx)]

    def teams(self, first: int | None = None) -> dict[str, Any]:
        entities = sorted({r.scope.entity for r in self.ctx.fake.runs()} | {self.ctx.default_entity})
        return {
            "edges": [{"node": EntityView(self.ctx, e), "cursor": e} for e in entities],
            "pageInfo": page_info(None, False),
        }


class EntityView:
    """An entity: the viewer's own (personal), or a team that is its own organization."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.id = encode_id("Entity", name)
        self.name = name
        self.isTeam = name != ctx.default_entity
        self.entityType = "team" if self.isTeam else "user"
        self.registries_only = False
        # Team fields the SDK's registry member listings select; the fake models none of them.
        self.available = True
        self.photoUrl = None
        self.readOnly = False
        self.readOnlyAdmin = False
        self.privateOnly = False
        self.storageBytes = 0
        self.codeSavingEnabled = False
        self.defaultAccess = "PRIVATE"
        self.isPaid = False

    @property
    def xxhashDigestsEnabled(self) -> bool:
        # What the SDK negotiates: MD5 by default; XXH128 manifests when the server enables them.
        return self.ctx.xxhash_digests

    def organization(self) -> _registries.OrganizationView | None:
        return _registries.OrganizationView(self.ctx, self.name) if self.isTeam else None

    def user(self) -> UserView | None:
        return None if self.isTeam else UserView(self.ctx)

    def projects(
        self,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        if filters or order or self.registries_only:
            return _registries.entity_projects(
                self.ctx, self.name, after, first, filters, order, registries_only=self.registries_only
            )
        return _projects_connection(self.ctx, self.name, after, first)

    def members(self) -> list[dict[str, Any]]:
        viewer = self.ctx.viewer
        return [
            {
                "id": encode_id("User", 1),
                "name": viewer,
                "username": viewer,
                "email": f"{viewer}@example.invalid",
                "role": "admin" if self.ctx.fake.is_admin(self.name) else "member",
                "pending": False,
                "photoUrl": None,
                "accountType": "USER",
                "apiKey": None,
            }
        ]

    def project(self, name: str | None = None) -> ProjectView | None:
        return ProjectQueries(self.ctx).project(name, self.name)

    def protectedAliases(self, adminType: str) -> list[str]:
        return sorted(self.ctx.fake.protected_aliases(self.name, admin_type=adminType))

    def artifactCollections(self, **args: Any) -> Any:
        keys = ("projectFilters", "filters", "collectionTypes", "after", "first", "order")
        return _registries.entity_collections(self.ctx, self.name, **{k: args.get(k) for k in keys})

    def artifactMemberships(self, **args: Any) -> Any:
        keys = ("projectFilters", "collectionFilters", "filters", "after", "first", "order")
        return _registries.entity_memberships(self.ctx, self.name, **{k: args.get(k) for k in keys})


def _projects_connection(
    ctx: Context, entity: str | None, after: str | None, first: int | None
) -> dict[str, Any]:
    chosen = [s for s in ctx.fake.scopes() if entity is None or s.entity == entity]
    return connection(ctx, chosen, None, after, first, lambda s: ProjectView(ctx, s))


class ProjectView:
    """A project: ``entity/project``."""

    def __init__(self, ctx: Context, scope: Scope) -> None:
        self.ctx = ctx
        self.scope = scope
        self.id = encode_id("Project", str(scope))
        self.internalId = encode_id("ProjectInternalId", project_number(scope))
        self.name = scope.project
        self.entityName = scope.entity
        self.entity = EntityView(ctx, scope.entity)
        self.createdAt = FIXED_TIME
        self.readOnly = False
        self.isBenchmark = False
        self.user = None

    def _registry(self) -> Any:
        return _registries.registry_project(self.ctx, self.scope)

    def description(self) -> str | None:
        info = self._registry()
        return info.description if info is not None else None

    def updatedAt(self) -> str:
        info = self._registry()
        when = info.updated_at or info.created_at if info is not None else None
        return iso(when) if when is not None else FIXED_TIME

    def access(self) -> str:
        info = self._registry()
        return str(info.access) if info is not None else "PRIVATE"

    def allowAllArtifactTypesInRegistry(self) -> bool:
        info = self._registry()
        return bool(info.allow_all_types) if info is not None else True

    def members(self) -> list[dict[str, Any]]:
        return _registries.project_members(self.ctx, self.scope)

    def teamMembers(self) -> list[dict[str, Any]]:
        return _registries.project_team_members(self.ctx, self.scope)

    def _project_runs(self) -> list[Run]:
        return [r for r in self.ctx.fake.runs() if r.scope == self.scope]

    def bucket(self, name: str, missingOk: bool | None = None) -> _runs.RunView | None:
        return self.run(name)

    def runCount(self, filters: str | None = None) -> int:
        parsed = parse_filters(filters)
        return sum(1 for r in self._project_runs() if _runs.run_matches(r, parsed))

    def run(self, name: str) -> _runs.RunView | None:
        try:
            return _runs.RunView(self.ctx, self.ctx.fake.run(f"{self.scope}/{name}"))
        except NotFoundError:
            return None

    def runs(
        self,
        filters: str | None = None,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        parsed = parse_filters(filters)
        runs = [r for r in self._project_runs() if _runs.run_matches(r, parsed)]
        if newest_first(order, default=False, what="runs"):
            runs.reverse()
        return connection(self.ctx, runs, None, after, first, lambda r: _runs.RunView(self.ctx, r))

    def _collections(self) -> list[CollectionInfo]:
        infos = self.ctx.fake.collection_infos(self.scope)
        # Newest first, as W&B lists them.
        return sorted(infos, key=lambda c: -counter(c.id))

    def artifactType(self, name: str) -> _artifacts.ArtifactTypeView | None:
        if not self.ctx.fake.collections(self.scope, type=name):
            return None
        return _artifacts.ArtifactTypeView(self.ctx, self.scope, name)

    def artifactTypes(
        self, after: str | None = None, first: int | None = None, includeAll: bool | None = None
    ) -> dict[str, Any]:
        names: list[str] = []
        for c in sorted(self._collections(), key=lambda c: counter(c.id)):
            if c.type not in names:
                names.append(c.type)
        registry = self._registry()
        if includeAll and registry is not None:
            names.extend(t for t in registry.types if t not in names)
        return connection(
            self.ctx,
            names,
            None,
            after,
            first,
            lambda n: _artifacts.ArtifactTypeView(self.ctx, self.scope, n),
        )

    def artifactCollections(
        self,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
        collectionTypes: list[str] | None = None,
    ) -> dict[str, Any]:
        features = self.ctx.features
        if features is not None and "ARTIFACT_COLLECTIONS_FILTERING_SORTING" not in features:
            for name, value in (("filters", filters), ("order", order)):
                if value is not None:
                    raise ValueError(f"Unknown argument {name!r} on field 'Project.artifactCollections'")
        kinds = {CollectionKind(t.lower()) for t in collectionTypes} if collectionTypes else None
        parsed = parse_filters(filters)
        if list(parsed) == ["name"] and isinstance(parsed["name"], str):
            # One collection by its exact name (how clients look one up to delete it): no listing.
            info = self.ctx.fake.find_collection(self.scope, parsed["name"])
            found = [info] if info is not None and (kinds is None or info.ref.kind in kinds) else []
            return _artifacts.collections_connection(self.ctx, found, after, first, order)
        if not parsed and (kinds is None or len(kinds) == 2):
            indexed = _artifacts.indexed_collections(self.ctx, self.scope, None, after, first, order)
            if indexed is not None:
                return indexed
        infos = _artifacts.filter_collections(self._collections(), filters)
        if kinds is not None:
            infos = [c for c in infos if c.ref.kind in kinds]
        return _artifacts.collections_connection(self.ctx, infos, after, first, order)

    def artifactCollection(self, name: str) -> _artifacts.CollectionView | None:
        info = self.ctx.fake.find_collection(self.scope, name)
        return _artifacts.CollectionView(self.ctx, info) if info is not None else None

    def artifactCollectionMembership(self, name: str) -> _artifacts.MembershipView | None:
        return _artifacts.membership_by_name(self.ctx, self.scope, name)

    def artifact(self, name: str) -> _artifacts.ArtifactView | None:
        membership = _artifacts.membership_by_name(self.ctx, self.scope, name)
        return membership.artifact() if membership is not None else None


# ---------------------------------------------------------------------- root fields


class ProjectQueries(Root):
    """Root query fields about the viewer, entities and projects."""

    def viewer(self) -> UserView:
        return UserView(self.ctx)

    def serverInfo(self) -> dict[str, Any]:
        return {
            "features": [
                {"name": name, "isEnabled": self.ctx.features is None or name in self.ctx.features}
                for name in _FEATURES
            ],
            "cliVersionInfo": {"max_cli_version": "99.0.0"},
            "latestLocalVersionInfo": None,
            "frontendHost": self.ctx.base_url,
        }

    def entity(self, name: str | None = None) -> EntityView | None:
        return EntityView(self.ctx, name or self.ctx.default_entity)

    def project(self, name: str | None = None, entityName: str | None = None) -> ProjectView | None:
        if not name:
            return None
        scope = Scope(entityName or self.ctx.default_entity, name)
        if not self.ctx.fake.has_project(scope):
            return None
        return ProjectView(self.ctx, scope)

    def models(
        self, entityName: str | None = None, after: str | None = None, first: int | None = None
    ) -> dict[str, Any]:
        return _projects_connection(self.ctx, entityName, after, first)
