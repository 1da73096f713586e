"""GraphQL resolvers for the W&B Registry, protected aliases, collection records, and filters.

A registry is a project named ``wandb-registry-*`` of the organization's entity
(the fake models each team entity as its own organization). Entity-level
listings (``Entity.artifactCollections``, ``Entity.artifactMemberships``) span
the entity's registries; members and roles are simple in-memory records.

Filters follow the MongoDB-like form the SDK sends (``{"name": {"$regex":
...}}``, ``$and``/``$or``, ``$in``...). Every field and operator the fake does
not model is refused by name, never ignored.
"""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from artifact_guard._errors import NotFoundError, PermissionDeniedError
from artifact_guard._model import CollectionKind, CollectionRef, Link, Scope, Version

from .._backend import REGISTRY_PREFIX, CollectionInfo, RegistryInfo
from ._handlers import (
    _FIXED_TIME,
    CollectionView,
    Context,
    EntityView,
    MembershipView,
    MutationRoot,
    ProjectView,
    RunView,
    _connection,
    _cursor_mark,
    _iso,
    _page_info,
    _page_size,
    _project_number,
    _require_version,
    decode_id,
    encode_id,
)

__all__ = ["LazyConnection", "RegistryMutations", "matches", "used_by"]

# ---------------------------------------------------------------------- filters

_Field = Callable[[str], Any]
"""A record's value of one filter field; raises KeyError for a field the fake does not model."""


