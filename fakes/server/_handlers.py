"""GraphQL resolvers: the wire face of :class:`fakes.FakeWandb`.

Every GraphQL field is resolved by a method of the same (camelCase) name on a
small *view* object, so any selection the SDK or a user's custom query makes
works. Root query and mutation resolvers follow the moto shape: read the
inputs, call one backend method, wrap the domain object in a view. Views hold
no state of their own; they read :class:`FakeWandb` when a field is asked for.

Domain errors (``artifact_guard._errors``) propagate out of resolvers and
become GraphQL errors in :mod:`fakes.server._graphql`, shaped like W&B's.
"""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

import base64
import binascii
import functools
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from artifact_guard._errors import ConflictError, NotFoundError
from artifact_guard._model import (
    CollectionKind,
    CollectionRef,
    Link,
    ManifestEntry,
    Run,
    Scope,
    Version,
    VersionState,
)

from .._backend import CollectionInfo, FakeWandb

__all__ = ["Context", "MutationRoot", "Pagination", "QueryRoot", "manifest_json"]

Pagination = Literal["stable", "offset"]

# Features the fake reports as enabled; the SDK adapts its documents to them.
_FEATURES = (
    "ARTIFACT_TAGS",
    "ARTIFACT_MEMBERSHIP_IN_LINK_ARTIFACT_RESPONSE",
    "ARTIFACT_COLLECTIONS_FILTERING_SORTING",
    "ARTIFACT_DIGEST_ALGORITHM",
    "ARTIFACT_REGISTRY_SEARCH",
    "TOTAL_COUNT_IN_FILE_CONNECTION",
)
_DEFAULT_PAGE = 50
_MAX_PAGE = 10_000


@dataclass
class Context:
    """What every resolver may read: the backend, and how this server pages and names things."""

    fake: FakeWandb
    base_url: str
    pagination: Pagination = "stable"
    viewer: str = "fake-user"
    default_entity: str = "fake-user"
    fast: bool = True
    """Answer queries with the lean executor (:mod:`fakes.server._fast`), else graphql-core only."""
    features: frozenset[str] = frozenset(_FEATURES)
    """Server features reported as enabled. Without ``ARTIFACT_COLLECTIONS_FILTERING_SORTING`` the
    server behaves as an older W&B Server: ``filters``/``order`` on ``Project.artifactCollections``
    are refused as unknown arguments, as such a server's schema refuses them."""


# ---------------------------------------------------------------------- ids


