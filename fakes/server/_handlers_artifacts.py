"""Artifacts: versions, collections (sequences and portfolios as members list them), aliases, types."""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

import functools
import json
from datetime import timedelta
from typing import Any

from artifact_guard._errors import ConflictError, NotFoundError
from artifact_guard._model import (
    CollectionKind,
    CollectionRef,
    Link,
    Scope,
    Version,
    VersionState,
)

from .._backend import CollectionInfo
from .._backend_write import ArtifactDetails
from . import _handlers_projects as _projects
from . import _handlers_runs as _runs
from . import _handlers_storage as _storage
from ._handlers_common import (
    FIXED_TIME,
    Context,
    LazyConnection,
    Root,
    connection,
    counter,
    encode_id,
    iso,
    matches,
    newest_first,
    page_info,
    page_request,
    parse_filters,
    require_version,
    sequence_connection,
    version_or_none,
)

__all__ = [
    "AliasView",
    "ArtifactMutations",
    "ArtifactQueries",
    "ArtifactTypeView",
    "ArtifactView",
    "CollectionView",
    "MembershipView",
]


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


def collection_field(info: CollectionInfo) -> Any:
    """Filter fields of a collection (project listings, registry collections); KeyError for others."""

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
            return iso(info.created_at)
        if name in ("updated_at", "updatedAt"):
            return iso(info.updated_at or info.created_at)
        if name in ("type", "artifactType"):
            return info.type
        raise KeyError(name)

    return field


def filter_collections(infos: list[CollectionInfo], filters: str | None) -> list[CollectionInfo]:
    """Collections passing a ``filters`` argument (fields of :func:`collection_field`; others refused)."""
    parsed = parse_filters(filters)
    if not parsed:
        return infos
    return [c for c in infos if matches(collection_field(c), parsed, "collection")]


def order_collections(
    infos: list[CollectionInfo], order: str | None, default_newest: bool
) -> list[CollectionInfo]:
    """Collections in an ``order`` (``name``, ``createdAt``, ``updatedAt``, ``-`` for descending)."""
    field = (order or "").lstrip("+-") or "createdAt"
    descending = order.startswith("-") if order else default_newest
    if field in ("createdAt", "created_at"):
        key: Any = lambda c: counter(c.id)  # noqa: E731
    elif field == "name":
        key = lambda c: c.ref.name  # noqa: E731
    elif field in ("updatedAt", "updated_at"):
        key = lambda c: (c.updated_at or c.created_at, counter(c.id))  # noqa: E731
    else:
        raise ValueError(f"the fake server does not support ordering collections by {field!r}")
    return sorted(infos, key=key, reverse=descending)


def collections_connection(
    ctx: Context, infos: list[CollectionInfo], after: str | None, first: int | None, order: str | None = None
) -> dict[str, Any]:
    # ``infos`` come newest first.
    """Collections (given newest first) as a connection in the requested order."""
    if order and order.lstrip("+-") not in ("createdAt", "created_at"):
        # Name and update-time orders: positions are the cursors (no index runs in those orders).
        ranked = order_collections(infos, order, default_newest=True)
        return connection(ctx, ranked, None, after, first, lambda c: CollectionView(ctx, c))
    newest = newest_first(order, default=True, what="collections")
    ordered = infos if newest else infos[::-1]
    sign = -1 if newest else 1
    return connection(
        ctx, ordered, lambda c: counter(c.id) * sign, after, first, lambda c: CollectionView(ctx, c)
    )


def indexed_collections(
    ctx: Context,
    scope: Scope,
    type_name: str | None,
    after: str | None,
    first: int | None,
    order: str | None,
) -> dict[str, Any] | None:
    """An unfiltered collection listing from the backend's per-project index, O(log n + page) per page.

    Answers exactly what :func:`collections_connection` answers over the
    whole listing (stable cursors carry the id number, negated newest first);
    None when the backend declines, and the caller lists everything.
    """
    if order and order.lstrip("+-") not in ("createdAt", "created_at"):
        return None  # the index runs in creation order only
    newest = newest_first(order, default=True, what="collections")
    req = page_request(ctx, after, first)
    if req.offset:
        found = ctx.fake.collections_page(
            scope, limit=req.size, type=type_name, newest_first=newest, offset=req.start
        )
    else:
        after_counter = None if req.mark is None else (-req.mark if newest else req.mark)
        found = ctx.fake.collections_page(
            scope, limit=req.size, type=type_name, newest_first=newest, after_counter=after_counter
        )
    if found is None:
        return None
    page, total, remaining = found
    sign = -1 if newest else 1
    cursors = [req.cursor(i, counter(c.id) * sign) for i, c in enumerate(page)]
    return req.connection(
        page,
        cursors,
        total=total,
        has_next=remaining > len(page),
        wrap=lambda c: CollectionView(ctx, c),
        extra={},
    )


def _split_tag(name: str) -> tuple[str, str]:
    collection, sep, tag = name.rpartition(":")
    return (collection, tag) if sep else (name, "latest")


def membership_by_name(ctx: Context, scope: Scope, name: str) -> MembershipView | None:
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
        self.createdAt = FIXED_TIME

    def project(self) -> _projects.ProjectView:
        return _projects.ProjectView(self.ctx, self.scope)

    def _collections(self, kind: CollectionKind | None = None) -> list[CollectionInfo]:
        return [
            c
            for c in _projects.ProjectView(self.ctx, self.scope)._collections()
            if c.type == self.name and (kind is None or c.ref.kind is kind)
        ]

    def artifactCollections(
        self,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        if not parse_filters(filters):
            indexed = indexed_collections(self.ctx, self.scope, self.name, after, first, order)
            if indexed is not None:
                return indexed
        infos = filter_collections(self._collections(), filters)
        return collections_connection(self.ctx, infos, after, first, order)

    def artifactSequences(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        return collections_connection(self.ctx, self._collections(CollectionKind.SEQUENCE), after, first)

    def artifactCollection(self, name: str) -> CollectionView | None:
        info = self.ctx.fake.find_collection(self.scope, name)
        return CollectionView(self.ctx, info) if info is not None and info.type == self.name else None

    def artifactSequence(self, name: str) -> CollectionView | None:
        view = self.artifactCollection(name)
        return view if view is not None and view.info.ref.kind is CollectionKind.SEQUENCE else None

    def artifact(self, name: str) -> ArtifactView | None:
        membership = membership_by_name(self.ctx, self.scope, name)
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
        self.createdAt = iso(info.created_at)
        self.updatedAt = iso(info.updated_at or info.created_at)
        self.state = state
        self.digestAlgorithm = "MANIFEST_XXH128" if ctx.xxhash_digests else "MANIFEST_MD5"

    def tags(self) -> dict[str, Any]:
        cursors = [encode_id("after", i) for i in range(len(self.info.tags))]
        edges = [
            {"node": tag_json(self.info.id, t), "cursor": c}
            for t, c in zip(self.info.tags, cursors, strict=True)
        ]
        return {"edges": edges, "pageInfo": page_info(cursors[-1] if cursors else None, False)}

    def project(self) -> _projects.ProjectView:
        return _projects.ProjectView(self.ctx, self.info.ref.scope)

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
        return connection(
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
        parsed = parse_filters(filters)
        newest = newest_first(order, default=True, what="artifacts")
        if self._is_sequence():
            indexed = sequence_connection(
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
        return connection(
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
            indexed = sequence_connection(
                self.ctx, self.info.ref, None, True, after, first, lambda v: MembershipView(self.ctx, v, None)
            )
            if indexed is not None:
                return indexed
        members = self._memberships()
        return connection(self.ctx, members, lambda m: -m.index, after, first, lambda m: m)

    def artifactMembership(self, aliasName: str) -> MembershipView | None:
        return membership_by_name(self.ctx, self.info.ref.scope, f"{self.info.ref.name}:{aliasName}")

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
        self.createdAt = iso(version.created_at)

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
        return _storage.files_connection(self.ctx, self.version, names, after, first)


class ArtifactView:
    """One artifact version (always its source record, as in W&B)."""

    def __init__(self, ctx: Context, version: Version) -> None:
        self.ctx = ctx
        self.version = version
        v = version
        self.id = v.id
        self.versionIndex = v.index
        self.ttlDurationSeconds = int(v.ttl.total_seconds()) if v.ttl is not None else -2
        self.ttlIsInherited = False
        self.state = v.state.value
        self.size = v.size
        self.digest = v.digest
        self.commitHash = (
            hex(counter(v.id))[2:].rjust(12, "0") if v.state is not VersionState.PENDING else None
        )
        self.createdAt = iso(v.created_at)
        self.updatedAt = iso(v.created_at)
        self.labels = None

    # What the SDK wrote (description, metadata, tags) is read only when a query asks for it.

    @functools.cached_property
    def _details(self) -> ArtifactDetails:
        return self.ctx.fake.artifact_details(self.version.id)

    def description(self) -> str | None:
        return self._details.description

    def metadata(self) -> str:
        return json.dumps(self._details.metadata)

    def tags(self) -> list[dict[str, Any]]:
        return [
            {"id": encode_id("Tag", t), "name": t, "tagCategoryName": "", "attributes": "{}"}
            for t in self._details.tags
        ]

    def historyStep(self) -> int | None:
        return self._details.history_step

    def digestAlgorithm(self) -> str:
        return self._details.digest_algorithm

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
        return connection(self.ctx, members, None, None, len(members), lambda m: m)

    def currentManifest(self) -> dict[str, Any]:
        vid = self.version.id
        url = f"{self.ctx.base_url}/artifactsV2/manifests/{vid}/wandb_manifest.json"
        return {
            "id": encode_id("ArtifactManifest", counter(vid)),
            "type": "FULL",
            "createdAt": self.createdAt,
            "digest": self.digest,
            "file": {
                "id": encode_id("File", f"manifest-{counter(vid)}"),
                "name": "wandb_manifest.json",
                "displayName": "wandb_manifest.json",
                "digest": None,
                "md5": None,
                # The size of the manifest file this server sends (W&B's sizeBytes is never null).
                "sizeBytes": len(json.dumps(_storage.manifest_json(self.ctx.fake, vid)).encode()),
                "mimetype": "application/json",
                "url": url,
                "directUrl": url,
                "uploadHeaders": [],
            },
        }

    def files(
        self, names: list[str] | None = None, after: str | None = None, first: int | None = None
    ) -> dict[str, Any]:
        return _storage.files_connection(self.ctx, self.version, names, after, first)

    def usedBy(self, after: str | None = None, first: int | None = None) -> Any:
        if self.ctx.pagination == "stable":
            return used_by(self.ctx, self.version, after, first)
        runs = list(self.ctx.fake.lineage(self.version.id).consumers)
        return connection(self.ctx, runs, None, after, first, lambda r: _runs.RunView(self.ctx, r))

    def createdBy(self) -> _runs.RunView | _projects.UserView:
        producer = self.ctx.fake.lineage(self.version.id).producer
        # W&B's createdBy is never null: a version no run logged (or whose run is gone) shows its user.
        return _runs.RunView(self.ctx, producer) if producer is not None else _projects.UserView(self.ctx)


def used_by(ctx: Context, version: Version, after: str | None, first: int | None) -> LazyConnection:
    """``Artifact.usedBy`` with stable cursors, from the backend's use record: O(page) per page."""
    req = page_request(ctx, after, first)
    page, more = ctx.fake.consumers_page(version.id, limit=req.size, after=req.mark)
    edges: list[dict[str, Any]] = [
        {"node": _runs.RunView(ctx, run), "cursor": encode_id("after", pos)} for pos, run in page
    ]
    end = edges[-1]["cursor"] if edges else after
    return LazyConnection(edges, page_info(end, more), lambda: len(ctx.fake.lineage(version.id).consumers))


def tag_json(collection_id: str, name: str) -> dict[str, Any]:
    """A collection tag as W&B's ``Tag`` shows it."""
    return {
        "id": encode_id("Tag", f"{collection_id}:{name}"),
        "name": name,
        "tagCategoryName": "",
        "attributes": "{}",
    }


# ---------------------------------------------------------------------- root fields


def delete_collection(ctx: Context, cid: str, kind: CollectionKind) -> dict[str, Any]:
    """Delete a sequence or portfolio by id; an id of the other kind is not found, as in W&B."""
    info = ctx.fake.collection_by_id(cid)
    if info.ref.kind is not kind:
        raise NotFoundError(f"artifact {kind.value} {cid!r} not found")
    ctx.fake.delete_collection(info.ref)
    return {"artifactCollection": CollectionView(ctx, info), "clientMutationId": None}


class ArtifactQueries(Root):
    """Root query fields that look artifacts and collections up by id."""

    def artifact(self, id: str) -> ArtifactView | None:  # noqa: A002 - GraphQL argument name
        version = version_or_none(self.ctx.fake, id)
        return ArtifactView(self.ctx, version) if version is not None else None

    def artifactCollection(self, id: str) -> CollectionView | None:  # noqa: A002
        try:
            return CollectionView(self.ctx, self.ctx.fake.collection_by_id(id))
        except NotFoundError:
            return None


class ArtifactMutations(Root):
    """Root mutation fields about versions, sequences and aliases."""

    def deleteArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid = input["artifactID"]
        require_version(self.ctx.fake, vid)
        self.ctx.fake.delete_version(vid, delete_aliases=bool(input.get("deleteAliases")))
        return {"artifact": ArtifactView(self.ctx, self.ctx.fake.version(vid)), "clientMutationId": None}

    def deleteArtifactSequence(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return delete_collection(self.ctx, input["artifactSequenceID"], CollectionKind.SEQUENCE)

    def _targets(self, version: Version, aliases: list[dict[str, Any]]) -> dict[Link | None, list[str]]:
        """Aliases by where they go: None for the version's own collection, else the registry link
        through which the version is reached (W&B accepts alias edits through a linked collection)."""
        links = {lk.portfolio: lk for lk in self.ctx.fake.links(version.id)}
        out: dict[Link | None, list[str]] = {}
        for item in aliases:
            where = (item["entityName"], item["projectName"], item["artifactCollectionName"])
            if where == (version.entity, version.project, version.collection):
                out.setdefault(None, []).append(item["alias"])
                continue
            link = links.get(CollectionRef(*where, CollectionKind.PORTFOLIO))
            if link is None:
                raise NotFoundError(f"artifact {version.qualified_name} is not linked into {'/'.join(where)}")
            out.setdefault(link, []).append(item["alias"])
        return out

    def addAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = require_version(self.ctx.fake, input["artifactID"])
        try:
            for link, names in self._targets(version, input["aliases"]).items():
                if link is None:
                    self.ctx.fake.add_aliases(version, names)
                else:
                    self.ctx.fake.add_link_aliases(link, names)
        except ValueError as e:
            raise ConflictError(str(e)) from None
        return {"success": True, "clientMutationId": None}

    def deleteAliases(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = require_version(self.ctx.fake, input["artifactID"])
        for link, names in self._targets(version, input["aliases"]).items():
            if link is None:
                self.ctx.fake.remove_aliases(version, names)
            else:
                admin = self.ctx.fake.is_admin(link.portfolio.entity)
                self.ctx.fake.remove_link_aliases(link, names, admin=admin)
        return {"success": True, "clientMutationId": None}

    def updateArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = require_version(self.ctx.fake, input["artifactID"])
        ttl = input.get("ttlDurationSeconds")
        if ttl is not None:
            seconds = int(ttl)
            version = self.ctx.fake.set_ttl(version, timedelta(seconds=seconds) if seconds > 0 else None)
        _update_details(self.ctx, version, input)
        return {
            "artifact": ArtifactView(self.ctx, self.ctx.fake.version(version.id)),
            "clientMutationId": None,
        }


def _update_details(ctx: Context, version: Version, input: dict[str, Any]) -> None:  # noqa: A002
    """The write-path part of ``updateArtifact``: description, metadata, tags, the alias set."""
    from ._handlers_artifacts_write import tag_names

    if any(input.get(k) is not None for k in ("description", "metadata", "tagsToAdd", "tagsToDelete")):
        ctx.fake.update_artifact_details(
            version.id,
            description=input.get("description"),
            metadata=input.get("metadata"),
            tags_to_add=tag_names(input.get("tagsToAdd")),
            tags_to_delete=tag_names(input.get("tagsToDelete")),
        )
    if input.get("aliases") is not None:
        wanted = {a["alias"] for a in input["aliases"] if a["artifactCollectionName"] == version.collection}
        held = ctx.fake.version(version.id).aliases
        ctx.fake.remove_aliases(version, held - wanted)
        try:
            ctx.fake.add_aliases(version, sorted(wanted - held))
        except ValueError as e:
            raise ConflictError(str(e)) from None
