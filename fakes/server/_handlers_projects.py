"""Viewer, entities and projects: who is asking, and the projects their artifacts live in."""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from typing import Any

from artifact_guard._errors import NotFoundError
from artifact_guard._model import Run, Scope

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

    @property
    def xxhashDigestsEnabled(self) -> bool:
        # The fake negotiates MD5 digests: the SDK then keys manifests and dedupe by MD5.
        return False

    def organization(self) -> _registries.OrganizationView | None:
        return _registries.OrganizationView(self.ctx, self.name) if self.isTeam else None

    def user(self) -> UserView | None:
        return None if self.isTeam else UserView(self.ctx)

    def projects(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        return _projects_connection(self.ctx, self.name, after, first)


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

    def artifactTypes(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        names: list[str] = []
        for c in sorted(self._collections(), key=lambda c: counter(c.id)):
            if c.type not in names:
                names.append(c.type)
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
        if not parse_filters(filters):
            indexed = _artifacts.indexed_collections(self.ctx, self.scope, None, after, first, order)
            if indexed is not None:
                return indexed
        infos = _artifacts.filter_collections(self._collections(), filters)
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
            "features": [{"name": name, "isEnabled": True} for name in _FEATURES],
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
