"""The W&B Registry: organizations, registries, their collections, versions and members, links.

A registry is a project named ``wandb-registry-*`` of the organization's entity
(the fake models each team entity as its own organization, and lists only its
registries as that organization's entity's projects). Entity-level listings
(``Entity.artifactCollections``, ``Entity.artifactMemberships``) span the
entity's registries; members and roles are simple in-memory records. Protected
aliases are kept per entity and admin type, as W&B keeps them.
"""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from artifact_guard._errors import ConflictError, NotFoundError, PermissionDeniedError
from artifact_guard._model import CollectionKind, CollectionRef, Link, Scope, Version

from .._backend import REGISTRY_PREFIX, CollectionInfo, RegistryInfo
from . import _handlers_artifacts as _artifacts
from . import _handlers_projects as _projects
from ._handlers_common import (
    FIXED_TIME,
    Context,
    LazyConnection,
    Root,
    connection,
    counter,
    decode_id,
    encode_id,
    iso,
    matches,
    page_info,
    page_request,
    parse_filters,
    project_number,
    require_version,
)

__all__ = ["OrganizationView", "RegistryMutations", "RegistryQueries"]


def org_entities(ctx: Context) -> list[str]:
    """Entities that hold registry projects: each stands for its own organization."""
    return sorted({s.entity for s in ctx.fake.scopes() if s.project.startswith("wandb-registry-")})


class OrganizationView:
    """An organization. The fake models each team entity as its own organization (same name)."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.id = encode_id("Organization", name)
        self.name = name
        self.coreWeaveOrganizationId = None

    def orgEntity(self) -> _projects.EntityView:
        entity = _projects.EntityView(self.ctx, self.name)
        # The organization's entity holds the registries: its project listing shows those only.
        entity.registries_only = True
        entity.entityType = "organization"
        return entity

    def advancedRegistryFeatures(self) -> dict[str, Any]:
        # The fake filters and pages registry listings itself: no advanced (ClickHouse) search.
        return {"advancedSearch": False}


# ---------------------------------------------------------------------- registries, listings


def _time(when: datetime | None) -> str:
    return iso(when) if when is not None else FIXED_TIME


def _registry_field(ctx: Context, scope: Scope) -> Callable[[str], Any]:
    info: RegistryInfo | None = None

    def field(name: str) -> Any:
        nonlocal info
        if name == "name":
            return scope.project
        if name == "id":
            return project_number(scope)
        info = info or ctx.fake.registry(scope) or RegistryInfo(scope)
        if name == "description":
            return info.description
        if name in ("created_at", "createdAt"):
            return _time(info.created_at)
        if name in ("updated_at", "updatedAt"):
            return _time(info.updated_at or info.created_at)
        raise KeyError(name)

    return field


def _version_field(ctx: Context, version: Version, aliases: frozenset[str]) -> Callable[[str], Any]:
    """Filter fields of a version reached through a registry link (its tags are the version's own)."""

    def field(name: str) -> Any:
        if name == "id":
            return version.id
        if name in ("version", "versionIndex", "version_index"):
            return version.index
        if name in ("alias", "aliases"):
            return sorted(aliases)
        if name in ("tag", "tags"):
            return list(ctx.fake.artifact_details(version.id).tags)
        if name in ("created_at", "createdAt"):
            return iso(version.created_at)
        if name == "state":
            return version.state.value
        raise KeyError(name)

    return field


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
            if project_number(scope) == number:
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
        out.append({"team": _projects.EntityView(ctx, name), "role": {"name": role}})
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
    return connection(ctx, chosen, None, after, first, lambda s: _projects.ProjectView(ctx, s))


def _registry_scopes(ctx: Context, entity: str, project_filters: str | None) -> list[Scope]:
    parsed = parse_filters(project_filters)
    return [
        r.scope
        for r in ctx.fake.registries(entity)
        if matches(_registry_field(ctx, r.scope), parsed, "registry")
    ]


def entity_collections(
    ctx: Context,
    entity: str,
    projectFilters: str | None,
    filters: str | None,
    collectionTypes: list[str] | None,
    after: str | None,
    first: int | None,
    order: str | None,
) -> Any:
    """``Entity.artifactCollections``: collections of the entity's registries.

    In creation order (newest first unless ``order`` says otherwise) with
    stable cursors, a page costs O(page) from the projects' id-ordered
    listings (plus what a filter rejects); other orders and offset cursors
    list every collection of those registries.
    """
    kinds = {CollectionKind(t.lower()) for t in collectionTypes} if collectionTypes else None
    parsed = parse_filters(filters)

    def keep(info: CollectionInfo) -> bool:
        return (kinds is None or info.ref.kind in kinds) and matches(
            _artifacts.collection_field(info), parsed, "collection"
        )

    field = (order or "").lstrip("+-")
    if ctx.pagination == "stable" and field in ("", "createdAt", "created_at"):
        newest = not order or order.startswith("-")
        req = page_request(ctx, after, first)
        scopes = _registry_scopes(ctx, entity, projectFilters)
        sign = -1 if newest else 1
        after_counter = None if req.mark is None else req.mark * sign
        page, more = ctx.fake.merged_collections_page(
            scopes, limit=req.size, newest_first=newest, after_counter=after_counter, keep=keep
        )
        edges: list[dict[str, Any]] = [
            {"node": _artifacts.CollectionView(ctx, c), "cursor": encode_id("after", counter(c.id) * sign)}
            for c in page
        ]
        end = edges[-1]["cursor"] if edges else after

        def count() -> int:
            return sum(1 for s in scopes for c in ctx.fake.collection_infos(s) if keep(c))

        return LazyConnection(edges, page_info(end, more), count)
    infos = [
        info
        for scope in _registry_scopes(ctx, entity, projectFilters)
        for info in ctx.fake.collection_infos(scope)
        if (kinds is None or info.ref.kind in kinds)
        and matches(_artifacts.collection_field(info), parsed, "collection")
    ]
    ordered = _artifacts.order_collections(infos, order, default_newest=True)
    return connection(ctx, ordered, None, after, first, lambda c: _artifacts.CollectionView(ctx, c))


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
        if info.ref.scope in scopes and matches(_artifacts.collection_field(info), coll_filters, "collection")
    ]
    size = page_request(ctx, None, first).size
    offset_mode = ctx.pagination == "offset"

    def keep(link: Link) -> Version | None:
        version = fake.version(link.version_id)
        ok = matches(_version_field(ctx, version, link.aliases), version_filters, "version")
        return version if ok else None

    found: list[tuple[Link, Version, str]] = []
    more = False
    skip = (page_request(ctx, after, None).mark or 0) if offset_mode else 0
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

    edges: list[dict[str, Any]] = [
        {"node": _artifacts.MembershipView(ctx, v, lk), "cursor": c} for lk, v, c in found
    ]
    end = edges[-1]["cursor"] if edges else after
    return LazyConnection(edges, page_info(end, more), count)