def parse_filters(filters: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A ``filters`` argument as a dict (JSON text or already decoded)."""
    if not filters:
        return {}
    if isinstance(filters, Mapping):
        return dict(filters)
    try:
        parsed = json.loads(filters)
    except json.JSONDecodeError as e:
        raise ValueError(f"filters is not valid JSON: {e.msg}") from None
    if not isinstance(parsed, dict):
        raise ValueError("filters must be a JSON object")
    return parsed


def _compare(value: Any, op: str, operand: Any, what: str) -> bool:
    many = value if isinstance(value, list | tuple | frozenset | set) else None
    if op == "$eq":
        return operand in many if many is not None else value == operand
    if op == "$ne":
        return operand not in many if many is not None else value != operand
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise ValueError(f"{what} filter {op} needs a list")
        hit = bool(set(many) & set(operand)) if many is not None else value in operand
        return hit if op == "$in" else not hit
    if op == "$regex":
        pattern = re.compile(str(operand))
        items = many if many is not None else [value]
        return any(isinstance(v, str) and pattern.search(v) is not None for v in items)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if value is None:
            return False
        try:
            if op == "$gt":
                return bool(value > operand)
            if op == "$gte":
                return bool(value >= operand)
            if op == "$lt":
                return bool(value < operand)
            return bool(value <= operand)
        except TypeError:
            raise ValueError(f"{what} filter {op} cannot compare {value!r} with {operand!r}") from None
    raise ValueError(f"the fake server does not support the {what} filter operator {op!r}")


def _compare_all(value: Any, ops: Mapping[str, Any], what: str) -> bool:
    return all(_compare(value, op, operand, what) for op, operand in ops.items())


def matches(field: _Field, filters: Mapping[str, Any], what: str) -> bool:
    """Whether a record passes a MongoDB-like filter; an unknown field or operator raises ValueError."""
    for name, wanted in filters.items():
        if name in ("$and", "$or", "$nor"):
            if not isinstance(wanted, list) or not all(isinstance(sub, dict) for sub in wanted):
                raise ValueError(f"{what} filter {name} needs a list of objects")
            results = [matches(field, sub, what) for sub in wanted]
            ok = all(results) if name == "$and" else any(results)
            if ok == (name == "$nor"):
                return False
            continue
        if name.startswith("$"):
            raise ValueError(f"the fake server does not support the {what} filter operator {name!r}")
        try:
            value = field(name)
        except KeyError:
            raise ValueError(f"the fake server does not support the {what} filter {name!r}") from None
        if isinstance(wanted, dict) and any(k.startswith("$") for k in wanted):
            for op, operand in wanted.items():
                if op == "$not" and isinstance(operand, dict):
                    if _compare_all(value, operand, what):
                        return False
                elif not _compare(value, op, operand, what):
                    return False
        elif not _compare(value, "$eq", wanted, what):
            return False
    return True


def _time(when: datetime | None) -> str:
    return _iso(when) if when is not None else _FIXED_TIME


def _registry_field(ctx: Context, scope: Scope) -> _Field:
    info: RegistryInfo | None = None

    def field(name: str) -> Any:
        nonlocal info
        if name == "name":
            return scope.project
        if name == "id":
            return _project_number(scope)
        info = info or ctx.fake.registry(scope) or RegistryInfo(scope)
        if name == "description":
            return info.description
        if name in ("created_at", "createdAt"):
            return _time(info.created_at)
        if name in ("updated_at", "updatedAt"):
            return _time(info.updated_at or info.created_at)
        raise KeyError(name)

    return field


def collection_field(info: CollectionInfo) -> _Field:
    """Filter fields of a collection (project listings, registry collections)."""

    def field(name: str) -> Any:
        if name == "name":
            return info.ref.name
        if name in ("id", "artifact_collection_id", "collection_id"):
            return info.id
        if name in ("tag", "tags"):
            return list(info.tags)
        if name == "description":
            return info.description
        if name in ("created_at", "createdAt"):
            return _iso(info.created_at)
        if name in ("updated_at", "updatedAt"):
            return _iso(info.updated_at or info.created_at)
        if name in ("type", "artifactType"):
            return info.type
        raise KeyError(name)

    return field


def _version_field(version: Version, aliases: frozenset[str]) -> _Field:
    def field(name: str) -> Any:
        if name == "id":
            return version.id
        if name in ("version", "versionIndex", "version_index"):
            return version.index
        if name in ("alias", "aliases"):
            return sorted(aliases)
        if name in ("tag", "tags"):
            return []
        if name in ("created_at", "createdAt"):
            return _iso(version.created_at)
        if name == "state":
            return version.state.value
        raise KeyError(name)

    return field


# ---------------------------------------------------------------------- views


def _project_scope(ctx: Context, gid: str) -> Scope:
    """The project an id names: ``Project:<entity/project>`` or ``ProjectInternalId:<n>``."""
    decoded = decode_id(gid)
    if decoded is not None and decoded[0] == "Project":
        scope = Scope.parse(decoded[1])
        if ctx.fake.has_project(scope):
            return scope
    if decoded is not None and decoded[0] == "ProjectInternalId" and decoded[1].isdigit():
        number = int(decoded[1])
        for scope in ctx.fake.scopes() + [r.scope for e in _entities(ctx) for r in ctx.fake.registries(e)]:
            if _project_number(scope) == number:
                return scope
    raise NotFoundError(f"project {gid!r} not found")


def _entities(ctx: Context) -> list[str]:
    return sorted({s.entity for s in ctx.fake.scopes()} | {ctx.default_entity})


def _user_name(ctx: Context, uid: str) -> str:
    decoded = decode_id(uid)
    if decoded is not None and decoded == ("User", "1"):
        return ctx.viewer
    return decoded[1] if decoded is not None else uid


def project_members(ctx: Context, scope: Scope) -> list[dict[str, Any]]:
    """``Project.members``: a registry's user members with their roles."""
    info = ctx.fake.registry(scope)
    out = []
    for uid, role in info.members if info is not None else ():
        name = _user_name(ctx, uid)
        out.append(
            {
                "id": uid,
                "name": name,
                "username": name,
                "email": f"{name}@example.invalid",
                "role": {"name": role},
            }
        )
    return out


def project_team_members(ctx: Context, scope: Scope) -> list[dict[str, Any]]:
    """``Project.teamMembers``: a registry's team members with their roles."""
    info = ctx.fake.registry(scope)
    out = []
    for tid, role in info.team_members if info is not None else ():
        decoded = decode_id(tid)
        name = tid if decoded is None else decoded[1]
        out.append({"team": EntityView(ctx, name), "role": {"name": role}})
    return out


def entity_projects(
    ctx: Context,
    entity: str,
    after: str | None,
    first: int | None,
    filters: str | None,
    order: str | None,
    *,
    registries_only: bool = False,
) -> dict[str, Any]:
    """``Entity.projects``: the entity's projects (registries included, or only), filtered and ordered."""
    parsed = parse_filters(filters)
    scopes = set() if registries_only else {s for s in ctx.fake.scopes() if s.entity == entity}
    scopes.update(r.scope for r in ctx.fake.registries(entity))
    chosen = [s for s in sorted(scopes, key=str) if matches(_registry_field(ctx, s), parsed, "project")]
    if order:
        key = order.lstrip("+-")
        if key not in ("name", "createdAt", "created_at", "updatedAt", "updated_at"):
            raise ValueError(f"the fake server does not support ordering projects by {key!r}")
        field_name = "name" if key == "name" else key
        chosen.sort(key=lambda s: _registry_field(ctx, s)(field_name), reverse=order.startswith("-"))
    return _connection(ctx, chosen, None, after, first, lambda s: ProjectView(ctx, s))


def _registry_scopes(ctx: Context, entity: str, project_filters: str | None) -> list[Scope]:
    parsed = parse_filters(project_filters)
    return [
        r.scope
        for r in ctx.fake.registries(entity)
        if matches(_registry_field(ctx, r.scope), parsed, "registry")
    ]


def order_collections(
    infos: list[CollectionInfo], order: str | None, default_newest: bool
) -> list[CollectionInfo]:
    """Collections in an ``order`` (``name``, ``createdAt``, ``updatedAt``, ``-`` for descending)."""
    field = (order or "").lstrip("+-") or "createdAt"
    descending = order.startswith("-") if order else default_newest

    def number(c: CollectionInfo) -> int:
        decoded = decode_id(c.id)
        return int(decoded[1]) if decoded is not None and decoded[1].isdigit() else 0

    if field in ("createdAt", "created_at"):
        key: Callable[[CollectionInfo], Any] = number
    elif field == "name":
        key = lambda c: c.ref.name  # noqa: E731
    elif field in ("updatedAt", "updated_at"):
        key = lambda c: (c.updated_at or c.created_at, number(c))  # noqa: E731
    else:
        raise ValueError(f"the fake server does not support ordering collections by {field!r}")
    return sorted(infos, key=key, reverse=descending)


def entity_collections(
    ctx: Context,
    entity: str,
    projectFilters: str | None,
    filters: str | None,
    collectionTypes: list[str] | None,
    after: str | None,
    first: int | None,
    order: str | None,
) -> dict[str, Any]:
    """``Entity.artifactCollections``: collections of the entity's registries."""
    kinds = {CollectionKind(t.lower()) for t in collectionTypes} if collectionTypes else None
    parsed = parse_filters(filters)
    infos = [
        info
        for scope in _registry_scopes(ctx, entity, projectFilters)
        for info in ctx.fake.collection_infos(scope)
        if (kinds is None or info.ref.kind in kinds) and matches(collection_field(info), parsed, "collection")
    ]
    ordered = order_collections(infos, order, default_newest=True)
    return _connection(ctx, ordered, None, after, first, lambda c: CollectionView(ctx, c))


class LazyConnection:
    """A connection whose ``totalCount`` is counted only when a client selects it.

    Paged listings build their page in O(page); counting the whole listing
    would make every page O(listing) again, and most documents never ask.
    """

    def __init__(
        self, edges: list[dict[str, Any]], page_info: dict[str, Any], count: Callable[[], int]
    ) -> None:
        self.edges = edges
        self.pageInfo = page_info
        self._count = count

    def totalCount(self) -> int:
        return self._count()


def used_by(ctx: Context, version: Version, after: str | None, first: int | None) -> LazyConnection:
    """``Artifact.usedBy`` with stable cursors, from the backend's use record: O(page) per page."""
    size = _page_size(first)
    mark = _cursor_mark(ctx, after)
    page, more = ctx.fake.consumers_page(version.id, limit=size, after=mark)
    edges: list[dict[str, Any]] = [
        {"node": RunView(ctx, run), "cursor": encode_id("after", pos)} for pos, run in page
    ]
    end = edges[-1]["cursor"] if edges else after
    return LazyConnection(edges, _page_info(end, more), lambda: len(ctx.fake.lineage(version.id).consumers))


def _membership_cursor(after: str | None) -> tuple[int, int] | None:
    """(collection id number, link index) a stable registry-versions cursor names."""
    if not after:
        return None
    decoded = decode_id(after)
    if decoded is not None and decoded[0] == "membership":
        counter, _, index = decoded[1].partition(".")
        if counter.isdigit() and index.lstrip("-").isdigit():
            return int(counter), int(index)
    raise ValueError(f"invalid cursor {after!r}")


def _counter_of(info: CollectionInfo) -> int:
    decoded = decode_id(info.id)
    return int(decoded[1]) if decoded is not None and decoded[1].isdigit() else 0


def entity_memberships(
    ctx: Context,
    entity: str,
    projectFilters: str | None,
    collectionFilters: str | None,
    filters: str | None,
    after: str | None,
    first: int | None,
    order: str | None,
) -> LazyConnection:
    """``Entity.artifactMemberships``: the versions linked into the entity's registries.

    Listed by registry collection in creation order, each collection's links
    newest first. A page costs O(collections + page) from the backend's
    per-collection link index (plus whatever a version filter rejects), not
    O(every link): stable cursors name (collection, link index), offset
    cursors skip whole collections by their link count.
    """
    if order:
        # The SDK only orders registry versions where advanced search is on; the fake says it is off.
        raise ValueError(f"the fake server does not support ordering registry versions (order {order!r})")
    coll_filters = parse_filters(collectionFilters)
    version_filters = parse_filters(filters)
    fake = ctx.fake
    scopes = set(_registry_scopes(ctx, entity, projectFilters))
    portfolios = [
        info
        for info in fake.registry_portfolios(entity)
        if info.ref.scope in scopes and matches(collection_field(info), coll_filters, "collection")
    ]
    size = _page_size(first)
    offset_mode = ctx.pagination == "offset"

    def keep(link: Link) -> Version | None:
        version = fake.version(link.version_id)
        ok = matches(_version_field(version, link.aliases), version_filters, "version")
        return version if ok else None

    found: list[tuple[Link, Version, str]] = []
    more = False
    skip = (_cursor_mark(ctx, after) or 0) if offset_mode else 0
    mark = None if offset_mode else _membership_cursor(after)
    position = 0  # offset mode: items before the current one
    for info in portfolios:
        counter = _counter_of(info)
        if mark is not None and counter < mark[0]:
            continue
        before = mark[1] if mark is not None and counter == mark[0] else None
        if offset_mode and not version_filters and position + fake.link_count(info.ref) <= skip:
            position += fake.link_count(info.ref)  # the whole collection lies before the page
            continue
        while True:
            want = size + 1 - len(found) + (max(0, skip - position) if offset_mode else 0)
            links, has_more = fake.portfolio_links_page(info.ref, limit=want, before_index=before)
            for link in links:
                version = keep(link)
                if version is None:
                    continue
                position += 1
                if offset_mode and position <= skip:
                    continue
                if len(found) == size:
                    more = True
                    break
                cursor = (
                    encode_id("offset", position)
                    if offset_mode
                    else encode_id("membership", f"{counter}.{link.index}")
                )
                found.append((link, version, cursor))
            if more or not has_more or not links:
                break
            before = links[-1].index
        if more:
            break

    def count() -> int:
        return sum(
            1 for info in portfolios for link in fake.portfolio_links(info.ref) if keep(link) is not None
        )

    edges: list[dict[str, Any]] = [{"node": MembershipView(ctx, v, lk), "cursor": c} for lk, v, c in found]
    end = edges[-1]["cursor"] if edges else after
    return LazyConnection(edges, _page_info(end, more), count)


def registry_project(ctx: Context, scope: Scope) -> RegistryInfo | None:
    """A project's registry record, None for an ordinary project."""
    if not scope.project.startswith(REGISTRY_PREFIX):
        return None
    return ctx.fake.registry(scope)


# ---------------------------------------------------------------------- mutations


def _tag(ctx: Context, collection_id: str, name: str) -> dict[str, Any]:
    return {
        "id": encode_id("Tag", f"{collection_id}:{name}"),
        "name": name,
        "tagCategoryName": "",
        "attributes": "{}",
    }


def collection_tags(ctx: Context, info: CollectionInfo) -> dict[str, Any]:
    """``ArtifactCollection.tags`` as a connection."""
    edges = [
        {"node": _tag(ctx, info.id, t), "cursor": encode_id("after", i)} for i, t in enumerate(info.tags)
    ]
    end = edges[-1]["cursor"] if edges else None
    return {
        "edges": edges,
        "pageInfo": {"startCursor": None, "endCursor": end, "hasNextPage": False, "hasPreviousPage": False},
    }


class RegistryMutations(MutationRoot):
    """Root mutations, with the registry, protected-alias and collection-record ones."""

    def _require_admin(self, entity: str, doing: str) -> None:
        if not self.ctx.fake.is_admin(entity):
            raise PermissionDeniedError(f"permission denied: only an admin of {entity!r} may {doing}")

    def addProtectedAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        entity = input["entityName"]
        self._require_admin(entity, "protect aliases")
        held = self.ctx.fake.add_protected_aliases(entity, input["aliases"], admin_type=input["adminType"])
        return {"aliases": sorted(held), "clientMutationID": None}

    def removeProtectedAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        entity = input["entityName"]
        self._require_admin(entity, "remove protected aliases")
        held = self.ctx.fake.remove_protected_aliases(entity, input["aliases"], admin_type=input["adminType"])
        return {"aliases": sorted(held)}

    # aliases through a linked collection

    def _targets(
        self, version: Version, aliases: list[dict[str, Any]]
    ) -> dict[CollectionRef | None, list[str]]:
        """Aliases grouped by where they go: None for the version's own collection, else a registry link."""
        out: dict[CollectionRef | None, list[str]] = {}
        for item in aliases:
            where = (item["entityName"], item["projectName"], item["artifactCollectionName"])
            if where == (version.entity, version.project, version.collection):
                out.setdefault(None, []).append(item["alias"])
            else:
                out.setdefault(CollectionRef(*where, CollectionKind.PORTFOLIO), []).append(item["alias"])
        return out

    def _link_in(self, version: Version, portfolio: CollectionRef) -> Link:
        for link in self.ctx.fake.links(version.id):
            if link.portfolio == portfolio:
                return link
        raise NotFoundError(f"artifact {version.qualified_name} is not linked into {portfolio}")

    def addAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = _require_version(self.ctx.fake, input["artifactID"])
        targets = self._targets(version, input["aliases"])
        links = {ref: self._link_in(version, ref) for ref in targets if ref is not None}  # all found first
        for ref, names in targets.items():
            if ref is None:
                super().addAliases({**input, "aliases": [a for a in input["aliases"] if a["alias"] in names]})
            else:
                self.ctx.fake.add_link_aliases(links[ref], names)
        return {"success": True, "clientMutationId": None}

    def deleteAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = _require_version(self.ctx.fake, input["artifactID"])
        targets = self._targets(version, input["aliases"])
        links = {ref: self._link_in(version, ref) for ref in targets if ref is not None}
        for ref, names in targets.items():
            if ref is None:
                super().deleteAliases(
                    {**input, "aliases": [a for a in input["aliases"] if a["alias"] in names]}
                )
            else:
                admin = self.ctx.fake.is_admin(ref.entity)
                self.ctx.fake.remove_link_aliases(links[ref], names, admin=admin)
        return {"success": True, "clientMutationId": None}

    # collection records

    def _collection(self, cid: str, kind: CollectionKind) -> CollectionInfo:
        info = self.ctx.fake.collection_by_id(cid)
        if info.ref.kind is not kind:
            raise NotFoundError(f"artifact {kind.value} {cid!r} not found")
        return info

    def _update(self, info: CollectionInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        updated = self.ctx.fake.update_collection(
            info.ref, description=input.get("description"), name=input.get("name")
        )
        return {"artifactCollection": CollectionView(self.ctx, updated), "clientMutationId": None}

    def updateArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._update(self._collection(input["artifactSequenceID"], CollectionKind.SEQUENCE), input)

    def updateArtifactPortfolio(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._update(self._collection(input["artifactPortfolioID"], CollectionKind.PORTFOLIO), input)

    def moveArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        info = self._collection(input["artifactSequenceID"], CollectionKind.SEQUENCE)
        moved = self.ctx.fake.move_collection(info.ref, input["destinationArtifactTypeName"])
        return {"artifactCollection": CollectionView(self.ctx, moved), "clientMutationId": None}

    def _named(self, input: dict[str, Any]) -> CollectionInfo:  # noqa: A002
        scope = Scope(input["entityName"], input["projectName"])
        info = self.ctx.fake.find_collection(scope, input["artifactCollectionName"])
        if info is None:
            raise NotFoundError(f"artifact collection {scope}/{input['artifactCollectionName']} not found")
        return info

    def createArtifactCollectionTagAssignments(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        info = self._named(input)
        names = [t["tagName"] for t in input["tags"]]
        self.ctx.fake.add_collection_tags(info.ref, names)
        return {"tags": [_tag(self.ctx, info.id, n) for n in dict.fromkeys(names)], "clientMutationID": None}

    def deleteArtifactCollectionTagAssignments(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        info = self._named(input)
        self.ctx.fake.remove_collection_tags(info.ref, [t["tagName"] for t in input["tags"]])
        return {"success": True, "clientMutationID": None}

    # registries

    def upsertModel(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        name = input.get("name")
        if not name or not str(name).startswith(REGISTRY_PREFIX):
            raise ValueError(
                f"the fake models upsertModel for registries ({REGISTRY_PREFIX}*) only, not {name!r}"
            )
        entity = input.get("entityName") or self.ctx.default_entity
        types = input.get("artifactTypes")
        info, inserted = self.ctx.fake.upsert_registry(
            entity,
            str(name),
            description=input.get("description"),
            access=input.get("access"),
            allow_all_types=input.get("allowAllArtifactTypesInRegistry"),
            types=[t["name"] for t in types] if types is not None else None,
        )
        return {"project": ProjectView(self.ctx, info.scope), "inserted": inserted, "clientMutationId": None}

    def deleteModel(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        self.ctx.fake.delete_registry(_project_scope(self.ctx, input["id"]))
        return {"success": True, "clientMutationId": None}

    def renameProject(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        scope = Scope(input["entityName"], input["oldProjectName"])
        moved = self.ctx.fake.rename_registry(scope, input["newProjectName"])
        return {"project": ProjectView(self.ctx, moved.scope), "inserted": False, "clientMutationId": None}

    def _members(
        self,
        input: dict[str, Any],  # noqa: A002
        role: str | None,
        users: Iterable[str],
        teams: Iterable[str],
    ) -> dict[str, Any]:
        scope = _project_scope(self.ctx, input["projectId"])
        self.ctx.fake.set_registry_members(
            scope, users=dict.fromkeys(users, role), teams=dict.fromkeys(teams, role)
        )
        return {"success": True, "clientMutationId": None}

    def createProjectMembers(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._members(input, "member", input.get("userIds") or (), input.get("teamIds") or ())

    def deleteProjectMembers(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._members(input, None, input.get("userIds") or (), input.get("teamIds") or ())

    def updateProjectMember(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._members(input, input["userProjectRole"], [input["userId"]], ())

    def updateProjectTeamMember(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._members(input, input["teamProjectRole"], (), [input["teamId"]])
