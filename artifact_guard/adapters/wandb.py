"""WandbRepository: the :class:`~artifact_guard.ArtifactRepository` over real W&B.

This is the only module of artifact-guard that imports ``wandb``, and only
inside functions, so ``import artifact_guard`` never starts wandb-core.

How it talks to W&B
-------------------
Credentials and the base URL are resolved the way wandb resolves them
(``WANDB_API_KEY`` or ``~/.netrc``; ``WANDB_BASE_URL``), unless given. Every
GraphQL request goes through the SDK's own client (``wandb.Api``, which sends
it through wandb-core, with wandb-core's retries of 429 and 5xx). Reads use
our own documents, selecting only fields the SDK's own documents select, so
that one paginated listing answers everything a plan needs:

- ``ArtifactGuardProjectVersions`` lists a project's collections with their
  versions, and for each version its aliases, state, TTL, the run that logged
  it (and that run's state), the runs that used it, and its registry links.
  A plan of an unchanged project therefore costs one request per page of
  versions, whatever it then asks of :meth:`lineage` and :meth:`links`.
- Registry-protected aliases are read from the entities the links point into
  (``Entity.protectedAliases(adminType: MODEL)``, all of a plan's entities in
  one ``ArtifactGuardProtectedAliases`` request, once per plan), so a link's
  ``protected_aliases`` are what W&B enforces. A version's memberships are
  paged (``ArtifactGuardMemberships``) if a server ever says there are more.
- Server features are read once per repository (its server): the project
  listing carries ``serverInfo.features``, else the SDK's own
  ``ServerFeaturesQuery`` asks when a document depends on them. A server
  without ``ARTIFACT_COLLECTIONS_FILTERING_SORTING`` gets collection lookups
  without ``filters``, as the SDK sends them.
- Manifests are fetched through ``ArtifactGuardManifestUrls`` (up to 50
  versions per request, each as an aliased ``artifact(id:)`` field) and a
  plain GET of each manifest's URL, concurrently on a bounded pool. A GET
  never carries the API key (the URLs are pre-signed). A caller that names
  many versions up front (:meth:`WandbRepository.prefetch_manifests`: the
  planner, the executor) gets one pipeline across collections: the look-ups
  go one after another while the downloads of earlier ones run.

Writes use the SDK's own generated mutation documents.

What is cached, and why a cache cannot make a plan miss a change
-----------------------------------------------------------------
- Manifests of COMMITTED versions (W&B never changes them) and the immutable
  facts of those versions go to :class:`~artifact_guard._cache.MetadataCache`
  when ``cache`` is given: fetched once, ever, per server.
- Everything mutable (state, aliases, TTL, consumers, registry links, run
  states) is re-read by every :meth:`versions` listing. Between listings it is
  kept in memory only: :meth:`lineage` and :meth:`links` answer from the most
  recent read of that version (a listing, or :meth:`version`) while it is
  younger than ``listing_max_age`` seconds (default 60), else they ask W&B.
  :meth:`version` always asks W&B, and refreshes what lineage and links
  answer; a write through this repository forgets what it touched. A plan
  always starts with a listing, and the executor re-validates each version
  with :meth:`version` right before deleting it, so a new consumer or a moved
  alias is never hidden by memory.

Errors
------
Every exception from wandb, wandb-core or ``requests`` is mapped to
:mod:`artifact_guard._errors` by :func:`translate_error`, the one place that
knows them. The API key is never stored by this module, never logged, and
scrubbed from every message it raises.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from .._cache import MetadataCache
from .._errors import (
    AliasedVersionError,
    ArtifactGuardError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProtectedAliasError,
    RateLimitedError,
    RepositoryError,
    TransientError,
)
from .._model import (
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    ManifestEntry,
    Run,
    Scope,
    Version,
    VersionState,
)

if TYPE_CHECKING:
    import requests

__all__ = ["WandbRepository", "translate_error"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

DEFAULT_TIMEOUT = 19.0
"""Seconds the SDK waits for one request (wandb's own default)."""

_MANIFEST_BATCH = 50
_PREFETCH_LIMIT = 1000
"""Siblings fetched with a version read on its own (no prefetch): the rest of its collection, up to this."""
_PREFETCH_WINDOW = 1000
"""Versions one manifest fetch claims and reads from the cache at a time."""
_MAX_QUEUED = 2000
"""Downloads waiting for the pool at most: beyond it, the look-ups wait for storage."""
_CACHE_BATCH = 1000
"""Manifests written to the cache per transaction."""
_GET_ATTEMPTS = 4
_GET_BACKOFF = 0.2
"""Seconds before the first retry of a failed manifest download; doubles each time."""

# ---------------------------------------------------------------------- documents

_VERSION_FIELDS = """
fragment AgRun on Run { name state project { name entity { name } } }
fragment AgVersion on Artifact {
  id
  versionIndex
  state
  size
  digest
  createdAt
  ttlDurationSeconds
  artifactType { name }
  artifactSequence { name project { name entity { name } } }
  aliases { alias artifactCollection { __typename name project { name entity { name } } } }
  createdBy { __typename ... on Run { ...AgRun } }
  usedBy { edges { node { ...AgRun } } pageInfo { hasNextPage endCursor } }
  artifactMemberships {
    edges { node {
      versionIndex
      aliases { alias }
      artifactCollection { __typename name project { name entity { name } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SERVER_FEATURES = """
query ServerFeaturesQuery {
  serverInfo { features { name isEnabled } }
}
"""
"""The features a server reports (the same operation name as the SDK's, so servers and logs see one kind)."""

LIST_VERSIONS = (
    """
query ArtifactGuardProjectVersions(
  $entity: String!, $project: String!, $cursor: String, $perPage: Int, $versionsPerPage: Int
) {
  serverInfo { features { name isEnabled } }
  project(entityName: $entity, name: $project) {
    artifactCollections(after: $cursor, first: $perPage) {
      pageInfo { hasNextPage endCursor }
      edges { node {
        __typename
        id
        name
        defaultArtifactType { name }
        artifacts(first: $versionsPerPage) {
          pageInfo { hasNextPage endCursor }
          edges { node { ...AgVersion } }
        }
      } }
    }
  }
}
"""
    + _VERSION_FIELDS
)

COLLECTION_VERSIONS = (
    """
query ArtifactGuardCollectionVersions(
  $entity: String!, $project: String!, $type: String!, $collection: String!, $cursor: String, $perPage: Int
) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $collection) {
        artifacts(after: $cursor, first: $perPage) {
          pageInfo { hasNextPage endCursor }
          edges { node { ...AgVersion } }
        }
      }
    }
  }
}
"""
    + _VERSION_FIELDS
)

VERSION_BY_ID = (
    """
query ArtifactGuardVersion($id: ID!) { artifact(id: $id) { ...AgVersion } }
"""
    + _VERSION_FIELDS
)

MORE_CONSUMERS = """
query ArtifactGuardConsumers($id: ID!, $cursor: String) {
  artifact(id: $id) {
    usedBy(after: $cursor) {
      edges { node { name state project { name entity { name } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

MORE_MEMBERSHIPS = """
query ArtifactGuardMemberships($id: ID!, $cursor: String) {
  artifact(id: $id) {
    artifactMemberships(after: $cursor) {
      edges { node {
        versionIndex
        aliases { alias }
        artifactCollection { __typename name project { name entity { name } } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

COLLECTIONS_UNFILTERED = """
query ArtifactGuardCollections($entity: String!, $project: String!, $cursor: String) {
  project(entityName: $entity, name: $project) {
    artifactCollections(after: $cursor, first: 100) {
      edges { node { __typename id name } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
"""For servers without ARTIFACT_COLLECTIONS_FILTERING_SORTING, whose schema has no ``filters`` here."""

FILTERING_SORTING = "ARTIFACT_COLLECTIONS_FILTERING_SORTING"


def _protected_aliases_document(count: int) -> str:
    params = ", ".join(f"$e{i}: String!" for i in range(count))
    fields = "\n".join(
        f"  e{i}: entity(name: $e{i}) {{ protectedAliases(adminType: MODEL) }}" for i in range(count)
    )
    return f"query ArtifactGuardProtectedAliases({params}) {{\n{fields}\n}}\n"


COLLECTION_BY_NAME = """
query ArtifactGuardCollection($entity: String!, $project: String!, $filters: JSONString) {
  project(entityName: $entity, name: $project) {
    artifactCollections(filters: $filters, first: 2) { edges { node { __typename id name } } }
  }
}
"""

PROJECT_EXISTS = """
query ArtifactGuardProject($entity: String!, $project: String!) {
  project(entityName: $entity, name: $project) { id }
}
"""


def _versions_by_id_document(count: int) -> str:
    params = ", ".join(f"$i{i}: ID!" for i in range(count))
    fields = "\n".join(f"  a{i}: artifact(id: $i{i}) {{ ...AgVersion }}" for i in range(count))
    return f"query ArtifactGuardVersions({params}) {{\n{fields}\n}}\n" + _VERSION_FIELDS


def _manifest_urls_document(count: int) -> str:
    params = ", ".join(f"$i{i}: ID!" for i in range(count))
    fields = "\n".join(
        f"  a{i}: artifact(id: $i{i}) {{ id state currentManifest {{ file {{ directUrl }} }} }}"
        for i in range(count)
    )
    return f"query ArtifactGuardManifestUrls({params}) {{\n{fields}\n}}\n"


# ---------------------------------------------------------------------- error mapping

# W&B answers most refusals as GraphQL errors in an HTTP 200 body, which
# wandb-core hands over as a message without a status: the wording is all
# there is to go on. Ordered: the first match wins.
_MESSAGE_RULES: tuple[tuple[re.Pattern[str], type[RepositoryError]], ...] = (
    (
        re.compile(r"not logged in|invalid api key|unauthori[sz]ed|authenticat|\b401\b", re.I),
        AuthenticationError,
    ),
    (re.compile(r"protected", re.I), ProtectedAliasError),
    (re.compile(r"permission|forbidden|not allowed|access denied|\b403\b", re.I), PermissionDeniedError),
    (re.compile(r"has aliases|delete_?aliases|with aliases", re.I), AliasedVersionError),
    (re.compile(r"not found|does not exist|no such|(was|already) deleted|\b404\b", re.I), NotFoundError),
    (re.compile(r"rate limit|too many requests|\b429\b", re.I), RateLimitedError),
    (re.compile(r"conflict|already exists|\b409\b", re.I), ConflictError),
    (
        re.compile(
            r"did not respond in time|timed? ?out|deadline|connection|unreachable|refused|"
            r"service process is not running|\b50[0-9]\b|temporar",
            re.I,
        ),
        TransientError,
    ),
)

_STATUS_RULES: dict[int, type[RepositoryError]] = {
    400: RepositoryError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: TransientError,
    409: ConflictError,
    429: RateLimitedError,
}

_FOREIGN_MODULES = (
    "wandb",
    "requests",
    "urllib3",
    "google.protobuf",
    "pydantic",
    "pydantic_core",
    "http.client",
    "socket",
    "ssl",
)


def _check_base_url(url: str, *, source: str) -> None:
    """Refuse a W&B base URL that is not ``http(s)://host[:port]``, in one line naming where it came from."""
    try:
        parts = urlsplit(url.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        shown = re.sub(r"//[^/@]*@", "//<redacted>@", url)  # user:password@ never reaches a message
        raise RepositoryError(
            f"W&B base URL {shown!r} (from {source}) is not an http:// or https:// URL with a host"
        )


def _is_foreign(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the SDK or the HTTP stack (as opposed to a bug in our own code)."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in {m.split(".")[0] for m in _FOREIGN_MODULES} or isinstance(
        exc, ConnectionError | TimeoutError
    )


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    for name in ("http_status", "status_code"):
        value = getattr(response, name, None)
        if isinstance(value, int) and value:
            return value
    inner = getattr(exc, "exc", None)
    if isinstance(inner, BaseException) and inner is not exc:
        return _status_of(inner)
    return None


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _clean(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "<redacted>")
    # wandb-core prefixes GraphQL errors with the document position ("input:3:3: result ...").
    message = re.sub(r"^input:\d+:\d+:\s*(result\s+)?", "", message.strip())
    return " ".join(message.split())


def translate_error(
    exc: BaseException,
    *,
    doing: str,
    base_url: str = "",
    timeout: float | None = None,
    secrets: Sequence[str] = (),
) -> ArtifactGuardError:
    """The artifact-guard error for an exception raised by wandb, wandb-core or ``requests``.

    The one place that knows wandb's exception types. ``doing`` says what was
    being attempted ("list demo-team/vision"); ``secrets`` are scrubbed from
    the message (the API key is never part of what we raise).
    """
    if isinstance(exc, ArtifactGuardError):
        return exc
    raw = _clean(str(exc) or type(exc).__name__, secrets)
    where = f" at {base_url}" if base_url else ""
    status = _status_of(exc)
    kind: type[RepositoryError] | None = None
    if status is not None:
        kind = _STATUS_RULES.get(status) or (TransientError if status >= 500 else None)
    type_name = type(exc).__name__
    if kind is None and type_name in ("AuthenticationError",) and "did not respond in time" not in raw:
        kind = AuthenticationError
    worded = next((k for pattern, k in _MESSAGE_RULES if pattern.search(raw)), None)
    if kind is not None and worded is not None and worded is not kind and issubclass(worded, kind):
        # A refusal sent as a 4xx (409, 403) rather than 200-with-errors: the wording still says which
        # (an aliased version, a protected alias), and callers act on the precise class.
        kind = worded
    if kind is None:
        kind = worded
    if kind is None and type_name in ("UsageError", "UnsupportedError"):
        kind = RepositoryError
    if kind is None and type(exc).__module__.startswith("requests"):
        # requests' errors are OSErrors, but only a failed connection or transfer is worth a retry.
        names = {k.__name__ for k in type(exc).__mro__}
        transient = {
            "ConnectionError",
            "Timeout",
            "ChunkedEncodingError",
            "ContentDecodingError",
            "RetryError",
        }
        kind = TransientError if names & transient else RepositoryError
    if kind is None and isinstance(exc, ConnectionError | TimeoutError | OSError):
        kind = TransientError
    if kind is None:
        kind = RepositoryError

    if kind is TransientError and "did not respond in time" in raw:
        waited = f"within {timeout:g}s " if timeout else ""
        message = (
            f"W&B{where} did not answer {waited}while trying to {doing}: the server is unreachable, "
            "the base URL is wrong, or it kept failing (wandb-core retried 429/5xx until the timeout)"
        )
    elif kind is AuthenticationError:
        message = f"W&B{where} refused the credentials while trying to {doing}: {raw}"
    else:
        message = f"W&B{where} could not {doing}: {raw}"
    if kind is RateLimitedError:
        return RateLimitedError(message, retry_after=_retry_after(exc))
    return kind(message)


# ---------------------------------------------------------------------- parsing helpers


def _get(obj: Any, *keys: str | int, what: str) -> Any:
    """``obj[k1][k2]...``; a missing or null step is a malformed answer, named."""
    cur = obj
    for key in keys:
        if isinstance(key, int):
            ok = isinstance(cur, list) and -len(cur) <= key < len(cur)
        else:
            ok = isinstance(cur, dict) and cur.get(key) is not None
        if not ok:
            path = ".".join(str(k) for k in keys)
            raise RepositoryError(f"unexpected answer from W&B for {what}: missing {path}")
        cur = cur[key]
    return cur


def _opt(obj: Any, *keys: str) -> Any:
    cur = obj
    for key in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _when(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise RepositoryError(f"unexpected answer from W&B for {what}: createdAt is {value!r}")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RepositoryError(f"unexpected answer from W&B for {what}: createdAt is {value!r}") from None
    # W&B answers naive UTC timestamps.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _int(value: Any, what: str) -> int:
    # Int64 fields may arrive as JSON strings.
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RepositoryError(f"unexpected answer from W&B for {what}: {value!r} is not an integer") from None


def _run(node: Any, what: str) -> Run:
    entity = _get(node, "project", "entity", "name", what=what)
    project = _get(node, "project", "name", what=what)
    name = _get(node, "name", what=what)
    return Run(f"{entity}/{project}/{name}", str(node.get("state") or "unknown").lower())


@dataclass
class _Details:
    """What one listing said about one version; mutable facts, so short-lived."""

    version: Version
    lineage: Lineage
    links: tuple[Link, ...]
    fetched_at: float


@dataclass
class _Parsed:
    details: _Details
    more_consumers: str | None = None
    """End cursor of the first page of consumers when there are more."""
    extra: list[Run] = field(default_factory=list)
    more_links: str | None = None
    """End cursor of the first page of collection memberships when there are more."""


def _parse_version(node: Any, fetched_at: float) -> _Parsed:
    vid = _get(node, "id", what="an artifact")
    what = f"artifact {vid}"
    seq = _get(node, "artifactSequence", what=what)
    entity = _get(seq, "project", "entity", "name", what=what)
    project = _get(seq, "project", "name", what=what)
    collection = _get(seq, "name", what=what)
    aliases = frozenset(
        a["alias"]
        for a in node.get("aliases") or []
        if isinstance(a, dict)
        and isinstance(a.get("alias"), str)
        and _opt(a, "artifactCollection", "__typename") in (None, "ArtifactSequence")
        and _opt(a, "artifactCollection", "name") in (None, collection)
        and _opt(a, "artifactCollection", "project", "name") in (None, project)
    )
    state_name = _get(node, "state", what=what)
    try:
        state = VersionState(state_name)
    except ValueError:
        raise RepositoryError(f"unexpected answer from W&B for {what}: state {state_name!r}") from None
    ttl_seconds = node.get("ttlDurationSeconds")
    ttl = (
        timedelta(seconds=_int(ttl_seconds, what))
        if ttl_seconds is not None and _int(ttl_seconds, what) > 0
        else None
    )
    creator = node.get("createdBy")
    producer = (
        _run(creator, what) if isinstance(creator, dict) and creator.get("__typename") == "Run" else None
    )
    used = node.get("usedBy") or {}
    consumers = tuple(_run(_get(e, "node", what=what), what) for e in used.get("edges") or [])
    more = _opt(used, "pageInfo", "endCursor") if _opt(used, "pageInfo", "hasNextPage") else None
    memberships = node.get("artifactMemberships") or {}
    links = _parse_links(memberships, vid, what)
    more_links = (
        _opt(memberships, "pageInfo", "endCursor") if _opt(memberships, "pageInfo", "hasNextPage") else None
    )
    version = Version(
        id=vid,
        entity=entity,
        project=project,
        collection=collection,
        type=_get(node, "artifactType", "name", what=what),
        index=_int(_get(node, "versionIndex", what=what), what),
        created_at=_when(node.get("createdAt"), what),
        state=state,
        aliases=aliases,
        size=_int(node.get("size") or 0, what),
        ttl=ttl,
        producer=producer.path if producer is not None else None,
        digest=str(node.get("digest") or ""),
    )
    details = _Details(
        version,
        Lineage(producer, consumers),
        tuple(links),  # the server's order, which is the order the links were made
        fetched_at,
    )
    return _Parsed(details, more, more_links=more_links)


def _parse_links(memberships: Any, vid: str, what: str) -> list[Link]:
    """The registry links in one page of a version's collection memberships (protected aliases come later)."""
    links = []
    for edge in _opt(memberships, "edges") or []:
        m = _get(edge, "node", what=what)
        coll = _get(m, "artifactCollection", what=what)
        if coll.get("__typename") != "ArtifactPortfolio":
            continue
        ref = CollectionRef(
            _get(coll, "project", "entity", "name", what=what),
            _get(coll, "project", "name", what=what),
            _get(coll, "name", what=what),
            CollectionKind.PORTFOLIO,
        )
        link_aliases = frozenset(
            a["alias"] for a in m.get("aliases") or [] if isinstance(a, dict) and "alias" in a
        )
        links.append(Link(ref, vid, _int(_get(m, "versionIndex", what=what), what), link_aliases))
    return links


def _parse_manifest(body: Any, vid: str) -> tuple[ManifestEntry, ...]:
    what = f"the manifest of {vid}"
    contents = body.get("contents") if isinstance(body, dict) else None
    if not isinstance(contents, dict):
        raise RepositoryError(f"unexpected answer from W&B for {what}: no 'contents'")
    entries = []
    for path, item in contents.items():
        if not isinstance(item, dict) or not isinstance(item.get("digest"), str):
            raise RepositoryError(f"unexpected answer from W&B for {what}: entry {path!r} has no digest")
        ref = item.get("ref")
        entries.append(
            ManifestEntry(str(path), item["digest"], _int(item.get("size") or 0, what), ref if ref else None)
        )
    return tuple(entries)


# ---------------------------------------------------------------------- the repository


def _mapped(doing: str) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
    """Decorate a public method: any foreign exception leaving it becomes an artifact-guard error."""

    def decorate(method: Callable[_P, _T]) -> Callable[_P, _T]:
        @functools.wraps(method)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            self = args[0]
            assert isinstance(self, WandbRepository)
            try:
                return method(*args, **kwargs)
            except ArtifactGuardError:
                raise
            except Exception as e:
                if not _is_foreign(e):
                    raise
                raise self._translate(e, doing) from None

        wrapper.__artifact_guard_mapped__ = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


class WandbRepository:
    """An :class:`~artifact_guard.ArtifactRepository` over W&B, through the public wandb SDK.

    ``api_key`` and ``base_url`` default to what wandb itself would use
    (``WANDB_API_KEY`` or ``~/.netrc``; ``WANDB_BASE_URL``). ``cache`` is a
    workspace database path (or an open :class:`MetadataCache`) for manifests
    and immutable version facts. ``max_workers`` bounds concurrent manifest
    downloads (default 32: they go to storage, not the rate-limited API).
    ``timeout`` is the SDK's per-request timeout in seconds.
    ``page_size`` is the number of versions per listing page.
    ``listing_max_age`` is how long (seconds) mutable facts from the last
    listing are served without asking W&B again.

    Raises :class:`~artifact_guard.AuthenticationError` when no credentials
    are configured or W&B refuses them, :class:`~artifact_guard.TransientError`
    when the server cannot be reached within ``timeout``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        cache: str | Path | MetadataCache | None = None,
        max_workers: int = 32,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = 100,
        collections_per_page: int = 20,
        listing_max_age: float = 60.0,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        self._timeout = float(timeout)
        self._max_workers = max_workers
        self._page_size = page_size
        self._collections_per_page = collections_per_page
        self._listing_max_age = listing_max_age
        self._lock = threading.RLock()
        self._details: dict[str, _Details] = {}
        # collection -> ids seen in it (an ordered set): siblings are found without scanning every version
        self._members: dict[CollectionRef, dict[str, None]] = {}
        # A source collection's id by name, as the last listing saw it: deleting it whole then needs
        # no look-up. An id never changes; a collection deleted and re-created under the same name
        # gets a new one, so a stale id can only miss (NotFound), never hit the new collection.
        self._collection_ids: dict[CollectionRef, str] = {}
        self._manifests: dict[str, tuple[ManifestEntry, ...]] = {}
        self._inflight: dict[str, threading.Event] = {}
        # PENDING manifests fetched ahead (prefetch_manifests), for their next reader only, and versions
        # a look-up found gone: both until the next listing.
        self._handoff: dict[str, tuple[ManifestEntry, ...]] = {}
        self._missing: set[str] = set()
        self._protected: dict[str, tuple[frozenset[str], float]] = {}
        self._server_features: frozenset[str] | None = None
        """What the server reports enabled: read once (a listing carries it, else ServerFeaturesQuery)."""
        self._features_lock = threading.Lock()
        """Registry entity -> (its protected aliases, when read): see :meth:`_protect`."""
        self._sessions = threading.local()
        self.progress: Callable[[str, int], None] | None = None
        """Told ``("versions", n)`` as a listing grows and ``("manifests", n)`` as manifests arrive
        (each download, and each batch read from the cache; running totals; called from worker
        threads), for a progress display."""
        self._counts = {"versions": 0, "manifests": 0}
        self.base_url = ""
        self._api = self._connect(api_key, base_url)
        self.base_url = str(self._service.base_url).rstrip("/")
        if isinstance(cache, MetadataCache):
            self._cache: MetadataCache | None = cache
        elif cache is not None:
            self._cache = MetadataCache(cache, namespace=self.base_url)
        else:
            self._cache = None

    # ------------------------------------------------------------------ plumbing

    def __repr__(self) -> str:
        return f"<WandbRepository {self.base_url or 'unconnected'}>"

    def _secrets(self) -> tuple[str, ...]:
        # Read from the SDK object at the moment of need, never copied into this object.
        key = getattr(getattr(self, "_api", None), "api_key", None)
        return (key,) if isinstance(key, str) else ()

    def _translate(self, exc: BaseException, doing: str) -> ArtifactGuardError:
        return translate_error(
            exc, doing=doing, base_url=self.base_url, timeout=self._timeout, secrets=self._secrets()
        )

    def _connect(self, api_key: str | None, base_url: str | None) -> Any:
        # Checked before wandb reads it: the SDK's settings would fail with a multi-line pydantic error.
        given = base_url if base_url is not None else os.environ.get("WANDB_BASE_URL")
        if given:
            _check_base_url(given, source="base_url" if base_url is not None else "WANDB_BASE_URL")
        try:
            import wandb
            from wandb.sdk import wandb_setup
            from wandb.sdk.lib.wbauth import authenticate

            # As wandb.Api resolves it: argument, else WANDB_BASE_URL, else the settings' default.
            default_url = wandb_setup.singleton().settings.base_url
            resolved_url = str(base_url or wandb.env.get_base_url(default_url)).rstrip("/")
            self.base_url = resolved_url
            if not api_key:
                # Never let the SDK prompt: a library call must not wait on a terminal.
                found = authenticate.authenticate_session(
                    host=resolved_url,
                    source="artifact-guard",
                    no_offline=True,
                    prompt=False,
                    update_session=False,
                )
                if found is None:
                    raise AuthenticationError(
                        f"no W&B credentials for {resolved_url}: set WANDB_API_KEY or run `wandb login`"
                    )
            overrides = {"base_url": resolved_url}
            return wandb.Api(overrides=overrides, api_key=api_key, timeout=max(1, round(self._timeout)))
        except ArtifactGuardError:
            raise
        except Exception as e:
            if not _is_foreign(e):
                raise
            raise translate_error(
                e,
                doing="connect",
                base_url=self.base_url,
                timeout=self._timeout,
                secrets=(api_key,) if api_key else (),
            ) from None

    @property
    def _service(self) -> Any:
        service = getattr(self._api, "_service_api", None)
        if service is None or not hasattr(service, "execute_graphql"):
            # wandb 0.31 routes GraphQL through Api._service_api; a future SDK may not.
            raise RepositoryError(
                "this version of wandb has no GraphQL client artifact-guard knows how to use"
            )
        return service

    def _gql(self, document: str, variables: Mapping[str, Any], doing: str) -> Any:
        try:
            result = self._service.execute_graphql(document, dict(variables))
        except ArtifactGuardError:
            raise
        except Exception as e:
            if not _is_foreign(e):
                raise
            raise self._translate(e, doing) from None
        if not isinstance(result, dict):
            raise RepositoryError(
                f"unexpected answer from W&B while trying to {doing}: {type(result).__name__}"
            )
        return result

    def _session(self) -> requests.Session:
        session = getattr(self._sessions, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            # Pre-signed URLs: no credentials, ever.
            session.trust_env = True
            self._sessions.session = session
        return session

    def _download_json(self, url: str, doing: str) -> Any:
        """GET a manifest; retries 429/5xx/connection errors a few times, honouring Retry-After."""
        delay = _GET_BACKOFF
        for attempt in range(_GET_ATTEMPTS):
            try:
                response = self._session().get(url, timeout=self._timeout)
                response.raise_for_status()
            except Exception as e:
                if not _is_foreign(e):
                    raise
                mapped = self._translate(e, doing)
                if not isinstance(mapped, TransientError | RateLimitedError) or attempt == _GET_ATTEMPTS - 1:
                    raise mapped from None
                wait = (
                    mapped.retry_after
                    if isinstance(mapped, RateLimitedError) and mapped.retry_after
                    else delay
                )
                time.sleep(min(wait, 5.0))
                delay *= 2
                continue
            try:
                return response.json()
            except ValueError:
                raise RepositoryError(
                    f"W&B at {self.base_url} sent an unreadable manifest ({doing})"
                ) from None
        raise AssertionError("unreachable")

    def _tell(self, what: str, more: int) -> None:
        report = self.progress
        if report is None:
            return
        with self._lock:
            self._counts[what] += more
            total = self._counts[what]
        with contextlib.suppress(Exception):  # a display must never break a plan
            report(what, total)

    def _remember(self, details: Iterable[_Details]) -> None:
        with self._lock:
            for d in details:
                self._details[d.version.id] = d
                self._members.setdefault(d.version.collection_ref, {})[d.version.id] = None
        if self._cache is not None:
            self._cache.put_versions(d.version for d in details)

    def _fresh(self, version_id: str) -> _Details | None:
        with self._lock:
            d = self._details.get(version_id)
        if d is not None and time.monotonic() - d.fetched_at <= self._listing_max_age:
            return d
        return None

    def _forget(self, version_ids: Iterable[str]) -> None:
        with self._lock:
            for vid in version_ids:
                self._details.pop(vid, None)

    @_mapped("forget cached artifact facts")
    def invalidate(self, version_ids: Iterable[str]) -> None:
        """Forget the mutable facts (aliases, consumers, links, run states) last read for these versions.

        The executor calls this before re-validating a version, so its check
        never rests on a listing up to ``listing_max_age`` seconds old.
        Immutable facts (manifests) stay cached. The protected aliases of the
        registry entities these versions are linked into are forgotten too
        (re-read with the version: one request, and only for linked versions).
        """
        ids = list(version_ids)
        with self._lock:
            for vid in ids:
                d = self._details.get(vid)
                for link in d.links if d is not None else ():
                    self._protected.pop(link.portfolio.entity, None)
        self._forget(ids)

    def _complete(self, parsed: list[_Parsed], doing: str) -> list[_Details]:
        """Fetch the remaining pages of consumers for versions used by more runs than one page holds."""
        out = []
        for p in parsed:
            cursor = p.more_consumers
            consumers = list(p.details.lineage.consumers)
            while cursor:
                data = self._gql(MORE_CONSUMERS, {"id": p.details.version.id, "cursor": cursor}, doing)
                used = _get(data, "artifact", "usedBy", what=doing)
                consumers.extend(_run(_get(e, "node", what=doing), doing) for e in used.get("edges") or [])
                cursor = (
                    _opt(used, "pageInfo", "endCursor") if _opt(used, "pageInfo", "hasNextPage") else None
                )
            if p.more_consumers:
                d = p.details
                p.details = _Details(
                    d.version, Lineage(d.lineage.producer, tuple(consumers)), d.links, d.fetched_at
                )
            cursor = p.more_links
            links = list(p.details.links)
            vid = p.details.version.id
            while cursor:
                # A version linked into more collections than one page holds: every link counts.
                data = self._gql(MORE_MEMBERSHIPS, {"id": vid, "cursor": cursor}, doing)
                page = _get(data, "artifact", "artifactMemberships", what=doing)
                links.extend(_parse_links(page, vid, doing))
                cursor = (
                    _opt(page, "pageInfo", "endCursor") if _opt(page, "pageInfo", "hasNextPage") else None
                )
            if p.more_links:
                d = p.details
                p.details = _Details(d.version, d.lineage, tuple(links), d.fetched_at)
            out.append(p.details)
        return self._protect(out, doing)

    def _protect(self, details: list[_Details], doing: str) -> list[_Details]:
        """Mark each link's protected aliases: those its registry's entity protects.

        W&B protects aliases per entity (``Entity.protectedAliases(adminType:
        MODEL)``): read once per entity, for every entity the links point
        into that was not read within ``listing_max_age`` (a plan's listing
        starts afresh), in one request.
        """
        entities = sorted({lk.portfolio.entity for d in details for lk in d.links})
        if not entities:
            return details
        now = time.monotonic()
        with self._lock:
            stale = [
                e
                for e in entities
                if e not in self._protected or now - self._protected[e][1] > self._listing_max_age
            ]
        if stale:
            data = self._gql(
                _protected_aliases_document(len(stale)), {f"e{i}": e for i, e in enumerate(stale)}, doing
            )
            with self._lock:
                for i, e in enumerate(stale):
                    found = _opt(data, f"e{i}", "protectedAliases")
                    aliases = frozenset(a for a in found or () if isinstance(a, str))
                    self._protected[e] = (aliases, now)
        with self._lock:
            guarded = {e: self._protected[e][0] for e in entities}
        out = []
        for d in details:
            if not d.links:
                out.append(d)
                continue
            links = tuple(
                replace(lk, protected_aliases=lk.aliases & guarded[lk.portfolio.entity]) for lk in d.links
            )
            out.append(_Details(d.version, d.lineage, links, d.fetched_at))
        return out

    def _learn_features(self, data: Any) -> None:
        """Keep the features a listing's answer carried (``serverInfo``): no separate request later."""
        found = _opt(data, "serverInfo", "features")
        if not isinstance(found, list):
            return
        features = frozenset(str(f.get("name")) for f in found if isinstance(f, dict) and f.get("isEnabled"))
        with self._features_lock:
            if self._server_features is None:
                self._server_features = features

    def _features(self) -> frozenset[str]:
        """The features this server enables: from a listing, else asked once (``ServerFeaturesQuery``)."""
        # Held while asking: concurrent collection deletes (the executor's threads) ask once, not each.
        with self._features_lock:
            known = self._server_features
            if known is not None:
                return known
            data = self._gql(SERVER_FEATURES, {}, "read the server's features")
            features = frozenset(
                str(f.get("name"))
                for f in _opt(data, "serverInfo", "features") or []
                if isinstance(f, dict) and f.get("isEnabled")
            )
            self._server_features = features
            return features

    # ------------------------------------------------------------------ reads

    @_mapped("list artifact versions")
    def versions(self, scope: Scope) -> Iterator[Version]:
        """Every surviving version of every source collection in ``scope``, in one paginated listing."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        doing = f"list the artifact versions of {sc}"
        found: list[_Details] = []
        cursor: str | None = None
        with self._lock:
            self._protected.clear()  # a listing starts a plan: read every registry's protection afresh
            self._handoff.clear()
            self._missing.clear()
        while True:
            now = time.monotonic()
            data = self._gql(
                LIST_VERSIONS,
                {
                    "entity": sc.entity,
                    "project": sc.project,
                    "cursor": cursor,
                    "perPage": self._collections_per_page,
                    "versionsPerPage": self._page_size,
                },
                doing,
            )
            self._learn_features(data)
            project = data.get("project")
            if project is None:
                raise NotFoundError(
                    f"project {sc} not found at {self.base_url} (or not visible with these credentials)"
                )
            conn = _get(project, "artifactCollections", what=doing)
            for edge in conn.get("edges") or []:
                node = _get(edge, "node", what=doing)
                if node.get("__typename") != "ArtifactSequence":
                    continue  # registry portfolios hold links, not versions
                if isinstance(node.get("id"), str):
                    ref = CollectionRef(sc.entity, sc.project, _get(node, "name", what=doing))
                    with self._lock:
                        self._collection_ids[ref] = node["id"]
                arts = node.get("artifacts") or {}
                parsed = [_parse_version(_get(e, "node", what=doing), now) for e in arts.get("edges") or []]
                more = _opt(arts, "pageInfo", "endCursor") if _opt(arts, "pageInfo", "hasNextPage") else None
                while more:
                    page = self._gql(
                        COLLECTION_VERSIONS,
                        {
                            "entity": sc.entity,
                            "project": sc.project,
                            "type": _get(node, "defaultArtifactType", "name", what=doing),
                            "collection": _get(node, "name", what=doing),
                            "cursor": more,
                            "perPage": self._page_size,
                        },
                        doing,
                    )
                    arts = _get(
                        page, "project", "artifactType", "artifactCollection", "artifacts", what=doing
                    )
                    parsed.extend(
                        _parse_version(_get(e, "node", what=doing), now) for e in arts.get("edges") or []
                    )
                    more = (
                        _opt(arts, "pageInfo", "endCursor") if _opt(arts, "pageInfo", "hasNextPage") else None
                    )
                found.extend(
                    d for d in self._complete(parsed, doing) if d.version.state is not VersionState.DELETED
                )
                self._tell("versions", len(parsed))
            if not _opt(conn, "pageInfo", "hasNextPage"):
                break
            cursor = _opt(conn, "pageInfo", "endCursor")
            if not cursor:
                break
        self._remember(found)
        return iter([d.version for d in found])

    def _details_of(self, version_id: str, *, reread: bool = False) -> _Details:
        fresh = None if reread else self._fresh(version_id)
        if fresh is not None:
            return fresh
        doing = f"read artifact version {version_id}"
        data = self._gql(VERSION_BY_ID, {"id": version_id}, doing)
        node = data.get("artifact")
        if node is None:
            raise NotFoundError(f"artifact version {version_id!r} not found at {self.base_url}")
        (details,) = self._complete([_parse_version(node, time.monotonic())], doing)
        self._remember([details])
        return details

    @_mapped("read an artifact version")
    def version(self, version_id: str) -> Version:
        """Re-read one version (deleted ones included): always asks W&B.

        The same request re-reads its lineage and links, which :meth:`lineage`
        and :meth:`links` then answer from: the executor's re-validation
        (version, then lineage and links) costs one request and sees one
        consistent state.
        """
        return self._details_of(version_id, reread=True).version

    @_mapped("re-read artifact versions")
    def versions_by_id(self, version_ids: Sequence[str]) -> dict[str, Version]:
        """Re-read many versions (deleted ones included), up to 50 per request; always asks W&B.

        The executor's batch re-validation: one aliased multi-id query per 50
        versions refreshes each version with its lineage and links, which
        :meth:`lineage` and :meth:`links` then answer from. Ids W&B does not
        know are absent from the result.
        """
        out: dict[str, Version] = {}
        ids = list(dict.fromkeys(version_ids))
        for start in range(0, len(ids), _MANIFEST_BATCH):
            chunk = ids[start : start + _MANIFEST_BATCH]
            doing = f"re-read {len(chunk)} artifact version(s)"
            data = self._gql(
                _versions_by_id_document(len(chunk)), {f"i{i}": vid for i, vid in enumerate(chunk)}, doing
            )
            now = time.monotonic()
            parsed = [_parse_version(node, now) for i in range(len(chunk)) if (node := data.get(f"a{i}"))]
            details = self._complete(parsed, doing)
            self._remember(details)
            out.update((d.version.id, d.version) for d in details)
        return out

    @_mapped("read the clock")
    def now(self) -> datetime:
        """W&B's clock: the wall clock, in UTC (W&B stamps versions in UTC)."""
        return datetime.now(UTC)

    @_mapped("read an artifact's lineage")
    def lineage(self, version_id: str) -> Lineage:
        """The run that logged the version and the runs that used it."""
        return self._details_of(version_id).lineage

    @_mapped("read an artifact's registry links")
    def links(self, version_id: str) -> tuple[Link, ...]:
        """The registry links whose source is this version, with the aliases their registry protects."""
        return self._details_of(version_id).links

    @_mapped("read an artifact manifest")
    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        """The files of one version: from memory when fetched before (a COMMITTED one is kept for good,
        a PENDING one fetched ahead by :meth:`prefetch_manifests` is handed out once), else fetched
        with its collection's other versions."""
        entries = self._take(version_id)
        if entries is not None:
            return entries
        with self._lock:
            gone = version_id in self._missing
            self._missing.discard(version_id)  # told once: a later read asks W&B again
        if not gone:
            found = self._fetch_manifests([version_id, *self._siblings(version_id)], want=(version_id,))
            entries = found.get(version_id)
        if entries is None:
            raise NotFoundError(f"artifact version {version_id!r} has no manifest at {self.base_url}")
        return entries

    def _take(self, version_id: str) -> tuple[ManifestEntry, ...] | None:
        with self._lock:
            known = self._manifests.get(version_id)
            return known if known is not None else self._handoff.pop(version_id, None)

    def _siblings(self, version_id: str) -> list[str]:
        """Versions the planner reads together with ``version_id``: the rest of its collection."""
        with self._lock:
            d = self._details.get(version_id)
            if d is None:
                return []
            skip = (self._manifests, self._inflight, self._handoff, self._missing)
            return [
                vid
                for vid in self._members.get(d.version.collection_ref, {})
                if vid in self._details and not any(vid in known for known in skip)
            ][:_PREFETCH_LIMIT]

    @_mapped("read artifact manifests")
    def prefetch_manifests(self, version_ids: Iterable[str]) -> None:
        """Fetch the manifests of many versions ahead of :meth:`manifest`, which then answers from memory.

        One pipeline for any number of versions, whatever collections they are in: the cache first,
        then URL look-ups of 50 versions per request, one after another (the API is rate-limited),
        while the downloads run on the pool (storage is not). Memory stays bounded by the pipeline's
        window, not the number of versions (beyond the manifests themselves). A COMMITTED manifest is
        kept (memory and cache); a PENDING one (still uploading, so never cached) is handed to the
        next :meth:`manifest` read of it, once, until the next listing. A version W&B no longer knows
        is not an error here: :meth:`manifest` names it. A failed look-up or download raises the
        artifact-guard error, as :meth:`manifest` would.
        """
        self._fetch_manifests(version_ids, want=())

    def _fetch_manifests(
        self, version_ids: Iterable[str], *, want: Collection[str], share: bool = True
    ) -> dict[str, tuple[ManifestEntry, ...]]:
        """Fetch ``version_ids``; return the manifests of those in ``want`` that exist.

        Threads asking at once share the work: a version another thread is already fetching is
        not fetched twice: if it is wanted, it is waited for, else left to that thread. Without
        ``share`` (a second try after such a wait came back empty), everything is fetched here.
        """
        run = _ManifestRun(self, want, claim=share)
        try:
            ids = iter(version_ids)
            while chunk := list(itertools.islice(ids, _PREFETCH_WINDOW)):
                run.feed(chunk)
            run.finish()
        finally:
            run.close()
        found = run.found
        late = []
        for vid, done in run.waiting:
            done.wait(timeout=4 * self._timeout)
            entries = self._take(vid)
            if entries is not None:
                found[vid] = entries
            else:
                late.append(vid)  # PENDING (never kept for another reader), or the other thread failed
        if late:
            found.update(self._fetch_manifests(late, want=late, share=False))
        return found

    # ------------------------------------------------------------------ writes

    @_mapped("delete an artifact version")
    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        """Soft-delete a version (the SDK's own ``DeleteArtifact`` mutation)."""
        from wandb.sdk.artifacts._generated.operations import DELETE_ARTIFACT_GQL

        doing = f"delete artifact version {version_id}"
        try:
            self._gql(
                DELETE_ARTIFACT_GQL,
                {"input": {"artifactID": version_id, "deleteAliases": bool(delete_aliases)}},
                doing,
            )
        finally:
            self._forget([version_id])

    @_mapped("look up an artifact collection")
    def collection_exists(self, collection: CollectionRef) -> bool:
        """Whether a source collection exists, emptied ones included (W&B keeps them): one query."""
        doing = f"look up artifact collection {collection}"
        data = self._gql(
            COLLECTION_BY_NAME,
            {
                "entity": collection.entity,
                "project": collection.project,
                "filters": json.dumps({"name": collection.name}),
            },
            doing,
        )
        return any(
            _opt(e, "node", "name") == collection.name
            and _opt(e, "node", "__typename") != "ArtifactPortfolio"
            for e in _opt(data, "project", "artifactCollections", "edges") or []
        )

    @_mapped("delete an artifact collection")
    def delete_collection(self, collection: CollectionRef) -> None:
        """Delete every version of a sequence, or every link of a registry portfolio."""
        from wandb.sdk.artifacts._generated.operations import (
            DELETE_ARTIFACT_PORTFOLIO_GQL,
            DELETE_ARTIFACT_SEQUENCE_GQL,
        )

        doing = f"delete artifact collection {collection}"
        with self._lock:
            listed = self._collection_ids.get(collection)
        if listed is not None:
            document, collection_id = DELETE_ARTIFACT_SEQUENCE_GQL, listed
        else:
            nodes = self._find_collection(collection, doing)
            if not nodes:
                raise NotFoundError(f"artifact collection {collection} not found at {self.base_url}")
            node = nodes[0]
            document = (
                DELETE_ARTIFACT_PORTFOLIO_GQL
                if node.get("__typename") == "ArtifactPortfolio"
                else DELETE_ARTIFACT_SEQUENCE_GQL
            )
            collection_id = _get(node, "id", what=doing)
        try:
            self._gql(document, {"id": collection_id}, doing)
        finally:
            with self._lock:
                gone = list(self._members.get(collection, {}))
                self._collection_ids.pop(collection, None)
            self._forget(gone)

    def _find_collection(self, collection: CollectionRef, doing: str) -> list[Any]:
        """The collection's node(s) by name: filtered where the server can filter, else paged through."""
        where = {"entity": collection.entity, "project": collection.project}
        if FILTERING_SORTING in self._features():
            data = self._gql(
                COLLECTION_BY_NAME, {**where, "filters": json.dumps({"name": collection.name})}, doing
            )
            pages = [data]
        else:
            # As the SDK does for such servers: no ``filters`` (their schema lacks it); page to the name.
            pages, cursor = [], None
            while True:
                data = self._gql(COLLECTIONS_UNFILTERED, {**where, "cursor": cursor}, doing)
                pages.append(data)
                conn = _opt(data, "project", "artifactCollections") or {}
                if any(_opt(e, "node", "name") == collection.name for e in conn.get("edges") or []):
                    break
                cursor = (
                    _opt(conn, "pageInfo", "endCursor") if _opt(conn, "pageInfo", "hasNextPage") else None
                )
                if not cursor:
                    break
        if pages[0].get("project") is None:
            raise NotFoundError(f"project {collection.scope} not found at {self.base_url}")
        return [
            _get(e, "node", what=doing)
            for data in pages
            for e in _opt(data, "project", "artifactCollections", "edges") or []
            if _opt(e, "node", "name") == collection.name
        ]

    @_mapped("remove aliases")
    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        """Remove aliases from a version (the SDK's own ``DeleteAliases`` mutation)."""
        from wandb.sdk.artifacts._generated.operations import DELETE_ALIASES_GQL

        names = sorted(set(aliases))
        if not names:
            return
        v = self.version(version_id)
        if v.state is VersionState.DELETED:
            raise NotFoundError(f"artifact version {v.qualified_name} was deleted")
        items = [
            {
                "alias": a,
                "artifactCollectionName": v.collection,
                "entityName": v.entity,
                "projectName": v.project,
            }
            for a in names
        ]
        try:
            self._gql(
                DELETE_ALIASES_GQL,
                {"input": {"artifactID": version_id, "aliases": items}},
                f"remove aliases {names} from {v.qualified_name}",
            )
        finally:
            self._forget([version_id])

    # ------------------------------------------------------------------ extras

    @_mapped("check a project")
    def check_scope(self, scope: Scope | str) -> Scope:
        """Parse and look up ``entity/project``; :class:`NotFoundError` names a malformed or unknown one."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        data = self._gql(
            PROJECT_EXISTS, {"entity": sc.entity, "project": sc.project}, f"look up project {sc}"
        )
        if data.get("project") is None:
            raise NotFoundError(
                f"project {sc} not found at {self.base_url} (or not visible with these credentials)"
            )
        return sc

    @property
    def cache(self) -> MetadataCache | None:
        """The metadata cache in use, if any."""
        return self._cache


class _ManifestRun:
    """One fetch of many manifests, pipelined.

    URL look-ups run on the calling thread, 50 versions per request and one after another (the API
    is rate-limited); each download starts on the pool as soon as its URL is known (storage is not
    rate-limited), so the look-ups of the next versions overlap the downloads of the previous ones,
    across collections. A finished download is stored and its claim released at once (a thread
    waiting for one version waits for that one only). At most ``_MAX_QUEUED`` downloads wait for the
    pool and ``_CACHE_BATCH`` for the cache: memory stays flat whatever the number of versions.
    """

    def __init__(self, repo: WandbRepository, want: Collection[str], *, claim: bool) -> None:
        self._repo = repo
        self._want = frozenset(want)
        self._claim = claim
        self.found: dict[str, tuple[ManifestEntry, ...]] = {}
        """Manifests of wanted versions, PENDING ones included."""
        self.waiting: list[tuple[str, threading.Event]] = []
        """Wanted versions another thread was already fetching."""
        self._claims: dict[str, threading.Event] = {}
        self._queued: set[Future[tuple[str, str, tuple[ManifestEntry, ...]]]] = set()
        self._to_cache: dict[str, tuple[ManifestEntry, ...]] = {}
        self._pool = ThreadPoolExecutor(max_workers=repo._max_workers, thread_name_prefix="ag-manifest")

    def feed(self, version_ids: list[str]) -> None:
        """Claim, read from the cache, look up and start downloading these versions."""
        repo, want = self._repo, self._want
        mine: list[str] = []
        with repo._lock:
            for vid in dict.fromkeys(version_ids):
                known = repo._manifests.get(vid)
                if known is None and vid in want:
                    known = repo._handoff.pop(vid, None)
                if known is not None:
                    if vid in want:
                        self.found[vid] = known
                    continue
                if vid not in want and (vid in repo._handoff or vid in repo._missing):
                    continue  # fetched ahead already, since the last listing
                theirs = repo._inflight.get(vid)
                if theirs is not None and vid not in self._claims:
                    if not self._claim:
                        mine.append(vid)  # the other thread failed us once: fetch it ourselves
                    elif vid in want:
                        self.waiting.append((vid, theirs))
                    continue
                if vid in self._claims:
                    continue  # given twice
                if self._claim:
                    repo._inflight[vid] = self._claims[vid] = threading.Event()
                mine.append(vid)
        cache = repo._cache
        if cache is not None and mine:
            cached = cache.manifests(mine)
            if cached:
                with repo._lock:
                    repo._manifests.update(cached)
                    for vid in cached:
                        self._release(vid)
                self.found.update((vid, e) for vid, e in cached.items() if vid in want)
                repo._tell("manifests", len(cached))
                mine = [vid for vid in mine if vid not in cached]
        for start in range(0, len(mine), _MANIFEST_BATCH):
            chunk = mine[start : start + _MANIFEST_BATCH]
            doing = f"find the manifests of {len(chunk)} artifact version(s)"
            data = repo._gql(
                _manifest_urls_document(len(chunk)), {f"i{i}": vid for i, vid in enumerate(chunk)}, doing
            )
            for i, vid in enumerate(chunk):
                node = data.get(f"a{i}")
                url = _opt(node, "currentManifest", "file", "directUrl")
                if node is None or not isinstance(url, str):
                    # Unknown here (deleted since the listing): manifest() names it when asked.
                    with repo._lock:
                        if vid not in want:
                            repo._missing.add(vid)
                        self._release(vid)
                    continue
                state = str(node.get("state") or "")
                self._queued.add(self._pool.submit(self._download, vid, state, url))
            self._collect(until=_MAX_QUEUED)

    def finish(self) -> None:
        """Wait for every download (raising the first failure) and write the cache."""
        self._collect(until=0)
        self._flush()

    def close(self) -> None:
        """Cancel what has not started, wait for what has, and release every claim still held."""
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            with self._repo._lock:
                for vid in list(self._claims):
                    self._release(vid)

    def _download(self, vid: str, state: str, url: str) -> tuple[str, str, tuple[ManifestEntry, ...]]:
        """On a pool thread: GET one manifest, keep it, release its claim."""
        repo = self._repo
        entries = _parse_manifest(repo._download_json(url, f"download the manifest of {vid}"), vid)
        with repo._lock:
            if state == VersionState.COMMITTED.value:
                repo._manifests[vid] = entries
            elif vid not in self._want:
                repo._handoff[vid] = entries  # may still change: for the next reader only
            self._release(vid)
        repo._tell("manifests", 1)
        return vid, state, entries

    def _release(self, vid: str) -> None:
        """Give up this run's claim on ``vid`` (the caller holds the repository's lock)."""
        mine = self._claims.pop(vid, None)
        if mine is not None:
            if self._repo._inflight.get(vid) is mine:
                del self._repo._inflight[vid]
            mine.set()

    def _collect(self, *, until: int) -> None:
        """Take finished downloads, raising the first failure, until at most ``until`` are queued."""
        while self._queued:
            done = {f for f in self._queued if f.done()}
            if not done:
                if len(self._queued) <= until:
                    return
                done, _ = wait(self._queued, return_when=FIRST_COMPLETED)
            self._queued -= done
            for f in done:
                vid, state, entries = f.result()
                if state == VersionState.COMMITTED.value:
                    self._to_cache[vid] = entries
                if vid in self._want:
                    self.found[vid] = entries
            if len(self._to_cache) >= _CACHE_BATCH:
                self._flush()

    def _flush(self) -> None:
        cache = self._repo._cache
        if cache is not None and self._to_cache:
            cache.put_manifests(self._to_cache, now=datetime.now(UTC))
        self._to_cache = {}