def registry_project(ctx: Context, scope: Scope) -> RegistryInfo | None:
    """A project's registry record, None for an ordinary project."""
    if not scope.project.startswith(REGISTRY_PREFIX):
        return None
    return ctx.fake.registry(scope)


# ---------------------------------------------------------------------- root fields


class RegistryQueries(Root):
    """Root query fields about organizations and registries."""

    def organization(self, name: str | None = None, id: str | None = None) -> OrganizationView | None:  # noqa: A002
        if name is None:
            decoded = decode_id(id) if id else None
            if decoded is None or decoded[0] != "Organization":
                return None
            name = decoded[1]
        return OrganizationView(self.ctx, name)


class RegistryMutations(Root):
    """Root mutation fields about registry portfolios and links."""

    def deleteArtifactPortfolio(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return _artifacts.delete_collection(self.ctx, input["artifactPortfolioID"], CollectionKind.PORTFOLIO)

    def unlinkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid, pid = input["artifactID"], input["artifactPortfolioID"]
        info = self.ctx.fake.collection_by_id(pid)
        link = next((lk for lk in self.ctx.fake.portfolio_links(info.ref) if lk.version_id == vid), None)
        if link is None:
            raise NotFoundError(f"artifact {vid!r} is not linked into {info.ref}")
        self.ctx.fake.unlink(link)
        return {"artifactID": vid, "success": True, "clientMutationId": None}

    def linkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid = input.get("artifactID")
        if not vid and input.get("clientID"):
            # Linked right after log_artifact: the SDK knows only its own client id yet.
            by_client = self.ctx.fake.version_by_client_id(input["clientID"])
            if by_client is None:
                raise NotFoundError(f"no artifact with client id {input['clientID']!r}")
            vid = by_client.id
        if not vid:
            raise ValueError("linkArtifact needs artifactID or clientID")
        version = require_version(self.ctx.fake, vid)
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
        membership = _artifacts.MembershipView(self.ctx, self.ctx.fake.version(version.id), link)
        return {"versionIndex": link.index, "artifactMembership": membership, "clientMutationId": None}

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
        return {"artifactCollection": _artifacts.CollectionView(self.ctx, updated), "clientMutationId": None}

    def updateArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._update(self._collection(input["artifactSequenceID"], CollectionKind.SEQUENCE), input)

    def updateArtifactPortfolio(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self._update(self._collection(input["artifactPortfolioID"], CollectionKind.PORTFOLIO), input)

    def moveArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        info = self._collection(input["artifactSequenceID"], CollectionKind.SEQUENCE)
        moved = self.ctx.fake.move_collection(info.ref, input["destinationArtifactTypeName"])
        return {"artifactCollection": _artifacts.CollectionView(self.ctx, moved), "clientMutationId": None}

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
        return {
            "tags": [_artifacts.tag_json(info.id, n) for n in dict.fromkeys(names)],
            "clientMutationID": None,
        }

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
        return {
            "project": _projects.ProjectView(self.ctx, info.scope),
            "inserted": inserted,
            "clientMutationId": None,
        }

    def deleteModel(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        self.ctx.fake.delete_registry(_project_scope(self.ctx, input["id"]))
        return {"success": True, "clientMutationId": None}

    def renameProject(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        scope = Scope(input["entityName"], input["oldProjectName"])
        moved = self.ctx.fake.rename_registry(scope, input["newProjectName"])
        return {
            "project": _projects.ProjectView(self.ctx, moved.scope),
            "inserted": False,
            "clientMutationId": None,
        }

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