def encode_id(kind: str, value: str | int) -> str:
    """W&B's global id form: base64 of ``Kind:value``."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_id(gid: str) -> tuple[str, str] | None:
    """``(kind, value)`` of a global id, or None if it is not one."""
    try:
        raw = base64.b64decode(gid.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, sep, value = raw.partition(":")
    return (kind, value) if sep else None


def _counter(gid: str) -> int:
    decoded = decode_id(gid)
    if decoded is None or not decoded[1].isdigit():
        return 0
    return int(decoded[1])


@functools.lru_cache(maxsize=4096)
def _iso(when: datetime) -> str:
    # W&B answers naive UTC timestamps without offset, e.g. 2024-01-02T03:04:05.
    # Cached: a listing page formats each version's time twice and the fixed times below ~10 times.
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


_FIXED_TIME = _iso(datetime(2020, 1, 1, tzinfo=UTC))
"""Creation time shown for projects, types and runs (the fake does not model theirs)."""


@functools.lru_cache(maxsize=4096)
def _project_number(scope: Scope) -> int:
    return zlib.crc32(str(scope).encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------- pagination


def _page_info(end: str | None, has_next: bool) -> dict[str, Any]:
    return {"startCursor": None, "endCursor": end, "hasNextPage": has_next, "hasPreviousPage": False}


def _page_size(first: int | None) -> int:
    return _DEFAULT_PAGE if first is None else max(0, min(int(first), _MAX_PAGE))


def _cursor_mark(ctx: Context, after: str | None) -> int | None:
    """The number an ``after`` cursor carries (an offset, or a stable sort key), None for no cursor."""
    if not after:
        return None
    decoded = decode_id(after)
    if ctx.pagination == "offset":
        if decoded is None or decoded[0] != "offset" or not decoded[1].isdigit():
            raise ValueError(f"invalid cursor {after!r}")
    elif decoded is None or decoded[0] != "after" or not decoded[1].lstrip("-").isdigit():
        raise ValueError(f"invalid cursor {after!r}")
    return int(decoded[1])


def paginate(
    ctx: Context,
    items: Sequence[Any],
    key: Callable[[Any], int] | None,
    after: str | None,
    first: int | None,
) -> tuple[list[tuple[Any, str]], dict[str, Any]]:
    """One page of ``items`` (already in listing order) as ``[(item, cursor)]`` and its pageInfo.

    ``stable`` cursors name the last item seen by its sort ``key`` (ascending
    along the listing; None means the position), so deleting earlier items does
    not shift the next page. ``offset`` cursors are numeric offsets into the
    current listing: deleting while paginating skips items, the hazard real
    cleanup scripts hit.
    """
    size = _page_size(first)
    mark = _cursor_mark(ctx, after)
    if ctx.pagination == "offset":
        start = mark or 0
        chunk = list(items[start : start + size])
        cursors = [encode_id("offset", start + i + 1) for i in range(len(chunk))]
        has_next = start + len(chunk) < len(items)
    else:
        keyed = [(key(item) if key is not None else i, item) for i, item in enumerate(items)]
        if mark is not None:
            keyed = [(k, item) for k, item in keyed if k > mark]
        chunk = [item for _, item in keyed[:size]]
        cursors = [encode_id("after", k) for k, _ in keyed[:size]]
        has_next = len(keyed) > len(chunk)
    end = cursors[-1] if cursors else after
    return list(zip(chunk, cursors, strict=True)), _page_info(end, has_next)


def _connection(
    ctx: Context,
    items: Sequence[Any],
    key: Callable[[Any], int] | None,
    after: str | None,
    first: int | None,
    wrap: Callable[[Any], Any],
    **extra: Callable[[Any], Any],
) -> dict[str, Any]:
    page, info = paginate(ctx, items, key, after, first)
    edges = []
    for item, cursor in page:
        edge = {"node": wrap(item), "cursor": cursor}
        for name, fn in extra.items():
            edge[name] = fn(item)
        edges.append(edge)
    return {"totalCount": len(items), "edges": edges, "pageInfo": info}


def _sequence_connection(
    ctx: Context,
    ref: CollectionRef,
    states: frozenset[VersionState] | None,
    newest: bool,
    after: str | None,
    first: int | None,
    wrap: Callable[[Version], Any],
    **extra: Callable[[Version], Any],
) -> dict[str, Any] | None:
    """A sequence's versions as a connection, from the backend's listing index.

    Exactly what :func:`_connection` answers over the whole filtered listing
    (same cursors, ``hasNextPage``, ``totalCount``, and the same hazard for
    offset cursors), but each page costs O(log n + page) instead of
    O(collection): paging through 1M versions stays linear. None when the
    backend cannot index this collection; the caller then lists it whole.
    """
    size = _page_size(first)
    mark = _cursor_mark(ctx, after)
    offset = ctx.pagination == "offset"
    if offset:
        found = ctx.fake.collection_page(
            ref, limit=size, states=states, newest_first=newest, offset=mark or 0
        )
    else:
        # Stable cursors carry the sort key: -index newest first, index oldest first.
        after_index = None if mark is None else (-mark if newest else mark)
        found = ctx.fake.collection_page(
            ref, limit=size, states=states, newest_first=newest, after_index=after_index
        )
    if found is None:
        return None
    page, total, remaining = found
    start = mark or 0
    edges = []
    for i, v in enumerate(page):
        cursor = (
            encode_id("offset", start + i + 1)
            if offset
            else encode_id("after", -v.index if newest else v.index)
        )
        edge = {"node": wrap(v), "cursor": cursor}
        for name, fn in extra.items():
            edge[name] = fn(v)
        edges.append(edge)
    end = edges[-1]["cursor"] if edges else after
    return {"totalCount": total, "edges": edges, "pageInfo": _page_info(end, remaining > len(page))}


def _newest_first(order: str | None, *, default: bool, what: str) -> bool:
    """Whether a listing runs newest first, from an ``order`` argument (``+createdAt``, ``-created_at``, ...).

    Only creation-time orders are modelled; any other is refused by name rather
    than silently ignored.
    """
    if order is None or order == "":
        return default
    field = order.lstrip("+-")
    # A sequence's versions are numbered in creation order, so the index orders them the same way.
    by_index = what == "artifacts" and field in ("versionIndex", "version_index")
    if field not in ("createdAt", "created_at") and not by_index:
        raise ValueError(f"the fake server does not support ordering {what} by {field!r}")
    return order.startswith("-")


def _parse_filters(filters: str | None) -> dict[str, Any]:
    if not filters:
        return {}
    try:
        parsed = json.loads(filters)
    except json.JSONDecodeError as e:
        raise ValueError(f"filters is not valid JSON: {e.msg}") from None
    if not isinstance(parsed, dict):
        raise ValueError("filters must be a JSON object")
    return parsed


def _version_matches(v: Version, filters: dict[str, Any]) -> bool:
    return _state_matches(v.state.value, filters)


def _filtered_states(filters: dict[str, Any]) -> frozenset[VersionState]:
    """The live states an artifact filter admits (filters test nothing but the state)."""
    return frozenset(
        s for s in (VersionState.PENDING, VersionState.COMMITTED) if _state_matches(s.value, filters)
    )


def _state_matches(state: str, filters: dict[str, Any]) -> bool:
    for name, wanted in filters.items():
        if name == "state":
            if state != wanted:
                return False
        elif name == "$and" and isinstance(wanted, list):
            if not all(_state_matches(state, sub) for sub in wanted if isinstance(sub, dict)):
                return False
        else:
            raise ValueError(f"the fake server does not support the artifact filter {name!r}")
    return True


def _run_matches(run: Run, filters: dict[str, Any]) -> bool:
    for name, wanted in filters.items():
        if name == "state":
            if run.state != wanted:
                return False
        elif name == "name":
            if run.path.rsplit("/", 1)[1] != wanted:
                return False
        elif name == "$and" and isinstance(wanted, list):
            if not all(_run_matches(run, sub) for sub in wanted if isinstance(sub, dict)):
                return False
        else:
            raise ValueError(f"the fake server does not support the run filter {name!r}")
    return True


# ---------------------------------------------------------------------- views


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
        self.apiKeys = {"edges": [], "pageInfo": _page_info(None, False)}

    def organizations(self) -> list[OrganizationView]:
        return [OrganizationView(self.ctx, name) for name in _org_entities(self.ctx)]

    def teams(self, first: int | None = None) -> dict[str, Any]:
        entities = sorted({r.scope.entity for r in self.ctx.fake.runs()} | {self.ctx.default_entity})
        return {
            "edges": [{"node": EntityView(self.ctx, e), "cursor": e} for e in entities],
            "pageInfo": _page_info(None, False),
        }


def _org_entities(ctx: Context) -> list[str]:
    """Entities that hold registry projects: each stands for its own organization."""
    return sorted({s.entity for s in ctx.fake.scopes() if s.project.startswith("wandb-registry-")})


class OrganizationView:
    """An organization. The fake models each team entity as its own organization (same name)."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.id = encode_id("Organization", name)
        self.name = name

    def orgEntity(self) -> EntityView:
        entity = EntityView(self.ctx, self.name)
        # The organization's entity holds the registries: its project listing shows those only.
        entity.registries_only = True
        entity.entityType = "organization"
        return entity

    def advancedRegistryFeatures(self) -> dict[str, Any]:
        # The fake filters and pages registry listings itself: no advanced (ClickHouse) search.
        return {"advancedSearch": False}


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

    def organization(self) -> OrganizationView | None:
        return OrganizationView(self.ctx, self.name) if self.isTeam else None

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
            from ._registries import entity_projects

            return entity_projects(
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
        return QueryRoot(self.ctx).project(name, self.name)

    def protectedAliases(self, adminType: str) -> list[str]:
        return sorted(self.ctx.fake.protected_aliases(self.name, admin_type=adminType))

    def artifactCollections(self, **args: Any) -> dict[str, Any]:
        from ._registries import entity_collections

        return entity_collections(
            self.ctx,
            self.name,
            **{
                k: args.get(k)
                for k in ("projectFilters", "filters", "collectionTypes", "after", "first", "order")
            },
        )

    def artifactMemberships(self, **args: Any) -> Any:
        from ._registries import entity_memberships

        keys = ("projectFilters", "collectionFilters", "filters", "after", "first", "order")
        return entity_memberships(self.ctx, self.name, **{k: args.get(k) for k in keys})


def _projects_connection(
    ctx: Context, entity: str | None, after: str | None, first: int | None
) -> dict[str, Any]:
    chosen = [s for s in ctx.fake.scopes() if entity is None or s.entity == entity]
    return _connection(ctx, chosen, None, after, first, lambda s: ProjectView(ctx, s))


class ProjectView:
    """A project: ``entity/project``."""

    def __init__(self, ctx: Context, scope: Scope) -> None:
        self.ctx = ctx
        self.scope = scope
        self.id = encode_id("Project", str(scope))
        self.internalId = encode_id("ProjectInternalId", _project_number(scope))
        self.name = scope.project
        self.entityName = scope.entity
        self.entity = EntityView(ctx, scope.entity)
        self.createdAt = _FIXED_TIME
        self.readOnly = False
        self.isBenchmark = False
        self.user = None

    def _registry(self) -> Any:
        from ._registries import registry_project

        return registry_project(self.ctx, self.scope)

    def description(self) -> str | None:
        info = self._registry()
        return info.description if info is not None else None

    def updatedAt(self) -> str:
        info = self._registry()
        when = info.updated_at or info.created_at if info is not None else None
        return _iso(when) if when is not None else _FIXED_TIME

    def access(self) -> str:
        info = self._registry()
        return str(info.access) if info is not None else "PRIVATE"

    def allowAllArtifactTypesInRegistry(self) -> bool:
        info = self._registry()
        return bool(info.allow_all_types) if info is not None else True

    def members(self) -> list[dict[str, Any]]:
        from ._registries import project_members

        return project_members(self.ctx, self.scope)

    def teamMembers(self) -> list[dict[str, Any]]:
        from ._registries import project_team_members

        return project_team_members(self.ctx, self.scope)

    def _runs(self) -> list[Run]:
        return [r for r in self.ctx.fake.runs() if r.scope == self.scope]

    def runCount(self, filters: str | None = None) -> int:
        parsed = _parse_filters(filters)
        return sum(1 for r in self._runs() if _run_matches(r, parsed))

    def run(self, name: str) -> RunView | None:
        try:
            return RunView(self.ctx, self.ctx.fake.run(f"{self.scope}/{name}"))
        except NotFoundError:
            return None

    def runs(
        self,
        filters: str | None = None,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        parsed = _parse_filters(filters)
        runs = [r for r in self._runs() if _run_matches(r, parsed)]
        if _newest_first(order, default=False, what="runs"):
            runs.reverse()
        return _connection(self.ctx, runs, None, after, first, lambda r: RunView(self.ctx, r))

    def _collections(self) -> list[CollectionInfo]:
        infos = self.ctx.fake.collection_infos(self.scope)
        # Newest first, as W&B lists them.
        return sorted(infos, key=lambda c: -_counter(c.id))

    def artifactType(self, name: str) -> ArtifactTypeView | None:
        if not self.ctx.fake.collections(self.scope, type=name):
            return None
        return ArtifactTypeView(self.ctx, self.scope, name)

    def artifactTypes(
        self, after: str | None = None, first: int | None = None, includeAll: bool | None = None
    ) -> dict[str, Any]:
        names: list[str] = []
        for c in sorted(self._collections(), key=lambda c: _counter(c.id)):
            if c.type not in names:
                names.append(c.type)
        registry = self._registry()
        if includeAll and registry is not None:
            names.extend(t for t in registry.types if t not in names)
        return _connection(
            self.ctx,
            names,
            None,
            after,
            first,
            lambda n: ArtifactTypeView(self.ctx, self.scope, n),
        )

    def artifactCollections(
        self,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
        collectionTypes: list[str] | None = None,
    ) -> dict[str, Any]:
        if "ARTIFACT_COLLECTIONS_FILTERING_SORTING" not in self.ctx.features:
            for name, value in (("filters", filters), ("order", order)):
                if value is not None:
                    raise ValueError(f"Unknown argument {name!r} on field 'Project.artifactCollections'")
        kinds = {CollectionKind(t.lower()) for t in collectionTypes} if collectionTypes else None
        if not _parse_filters(filters) and (kinds is None or len(kinds) == 2):
            indexed = _indexed_collections(self.ctx, self.scope, None, after, first, order)
            if indexed is not None:
                return indexed
        infos = _filter_collections(self._collections(), filters)
        if kinds is not None:
            infos = [c for c in infos if c.ref.kind in kinds]
        return _collections_connection(self.ctx, infos, after, first, order)

    def artifactCollection(self, name: str) -> CollectionView | None:
        info = self.ctx.fake.find_collection(self.scope, name)
        return CollectionView(self.ctx, info) if info is not None else None

    def artifactCollectionMembership(self, name: str) -> MembershipView | None:
        return _membership_by_name(self.ctx, self.scope, name)

    def artifact(self, name: str) -> ArtifactView | None:
        membership = _membership_by_name(self.ctx, self.scope, name)
        return membership.artifact() if membership is not None else None


def _filter_collections(infos: list[CollectionInfo], filters: str | None) -> list[CollectionInfo]:
    from ._registries import collection_field, matches

    parsed = _parse_filters(filters)
    if not parsed:
        return infos
    return [c for c in infos if matches(collection_field(c), parsed, "collection")]


def _collections_connection(
    ctx: Context, infos: list[CollectionInfo], after: str | None, first: int | None, order: str | None = None
) -> dict[str, Any]:
    # ``infos`` come newest first.
    if order and order.lstrip("+-") not in ("createdAt", "created_at"):
        from ._registries import order_collections

        # Name and update-time orders: positions are the cursors (the listing is not indexed by them).
        ranked = order_collections(infos, order, default_newest=True)
        return _connection(ctx, ranked, None, after, first, lambda c: CollectionView(ctx, c))
    newest = _newest_first(order, default=True, what="collections")
    ordered = infos if newest else infos[::-1]
    sign = -1 if newest else 1
    return _connection(
        ctx, ordered, lambda c: _counter(c.id) * sign, after, first, lambda c: CollectionView(ctx, c)
    )


def _indexed_collections(
    ctx: Context,
    scope: Scope,
    type_name: str | None,
    after: str | None,
    first: int | None,
    order: str | None,
) -> dict[str, Any] | None:
    """An unfiltered collection listing from the backend's per-project index, O(log n + page) per page.

    Answers exactly what :func:`_collections_connection` answers over the
    whole listing (stable cursors carry the id number, negated newest first);
    None when the backend declines, and the caller lists everything.
    """
    if order and order.lstrip("+-") not in ("createdAt", "created_at"):
        return None  # the index runs in creation order only
    newest = _newest_first(order, default=True, what="collections")
    size = _page_size(first)
    mark = _cursor_mark(ctx, after)
    offset = ctx.pagination == "offset"
    if offset:
        found = ctx.fake.collections_page(
            scope, limit=size, type=type_name, newest_first=newest, offset=mark or 0
        )
    else:
        after_counter = None if mark is None else (-mark if newest else mark)
        found = ctx.fake.collections_page(
            scope, limit=size, type=type_name, newest_first=newest, after_counter=after_counter
        )
    if found is None:
        return None
    page, total, remaining = found
    start = mark or 0
    sign = -1 if newest else 1
    cursors = [
        encode_id("offset", start + i + 1) if offset else encode_id("after", _counter(c.id) * sign)
        for i, c in enumerate(page)
    ]
    edges = [
        {"node": CollectionView(ctx, c), "cursor": cursor} for c, cursor in zip(page, cursors, strict=True)
    ]
    end = cursors[-1] if cursors else after
    return {"totalCount": total, "edges": edges, "pageInfo": _page_info(end, remaining > len(page))}


def _split_tag(name: str) -> tuple[str, str]:
    collection, sep, tag = name.rpartition(":")
    return (collection, tag) if sep else (name, "latest")


def _membership_by_name(ctx: Context, scope: Scope, name: str) -> MembershipView | None:
    """Resolve ``collection:vN`` / ``collection:alias`` within a project, sequence or portfolio."""
    fake = ctx.fake
    collection, tag = _split_tag(name)
    info = fake.find_collection(scope, collection)
    if info is None:
        return None
    ref = info.ref
    if ref.kind is CollectionKind.PORTFOLIO:
        for link in fake.portfolio_links(ref):
            if tag == f"v{link.index}" or tag in link.aliases:
                return MembershipView(ctx, fake.version(link.version_id), link)
        return None
    try:
        version = fake.resolve(f"{ref}:{tag}")
    except NotFoundError:
        return None
    return MembershipView(ctx, version, None)


class ArtifactTypeView:
    """One artifact type of a project."""

    def __init__(self, ctx: Context, scope: Scope, name: str) -> None:
        self.ctx = ctx
        self.scope = scope
        self.id = encode_id("ArtifactType", f"{scope}/{name}")
        self.name = name
        self.description = None
        self.createdAt = _FIXED_TIME

    def project(self) -> ProjectView:
        return ProjectView(self.ctx, self.scope)

    def _collections(self, kind: CollectionKind | None = None) -> list[CollectionInfo]:
        return [
            c
            for c in ProjectView(self.ctx, self.scope)._collections()
            if c.type == self.name and (kind is None or c.ref.kind is kind)
        ]

    def artifactCollections(
        self,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        if not _parse_filters(filters):
            indexed = _indexed_collections(self.ctx, self.scope, self.name, after, first, order)
            if indexed is not None:
                return indexed
        infos = _filter_collections(self._collections(), filters)
        return _collections_connection(self.ctx, infos, after, first, order)

    def artifactSequences(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        return _collections_connection(self.ctx, self._collections(CollectionKind.SEQUENCE), after, first)

    def artifactCollection(self, name: str) -> CollectionView | None:
        info = self.ctx.fake.find_collection(self.scope, name)
        return CollectionView(self.ctx, info) if info is not None and info.type == self.name else None

    def artifactSequence(self, name: str) -> CollectionView | None:
        view = self.artifactCollection(name)
        return view if view is not None and view.info.ref.kind is CollectionKind.SEQUENCE else None

    def artifact(self, name: str) -> ArtifactView | None:
        membership = _membership_by_name(self.ctx, self.scope, name)
        if membership is None or membership.version.type != self.name:
            return None
        return membership.artifact()


class CollectionView:
    """A collection: a source sequence or a registry portfolio."""

    def __init__(self, ctx: Context, info: CollectionInfo, *, state: str = "READY") -> None:
        self.ctx = ctx
        self.info = info
        self.typename = (
            "ArtifactSequence" if info.ref.kind is CollectionKind.SEQUENCE else "ArtifactPortfolio"
        )
        self.id = info.id
        self.name = info.ref.name
        self.description = info.description or None
        self.createdAt = _iso(info.created_at)
        self.updatedAt = _iso(info.updated_at or info.created_at)
        self.state = state

    def tags(self) -> dict[str, Any]:
        from ._registries import collection_tags

        return collection_tags(self.ctx, self.info)

    def project(self) -> ProjectView:
        return ProjectView(self.ctx, self.info.ref.scope)

    def defaultArtifactType(self) -> ArtifactTypeView:
        return ArtifactTypeView(self.ctx, self.info.ref.scope, self.info.type)

    def _is_sequence(self) -> bool:
        return self.info.ref.kind is CollectionKind.SEQUENCE

    def _memberships(self) -> list[MembershipView]:
        """Live members, newest first."""
        fake = self.ctx.fake
        if self._is_sequence():
            return [MembershipView(self.ctx, v, None) for v in fake.collection_versions(self.info.ref)]
        return [
            MembershipView(self.ctx, fake.version(link.version_id), link)
            for link in fake.portfolio_links(self.info.ref)
        ]

    def aliases(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        found = [(m, a) for m in reversed(self._memberships()) for a in sorted(m.alias_names())]
        return _connection(
            self.ctx,
            found,
            None,
            after,
            first,
            lambda pair: AliasView(self.ctx, pair[1], self.info, pair[0].version),
        )

    def artifacts(
        self,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
        filters: str | None = None,
    ) -> dict[str, Any]:
        parsed = _parse_filters(filters)
        newest = _newest_first(order, default=True, what="artifacts")
        if self._is_sequence():
            indexed = _sequence_connection(
                self.ctx,
                self.info.ref,
                _filtered_states(parsed),
                newest,
                after,
                first,
                lambda v: ArtifactView(self.ctx, v),
                version=lambda v: f"v{v.index}",
            )
            if indexed is not None:
                return indexed
        members = [m for m in self._memberships() if _version_matches(m.version, parsed)]
        if not newest:
            members.reverse()
        return _connection(
            self.ctx,
            members,
            (lambda m: -m.index) if newest else (lambda m: m.index),
            after,
            first,
            lambda m: m.artifact(),
            version=lambda m: f"v{m.index}",
        )

    def artifactMemberships(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        if self._is_sequence():
            indexed = _sequence_connection(
                self.ctx, self.info.ref, None, True, after, first, lambda v: MembershipView(self.ctx, v, None)
            )
            if indexed is not None:
                return indexed
        members = self._memberships()
        return _connection(self.ctx, members, lambda m: -m.index, after, first, lambda m: m)

    def artifactMembership(self, aliasName: str) -> MembershipView | None:
        return _membership_by_name(self.ctx, self.info.ref.scope, f"{self.info.ref.name}:{aliasName}")

    def latestArtifact(self) -> ArtifactView | None:
        membership = self.artifactMembership("latest")
        return membership.artifact() if membership is not None else None


class AliasView:
    """One alias, in the collection where it is held."""

    def __init__(self, ctx: Context, alias: str, collection: CollectionInfo, version: Version) -> None:
        self.ctx = ctx
        self.id = encode_id("ArtifactAlias", f"{collection.id}:{alias}")
        self.alias = alias
        self._collection = collection
        self._version = version

    def artifactCollection(self) -> CollectionView:
        return CollectionView(self.ctx, self._collection)

    def artifact(self) -> ArtifactView:
        return ArtifactView(self.ctx, self._version)


class MembershipView:
    """A version as a member of one collection: its source sequence, or a portfolio via a link."""

    def __init__(self, ctx: Context, version: Version, link: Link | None) -> None:
        self.ctx = ctx
        self.version = version
        self.link = link
        self.index = link.index if link is not None else version.index
        where = str(link.portfolio) if link is not None else version.collection_ref
        self.id = encode_id("ArtifactCollectionMembership", f"{where}:v{self.index}")
        self.versionIndex = self.index
        self.createdAt = _iso(version.created_at)

    def _info(self) -> CollectionInfo:
        ref: CollectionRef = self.link.portfolio if self.link is not None else self.version.collection_ref
        return self.ctx.fake.collection_info(ref)

    def alias_names(self) -> frozenset[str]:
        return self.link.aliases if self.link is not None else self.version.aliases

    def aliases(self) -> list[AliasView]:
        info = self._info()
        return [AliasView(self.ctx, a, info, self.version) for a in sorted(self.alias_names())]

    def artifactCollection(self) -> CollectionView:
        return CollectionView(self.ctx, self._info())

    def artifact(self) -> ArtifactView:
        return ArtifactView(self.ctx, self.version)

    def files(
        self, names: list[str] | None = None, after: str | None = None, first: int | None = None
    ) -> dict[str, Any]:
        return _files_connection(self.ctx, self.version, names, after, first)


def _files_connection(
    ctx: Context, version: Version, names: list[str] | None, after: str | None, first: int | None
) -> dict[str, Any]:
    """The files W&B stores for a version (reference entries are not stored, so not listed)."""
    entries = [
        e for e in ctx.fake.manifest(version.id) if e.ref is None and (names is None or e.path in names)
    ]
    updated = _iso(version.created_at)

    def file(entry: ManifestEntry) -> dict[str, Any]:
        # The fake keeps digests and sizes, not bytes: the URL answers 404, honestly.
        url = f"{ctx.base_url}/artifactsV2/files/{version.id}/{entry.path}"
        return {
            "id": encode_id("File", f"{version.id}:{entry.path}"),
            "name": entry.path,
            "displayName": entry.path,
            "url": url,
            "directUrl": url,
            "sizeBytes": entry.size,
            "storagePath": None,
            "mimetype": None,
            "updatedAt": updated,
            "digest": entry.digest,
            "md5": entry.digest,
        }

    return _connection(ctx, entries, None, after, first, file)


class ArtifactView:
    """One artifact version (always its source record, as in W&B)."""

    def __init__(self, ctx: Context, version: Version) -> None:
        self.ctx = ctx
        self.version = version
        v = version
        self.id = v.id
        self.versionIndex = v.index
        self.description = None
        self.metadata = "{}"
        self.ttlDurationSeconds = int(v.ttl.total_seconds()) if v.ttl is not None else -2
        self.ttlIsInherited = False
        self.tags: list[Any] = []
        self.historyStep = None
        self.state = v.state.value
        self.size = v.size
        self.digest = v.digest
        self.digestAlgorithm = "MANIFEST_MD5"
        self.commitHash = (
            hex(_counter(v.id))[2:].rjust(12, "0") if v.state is not VersionState.PENDING else None
        )
        self.createdAt = _iso(v.created_at)
        self.updatedAt = _iso(v.created_at)
        self.labels = None

    def artifactSequence(self) -> CollectionView:
        return CollectionView(self.ctx, self.ctx.fake.collection_info(self.version.collection_ref))

    def artifactType(self) -> ArtifactTypeView:
        return ArtifactTypeView(self.ctx, self.version.scope, self.version.type)

    def fileCount(self) -> int:
        return len(self.ctx.fake.manifest(self.version.id))

    def _memberships(self) -> list[MembershipView]:
        source = [MembershipView(self.ctx, self.version, None)]
        links = [
            MembershipView(self.ctx, self.version, link) for link in self.ctx.fake.links(self.version.id)
        ]
        return source + links

    def aliases(self) -> list[AliasView]:
        return [alias for m in self._memberships() for alias in m.aliases()]

    def artifactMemberships(self) -> dict[str, Any]:
        # W&B's Artifact.artifactMemberships takes no paging arguments: every membership, one page.
        members = self._memberships()
        return _connection(self.ctx, members, None, None, len(members), lambda m: m)

    def currentManifest(self) -> dict[str, Any]:
        vid = self.version.id
        url = f"{self.ctx.base_url}/artifactsV2/manifests/{vid}/wandb_manifest.json"
        return {
            "id": encode_id("ArtifactManifest", _counter(vid)),
            "type": "FULL",
            "createdAt": self.createdAt,
            "digest": self.digest,
            "file": {
                "id": encode_id("File", f"manifest-{_counter(vid)}"),
                "name": "wandb_manifest.json",
                "displayName": "wandb_manifest.json",
                "digest": None,
                "md5": None,
                # The size of the manifest file this server sends (W&B's sizeBytes is never null).
                "sizeBytes": len(json.dumps(manifest_json(self.ctx.fake, vid)).encode()),
                "mimetype": "application/json",
                "url": url,
                "directUrl": url,
            },
        }

    def files(
        self, names: list[str] | None = None, after: str | None = None, first: int | None = None
    ) -> dict[str, Any]:
        return _files_connection(self.ctx, self.version, names, after, first)

    def usedBy(self, after: str | None = None, first: int | None = None) -> Any:
        if self.ctx.pagination == "stable":
            from ._registries import used_by

            return used_by(self.ctx, self.version, after, first)
        runs = list(self.ctx.fake.lineage(self.version.id).consumers)
        return _connection(self.ctx, runs, None, after, first, lambda r: RunView(self.ctx, r))

    def createdBy(self) -> RunView | UserView:
        producer = self.ctx.fake.lineage(self.version.id).producer
        # W&B's createdBy is never null: a version no run logged (or whose run is gone) shows its user.
        return RunView(self.ctx, producer) if producer is not None else UserView(self.ctx)


class RunView:
    """A run; only what artifact scripts read is meaningful, the rest is empty."""

    def __init__(self, ctx: Context, run: Run) -> None:
        self.ctx = ctx
        self.run = run
        scope = run.scope
        self.typename = "Run"
        self.id = encode_id("Run", run.path)
        self.name = run.path.rsplit("/", 1)[1]
        self.displayName = self.name
        self.projectId = str(_project_number(scope))
        self.state = run.state
        self.tags: list[str] = []
        self.sweepName = None
        self.config = "{}"
        self.group = None
        self.jobType = None
        self.commit = None
        self.readOnly = False
        self.createdAt = _FIXED_TIME
        self.heartbeatAt = self.createdAt
        self.description = None
        self.notes = None
        self.systemMetrics = "{}"
        self.summaryMetrics = "{}"
        self.historyLineCount = 0
        self.historyKeys = {"lastStep": -1, "keys": {}}

    def user(self) -> UserView:
        # Made on demand: most run selections never ask for it.
        return UserView(self.ctx)

    def project(self) -> ProjectView:
        return ProjectView(self.ctx, self.run.scope)

    def outputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        versions = [v for v in self.ctx.fake.run_outputs(self.run) if v.state is not VersionState.DELETED]
        return _connection(
            self.ctx, versions, lambda v: _counter(v.id), after, first, lambda v: ArtifactView(self.ctx, v)
        )

    def inputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        versions = [v for v in self.ctx.fake.run_inputs(self.run) if v.state is not VersionState.DELETED]
        return _connection(
            self.ctx,
            versions,
            lambda v: _counter(v.id),
            after,
            first,
            lambda v: ArtifactView(self.ctx, v),
            usedAs=lambda v: [],
        )


# ---------------------------------------------------------------------- roots


class QueryRoot:
    """Root query fields."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def viewer(self) -> UserView:
        return UserView(self.ctx)

    def serverInfo(self) -> dict[str, Any]:
        return {
            "features": [{"name": name, "isEnabled": name in self.ctx.features} for name in _FEATURES],
            "cliVersionInfo": {"max_cli_version": "99.0.0"},
            "latestLocalVersionInfo": None,
            "frontendHost": self.ctx.base_url,
        }

    def entity(self, name: str | None = None) -> EntityView | None:
        return EntityView(self.ctx, name or self.ctx.default_entity)

    def organization(self, name: str) -> OrganizationView | None:
        return OrganizationView(self.ctx, name)

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

    def artifact(self, id: str) -> ArtifactView | None:  # noqa: A002 - GraphQL argument name
        version = _version_or_none(self.ctx.fake, id)
        return ArtifactView(self.ctx, version) if version is not None else None

    def artifactCollection(self, id: str) -> CollectionView | None:  # noqa: A002
        try:
            return CollectionView(self.ctx, self.ctx.fake.collection_by_id(id))
        except NotFoundError:
            return None


def _version_or_none(fake: FakeWandb, vid: str) -> Version | None:
    decoded = decode_id(vid)
    if decoded is None or decoded[0] != "Artifact":
        return None
    try:
        return fake.version(vid)
    except NotFoundError:
        return None


def _require_version(fake: FakeWandb, vid: str) -> Version:
    version = _version_or_none(fake, vid)
    if version is None:
        raise NotFoundError(f"artifact {vid!r} not found")
    return version


class MutationRoot:
    """Root mutation fields: each reads its input, calls one backend method, serialises."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def deleteArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid = input["artifactID"]
        _require_version(self.ctx.fake, vid)
        self.ctx.fake.delete_version(vid, delete_aliases=bool(input.get("deleteAliases")))
        return {"artifact": ArtifactView(self.ctx, self.ctx.fake.version(vid)), "clientMutationId": None}

    def _delete_collection(self, cid: str, kind: CollectionKind) -> dict[str, Any]:
        info = self.ctx.fake.collection_by_id(cid)
        if info.ref.kind is not kind:
            raise NotFoundError(f"artifact {kind.value} {cid!r} not found")
        self.ctx.fake.delete_collection(info.ref)
        return {"artifactCollection": CollectionView(self.ctx, info), "clientMutationId": None}

    def deleteArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._delete_collection(input["artifactSequenceID"], CollectionKind.SEQUENCE)

    def deleteArtifactPortfolio(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._delete_collection(input["artifactPortfolioID"], CollectionKind.PORTFOLIO)

    def _alias_names(self, version: Version, aliases: list[dict[str, Any]]) -> list[str]:
        names = []
        for item in aliases:
            where = (item["entityName"], item["projectName"], item["artifactCollectionName"])
            if where != (version.entity, version.project, version.collection):
                raise ConflictError(
                    f"alias {item['alias']!r} targets {'/'.join(where)}, not the artifact's own collection"
                )
            names.append(item["alias"])
        return names

    def addAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = _require_version(self.ctx.fake, input["artifactID"])
        names = self._alias_names(version, input["aliases"])
        try:
            self.ctx.fake.add_aliases(version, names)
        except ValueError as e:
            raise ConflictError(str(e)) from None
        return {"success": True, "clientMutationId": None}

    def deleteAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = _require_version(self.ctx.fake, input["artifactID"])
        self.ctx.fake.remove_aliases(version, self._alias_names(version, input["aliases"]))
        return {"success": True, "clientMutationId": None}

    def updateArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = _require_version(self.ctx.fake, input["artifactID"])
        ttl = input.get("ttlDurationSeconds")
        if ttl is not None:
            seconds = int(ttl)
            version = self.ctx.fake.set_ttl(version, timedelta(seconds=seconds) if seconds > 0 else None)
        return {"artifact": ArtifactView(self.ctx, version), "clientMutationId": None}

    def unlinkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid, pid = input["artifactID"], input["artifactPortfolioID"]
        info = self.ctx.fake.collection_by_id(pid)
        link = next((lk for lk in self.ctx.fake.portfolio_links(info.ref) if lk.version_id == vid), None)
        if link is None:
            raise NotFoundError(f"artifact {vid!r} is not linked into {info.ref}")
        self.ctx.fake.unlink(link)
        return {"artifactID": vid, "success": True, "clientMutationId": None}

    def linkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        if not input.get("artifactID"):
            raise ValueError("linkArtifact needs artifactID (linking by client id is not modelled)")
        version = _require_version(self.ctx.fake, input["artifactID"])
        if input.get("artifactPortfolioID"):
            ref = self.ctx.fake.collection_by_id(input["artifactPortfolioID"]).ref
        else:
            entity, project = input.get("entityName"), input.get("projectName")
            name = input.get("artifactPortfolioName")
            if not (entity and project and name):
                raise ValueError("linkArtifact needs artifactPortfolioID or entityName/projectName/name")
            ref = CollectionRef(str(entity), str(project), str(name), CollectionKind.PORTFOLIO)
        aliases = [a["alias"] for a in input.get("aliases") or ()]
        try:
            link = self.ctx.fake.link(version, f"{ref.entity}/{ref.project}/{ref.name}", aliases=aliases)
        except ValueError as e:
            raise ConflictError(str(e)) from None
        membership = MembershipView(self.ctx, self.ctx.fake.version(version.id), link)
        return {"versionIndex": link.index, "artifactMembership": membership, "clientMutationId": None}

    def deleteRun(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        decoded = decode_id(input["id"])
        if decoded is None or decoded[0] != "Run":
            raise NotFoundError(f"run {input['id']!r} not found")
        self.ctx.fake.delete_run(decoded[1], delete_artifacts=bool(input.get("deleteArtifacts")))
        return {"clientMutationId": None}


def manifest_json(fake: FakeWandb, version_id: str) -> dict[str, Any]:
    """A version's manifest in W&B's ``wandb_manifest.json`` format (version 1)."""
    contents: dict[str, dict[str, Any]] = {}
    for entry in fake.manifest(version_id):
        item: dict[str, Any] = {"digest": entry.digest, "size": entry.size}
        if entry.ref is not None:
            item["ref"] = entry.ref
        else:
            item["birthArtifactID"] = version_id
        contents[entry.path] = item
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }
