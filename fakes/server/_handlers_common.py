"""What every area's handlers share: the request context, W&B's ids and times, paging, filters.

The fake server's GraphQL resolvers are split by W&B area, the way moto
splits a service: :mod:`._handlers_projects` (viewer, entities, projects),
:mod:`._handlers_runs` (runs, ``wandb.init``'s upsert), :mod:`._handlers_artifacts`
(versions, collections, aliases), :mod:`._handlers_artifacts_write` (artifacts
logged through the SDK), :mod:`._handlers_registries` (organizations, links,
portfolios) and :mod:`._handlers_storage` (files, manifests, upload slots). Each
area holds its views and its root fields; :mod:`._handlers` assembles the roots.
The write path's HTTP routes (file stream, uploads, downloads) are in
:mod:`._http_write`, its schema extensions in :mod:`._schema_write`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from artifact_guard._errors import NotFoundError
from artifact_guard._model import CollectionRef, Scope, Version, VersionState

from .._backend import FakeWandb

__all__ = [
    "Context",
    "FIXED_TIME",
    "LazyConnection",
    "PageRequest",
    "Pagination",
    "Root",
    "connection",
    "counter",
    "decode_id",
    "encode_id",
    "iso",
    "matches",
    "newest_first",
    "page_info",
    "page_request",
    "paginate",
    "parse_filters",
    "project_number",
    "require_run_scope",
    "require_version",
    "sequence_connection",
    "version_or_none",
]

Pagination = Literal["stable", "offset"]

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
    features: frozenset[str] | None = None
    """Server features reported as enabled (None: every one the fake models). Without
    ``ARTIFACT_COLLECTIONS_FILTERING_SORTING`` the server behaves as an older W&B Server:
    ``filters``/``order`` on ``Project.artifactCollections`` are refused as unknown arguments."""
    storage_regions: frozenset[str] | None = None
    """Storage regions an artifact may name (``Artifact(storage_region=...)``); None: any."""
    xxhash_digests: bool = False
    """Tell the SDK that XXH128 manifest digests are enabled (W&B's ``xxhashDigestsEnabled``)."""


class Root:
    """Base of each area's root fields: the roots in :mod:`._handlers` inherit from every area."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx


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


def counter(gid: str) -> int:
    """The number a fake id carries (ids are numbered in creation order), 0 if it carries none."""
    decoded = decode_id(gid)
    if decoded is None or not decoded[1].isdigit():
        return 0
    return int(decoded[1])


@functools.lru_cache(maxsize=4096)
def iso(when: datetime) -> str:
    """A time as W&B writes it: naive UTC without offset, e.g. ``2024-01-02T03:04:05``."""
    # Cached: a listing page formats each version's time twice and the fixed times below ~10 times.
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


FIXED_TIME = iso(datetime(2020, 1, 1, tzinfo=UTC))
"""Creation time shown for projects, types and runs (the fake does not model theirs)."""


@functools.lru_cache(maxsize=4096)
def project_number(scope: Scope) -> int:
    """A project's numeric id (stable for its name)."""
    return zlib.crc32(str(scope).encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------- pagination


def page_info(end: str | None, has_next: bool) -> dict[str, Any]:
    """A connection's ``pageInfo``."""
    return {"startCursor": None, "endCursor": end, "hasNextPage": has_next, "hasPreviousPage": False}


@dataclass(frozen=True)
class PageRequest:
    """One page a listing was asked for: its size and where its ``after`` cursor left off.

    The one reading of ``first``/``after`` that every paging handler shares.
    ``mark`` is the number the cursor carries: an offset into the current
    listing (``offset`` style), or the sort key of the last item seen
    (``stable`` style); None on the first page.
    """

    after: str | None
    size: int
    mark: int | None
    offset: bool

    @property
    def start(self) -> int:
        """Where an offset-style page starts."""
        return self.mark or 0

    def cursor(self, position: int, key: int) -> str:
        """The cursor of the page's ``position``-th item, whose stable sort key is ``key``."""
        return encode_id("offset", self.start + position + 1) if self.offset else encode_id("after", key)

    def connection(
        self,
        page: Sequence[Any],
        cursors: Sequence[str],
        *,
        total: int,
        has_next: bool,
        wrap: Callable[[Any], Any],
        extra: Mapping[str, Callable[[Any], Any]],
    ) -> dict[str, Any]:
        """A GraphQL connection: one edge per item (its view, cursor and ``extra`` fields) and pageInfo."""
        edges = []
        for item, cursor in zip(page, cursors, strict=True):
            edge = {"node": wrap(item), "cursor": cursor}
            for name, fn in extra.items():
                edge[name] = fn(item)
            edges.append(edge)
        end = cursors[-1] if cursors else self.after
        return {"totalCount": total, "edges": edges, "pageInfo": page_info(end, has_next)}


def page_request(ctx: Context, after: str | None, first: int | None) -> PageRequest:
    """Read a listing's ``after``/``first`` arguments; a cursor of the wrong style is a ValueError."""
    size = _DEFAULT_PAGE if first is None else max(0, min(int(first), _MAX_PAGE))
    offset = ctx.pagination == "offset"
    if not after:
        return PageRequest(after, size, None, offset)
    decoded = decode_id(after)
    if offset:
        if decoded is None or decoded[0] != "offset" or not decoded[1].isdigit():
            raise ValueError(f"invalid cursor {after!r}")
    elif decoded is None or decoded[0] != "after" or not decoded[1].lstrip("-").isdigit():
        raise ValueError(f"invalid cursor {after!r}")
    return PageRequest(after, size, int(decoded[1]), offset)


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
    chunk, cursors, has_next = _page_of(page_request(ctx, after, first), items, key)
    end = cursors[-1] if cursors else after
    return list(zip(chunk, cursors, strict=True)), page_info(end, has_next)


def _page_of(
    req: PageRequest, items: Sequence[Any], key: Callable[[Any], int] | None
) -> tuple[list[Any], list[str], bool]:
    if req.offset:
        chunk = list(items[req.start : req.start + req.size])
        cursors = [req.cursor(i, 0) for i in range(len(chunk))]
        return chunk, cursors, req.start + len(chunk) < len(items)
    keyed = [(key(item) if key is not None else i, item) for i, item in enumerate(items)]
    if req.mark is not None:
        keyed = [(k, item) for k, item in keyed if k > req.mark]
    chunk = [item for _, item in keyed[: req.size]]
    cursors = [req.cursor(i, k) for i, (k, _) in enumerate(keyed[: req.size])]
    return chunk, cursors, len(keyed) > len(chunk)


def connection(
    ctx: Context,
    items: Sequence[Any],
    key: Callable[[Any], int] | None,
    after: str | None,
    first: int | None,
    wrap: Callable[[Any], Any],
    **extra: Callable[[Any], Any],
) -> dict[str, Any]:
    """``items`` (already in listing order) as a connection; see :func:`paginate` for the cursors."""
    req = page_request(ctx, after, first)
    chunk, cursors, has_next = _page_of(req, items, key)
    return req.connection(chunk, cursors, total=len(items), has_next=has_next, wrap=wrap, extra=extra)


def sequence_connection(
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

    Exactly what :func:`connection` answers over the whole filtered listing
    (same cursors, ``hasNextPage``, ``totalCount``, and the same hazard for
    offset cursors), but each page costs O(log n + page) instead of
    O(collection): paging through 1M versions stays linear. None when the
    backend cannot index this collection; the caller then lists it whole.
    """
    req = page_request(ctx, after, first)
    if req.offset:
        found = ctx.fake.collection_page(
            ref, limit=req.size, states=states, newest_first=newest, offset=req.start
        )
    else:
        # Stable cursors carry the sort key: -index newest first, index oldest first.
        after_index = None if req.mark is None else (-req.mark if newest else req.mark)
        found = ctx.fake.collection_page(
            ref, limit=req.size, states=states, newest_first=newest, after_index=after_index
        )
    if found is None:
        return None
    page, total, remaining = found
    cursors = [req.cursor(i, -v.index if newest else v.index) for i, v in enumerate(page)]
    return req.connection(page, cursors, total=total, has_next=remaining > len(page), wrap=wrap, extra=extra)


# ---------------------------------------------------------------------- arguments


def newest_first(order: str | None, *, default: bool, what: str) -> bool:
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


def parse_filters(filters: str | None) -> dict[str, Any]:
    """A ``filters`` argument (JSON text) as a dict; malformed JSON is a ValueError."""
    if not filters:
        return {}
    try:
        parsed = json.loads(filters)
    except json.JSONDecodeError as e:
        raise ValueError(f"filters is not valid JSON: {e.msg}") from None
    if not isinstance(parsed, dict):
        raise ValueError("filters must be a JSON object")
    return parsed


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

    def totalCount(self) -> int:  # noqa: N802 - GraphQL field name
        return self._count()


def _compare(value: Any, op: str, operand: Any, what: str) -> bool:
    many = value if isinstance(value, list | tuple | frozenset | set) else None
    if op == "$eq":
        return operand in many if many is not None else bool(value == operand)
    if op == "$ne":
        return operand not in many if many is not None else bool(value != operand)
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


def matches(field: Callable[[str], Any], filters: Mapping[str, Any], what: str) -> bool:
    """Whether a record passes a MongoDB-like filter, as the SDK sends them.

    ``field(name)`` is the record's value of a filter field, raising KeyError
    for a field the fake does not model: that field, or an unknown operator,
    is a ValueError naming it (refused, never ignored). Operators: ``$eq``,
    ``$ne``, ``$in``, ``$nin``, ``$regex``, ``$gt(e)``, ``$lt(e)``, ``$not``,
    ``$and``, ``$or``, ``$nor``; a list-valued field matches when any item does.
    """
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
                    if all(_compare(value, o, v, what) for o, v in operand.items()):
                        return False
                elif not _compare(value, op, operand, what):
                    return False
        elif not _compare(value, "$eq", wanted, what):
            return False
    return True


# ---------------------------------------------------------------------- lookups


def version_or_none(fake: FakeWandb, vid: str) -> Version | None:
    """The version an ``Artifact`` id names, None if it names none."""
    decoded = decode_id(vid)
    if decoded is None or decoded[0] != "Artifact":
        return None
    try:
        return fake.version(vid)
    except NotFoundError:
        return None


def require_version(fake: FakeWandb, vid: str) -> Version:
    """The version an ``Artifact`` id names; NotFoundError if it names none."""
    version = version_or_none(fake, vid)
    if version is None:
        raise NotFoundError(f"artifact {vid!r} not found")
    return version


def require_run_scope(fields: dict[str, Any]) -> str:
    """The run path ``entity/project/run`` named by ``entityName``/``projectName``/``runName`` fields."""
    entity, project, run = fields.get("entityName"), fields.get("projectName"), fields.get("runName")
    if not (entity and project and run):
        raise ValueError("entityName, projectName and runName are required")
    return f"{entity}/{project}/{run}"
