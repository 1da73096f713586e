"""The loopback HTTP server: W&B's ``/graphql``, manifest downloads, and the ``/_fake`` control surface.

Routes:

- ``POST /graphql``: W&B GraphQL (needs the server's API key, HTTP Basic ``api:<key>``
  as the SDK sends it, or ``Bearer <key>``); a wrong or missing key gets HTTP 401.
- ``GET /artifactsV2/manifests/<id>/wandb_manifest.json``: a version's manifest
  (the ``directUrl`` the GraphQL layer hands out; presigned in W&B, so no key).
- ``POST /_fake/reset``, ``/_fake/seed``, ``/_fake/faults``; ``GET /_fake/requests``,
  ``GET /_fake/faults``: the control surface for tests. Like moto's, it needs no key
  (the server is loopback-only); a request that does send a key must send the right one.
- The write path (:mod:`._http_write`): ``POST /files/<entity>/<project>/<run>/file_stream``,
  ``PUT /_storage/...`` uploads, ``GET /artifactsV2/...`` file bytes.
- SDK telemetry (``POST /telemetry``, ``/analytics``, ...) is accepted and ignored.

Handlers set ``disable_nagle_algorithm``: without it every small response
waits ~40 ms for the peer's delayed ACK.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hmac
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from artifact_guard._errors import ArtifactGuardError, NotFoundError

from .._backend import FakeWandb
from ._faults import FaultRule, Faults
from ._graphql import operation_name, run_graphql
from ._handlers import Context, Pagination, decode_id, manifest_json
from ._http_write import download, file_stream, is_download, is_file_stream, put

__all__ = ["FakeWandbServer", "RequestRecord"]

_STATUS_OF_CODE = {
    "GRAPHQL_VALIDATION_FAILED": 400,
    "BAD_USER_INPUT": 400,
    "PERMISSION_ERROR": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
}


def _error_status(body: dict[str, Any]) -> int:
    """The HTTP status a server answering GraphQL errors with statuses would send (first error wins)."""
    errors = body.get("errors") or [{}]
    code = ((errors[0].get("extensions") or {}).get("code")) if isinstance(errors[0], dict) else None
    return _STATUS_OF_CODE.get(str(code), 500)


_TELEMETRY_PATHS = (
    "/telemetry",
    "/analytics",
    "/api/telemetry",
    "/sentry",
    "/sdk/otel/v1/metrics",  # wandb-core exports its own metrics every minute or so
    "/sdk/otel/v1/logs",
)
_MANIFEST_PREFIX = "/artifactsV2/manifests/"
_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered, as the request log keeps it.

    ``operation`` is the GraphQL operation name (parsed from the document when
    the client left ``operationName`` empty), or the route for other requests
    (``"GET manifest"``, ``"POST /_fake/reset"``, ...).
    """

    operation: str
    variables: dict[str, Any]
    status: int
    path: str
    method: str = "POST"
    project: str | None = None
    errors: tuple[str, ...] = ()
    duration_ms: float = 0.0
    fault: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = list(self.errors)
        return out


@dataclass
class _State:
    ctx: Context
    api_key: str
    faults: Faults
    log: list[RequestRecord] = field(default_factory=list)
    log_lock: threading.Lock = field(default_factory=threading.Lock)


def _project_of(fake: FakeWandb, variables: Mapping[str, Any]) -> str | None:
    """The ``entity/project`` a request concerns, for per-project rate limits."""
    found: list[Mapping[str, Any]] = [variables]
    inner = variables.get("input")
    if isinstance(inner, Mapping):
        found.append(inner)
    for scope in found:
        entity = scope.get("entity") or scope.get("entityName")
        project = scope.get("project") or scope.get("projectName")
        if isinstance(entity, str) and isinstance(project, str):
            return f"{entity}/{project}"
    for scope in found:
        for key in ("id", "artifactID", "artifactId", "artifactSequenceID", "artifactPortfolioID"):
            value = scope.get(key)
            if isinstance(value, str):
                decoded = decode_id(value)
                if decoded is None:
                    continue
                try:
                    if decoded[0] == "Artifact":
                        return str(fake.version(value).scope)
                    if decoded[0] in ("ArtifactSequence", "ArtifactPortfolio"):
                        return str(fake.collection_by_id(value).ref.scope)
                    if decoded[0] == "Run":
                        return decoded[1].rsplit("/", 1)[0]
                except NotFoundError:
                    return None
    # Batched look-ups name their ids as $i0, $i1, ... (one aliased field each): the first says the project.
    for key, value in variables.items():
        if key[:1] == "i" and key[1:].isdigit() and isinstance(value, str):
            decoded = decode_id(value)
            if decoded is not None and decoded[0] == "Artifact":
                try:
                    return str(fake.version(value).scope)
                except NotFoundError:
                    continue
    return None


class _BadRequestError(Exception):
    """The request itself is malformed (headers, framing)."""


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Buffered: the response leaves in one write when the handler returns, i.e. after the
    # request is logged, so a client that reads the log right after its answer sees the entry.
    wbufsize = -1
    server_version = "fake-wandb/1"
    _raw: bytes | None = None
    sys_version = ""

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # Quiet: the request log is the record; stderr noise would drown test output.
        return

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        """The request body, read once (later calls return it again)."""
        if self._raw is None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise _BadRequestError("Content-Length is not a number") from None
            if not 0 <= length <= _MAX_BODY:
                raise _BadRequestError(f"Content-Length must be between 0 and {_MAX_BODY}")
            self._raw = self.rfile.read(length) if length else b""
        return self._raw

    def _read_json(self) -> Any:
        raw = self._body()
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        try:
            return json.loads(raw) if raw else {}
        except RecursionError:
            raise ValueError("nested too deeply") from None

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        key = self.server.state.api_key
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user_pass = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            given = user_pass.partition(":")[2]
        elif scheme.lower() == "bearer":
            given = value.strip()
        else:
            return False
        return hmac.compare_digest(given.encode(), key.encode())

    def _control_allowed(self) -> bool:
        return "Authorization" not in self.headers or self._authorized()

    def _record(self, record: RequestRecord) -> None:
        state = self.server.state
        with state.log_lock:
            state.log.append(record)

    def _unauthorized(self, started: float, operation: str) -> None:
        # What W&B answers for a bad key: HTTP 401 with this JSON body (as seen in wandb's issues).
        body = {
            "errors": [{"message": "user is not logged in", "extensions": {"code": "PERMISSION_ERROR"}}],
            "data": None,
        }
        self._send(401, body, {"WWW-Authenticate": 'Basic realm="wandb"'})
        self._record(
            RequestRecord(
                operation, {}, 401, self.path, self.command, duration_ms=(time.perf_counter() - started) * 1e3
            )
        )

    # ------------------------------------------------------------------ routes

    def do_POST(self) -> None:
        self._guarded(self._post)

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_PUT(self) -> None:
        self._guarded(self._put)

    def _put(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        if path.startswith("/_storage/"):
            put(self, path, started)
        else:
            self.close_connection = True
            self._send(404, {"errors": [{"message": f"no such route: PUT {path}"}]})
            self._record(RequestRecord(f"PUT {path}", {}, 404, path, "PUT"))

    def _guarded(self, route: Callable[[], None]) -> None:
        # Bad input gets a one-line 400; a bug in the fake a one-line 500; never a traceback.
        self._raw = None
        try:
            route()
        except _BadRequestError as e:
            self.close_connection = True
            self._send(400, {"errors": [{"message": str(e)}]})
            self._record(RequestRecord("malformed", {}, 400, self.path, self.command, errors=(str(e),)))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # the last line of defence, reported to the client
            message = f"internal error in the fake server: {type(e).__name__}: {e}"
            self.close_connection = True
            self._send(500, {"errors": [{"message": message}]})
            self._record(RequestRecord("internal-error", {}, 500, self.path, self.command, errors=(message,)))

    def _post(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        if path in ("/graphql", "/api/graphql"):
            self._graphql(started)
        elif path.startswith("/_fake/"):
            self._control(started, path)
        elif is_file_stream(path):
            file_stream(self, path, started)
        elif path in _TELEMETRY_PATHS:
            self._body()
            self._send(200, {})
            self._record(RequestRecord("telemetry", {}, 200, path, "POST"))
        else:
            self._body()
            self._send(404, {"errors": [{"message": f"no such route: POST {path}"}]})
            self._record(RequestRecord(f"POST {path}", {}, 404, path, "POST"))

    def _get(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        if path.startswith(_MANIFEST_PREFIX):
            self._manifest(started, path)
        elif path in ("/_fake/requests", "/_fake/faults"):
            if not self._control_allowed():
                self._unauthorized(started, f"GET {path}")
                return
            state = self.server.state
            if path == "/_fake/requests":
                with state.log_lock:
                    body: Any = [r.to_json() for r in state.log]
            else:
                body = state.faults.to_json()
            self._send(200, body)
        elif path.startswith("/_fake/"):
            self._send(405, {"errors": [{"message": f"{path} is POST-only"}]}, {"Allow": "POST"})
        elif is_download(path):
            download(self, path, started)
        elif path in ("/", "/healthz"):
            self._send(200, {"status": "ok", "fake": True})
        else:
            self._send(404, {"errors": [{"message": f"no such route: GET {path}"}]})
            self._record(RequestRecord(f"GET {path}", {}, 404, path, "GET"))

    def _graphql(self, started: float) -> None:
        state = self.server.state
        try:
            payload = self._read_json()
        except (ValueError, OSError) as e:
            message = f"request body is not valid JSON: {e}"
            self._send(400, {"errors": [{"message": message}]})
            self._record(RequestRecord("malformed", {}, 400, self.path, errors=(message,)))
            return
        if not self._authorized():
            self._unauthorized(started, "unauthenticated")
            return
        variables = payload.get("variables") if isinstance(payload, dict) else None
        variables = variables if isinstance(variables, dict) else {}
        query = payload.get("query") if isinstance(payload, dict) else None
        name = operation_name(query, payload.get("operationName")) if isinstance(query, str) else "malformed"
        project = _project_of(state.ctx.fake, variables)
        decision = state.faults.decide(name, project)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.status is not None:
            message = {429: "rate limit exceeded"}.get(decision.status, "injected server error")
            self._send(decision.status, {"errors": [{"message": message}]}, decision.headers)
            self._record(
                RequestRecord(
                    name,
                    variables,
                    decision.status,
                    self.path,
                    project=project,
                    errors=(message,),
                    duration_ms=(time.perf_counter() - started) * 1e3,
                    fault=decision.reason,
                )
            )
            return
        outcome = run_graphql(state.ctx, payload)
        status = 200
        if outcome.errors and self.server.owner.graphql_errors == "status":
            status = _error_status(outcome.body)
        self._send(status, outcome.body, decision.headers)
        self._record(
            RequestRecord(
                outcome.operation,
                variables,
                status,
                self.path,
                project=project,
                errors=outcome.errors,
                duration_ms=(time.perf_counter() - started) * 1e3,
            )
        )

    def _manifest(self, started: float, path: str) -> None:
        state = self.server.state
        vid = path[len(_MANIFEST_PREFIX) :].split("/", 1)[0]
        latency = state.faults.storage_latency("GET manifest")
        if latency:
            time.sleep(latency)
        try:
            body = manifest_json(state.ctx.fake, vid)
            status = 200
        except NotFoundError as e:
            body, status = {"errors": [{"message": str(e)}]}, 404
        self._send(status, body)
        self._record(
            RequestRecord(
                "GET manifest",
                {"id": vid},
                status,
                path,
                "GET",
                duration_ms=(time.perf_counter() - started) * 1e3,
            )
        )

    def _control(self, started: float, path: str) -> None:
        state = self.server.state
        if not self._control_allowed():
            self._body()
            self._unauthorized(started, f"POST {path}")
            return
        try:
            payload = self._read_json()
            if not isinstance(payload, dict):
                raise ValueError("body must be a JSON object")
            if path == "/_fake/reset":
                self.server.owner.reset()
                body: Any = {"ok": True}
            elif path == "/_fake/seed":
                self.server.owner.seed(payload)
                body = {"ok": True, "versions": len(state.ctx.fake.versions())}
            elif path == "/_fake/faults":
                self.server.owner.configure_faults(payload)
                body = state.faults.to_json()
            else:
                self._send(404, {"errors": [{"message": f"no such control endpoint {path}"}]})
                return
            status = 200
        except (ValueError, TypeError, KeyError, OSError) as e:
            body, status = {"errors": [{"message": f"{path}: {e}"}]}, 400
        self._send(status, body)
        if path != "/_fake/reset":
            self._record(RequestRecord(f"POST {path}", {}, status, path, "POST"))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, state: _State, owner: FakeWandbServer) -> None:
        self.state = state
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class FakeWandbServer:
    """A loopback HTTP server speaking W&B's GraphQL over a :class:`fakes.FakeWandb`.

    Usage::

        fake = fakes.FakeWandb()
        with fakes.FakeWandbServer(fake) as server:
            subprocess.run([...], env={**os.environ, **server.env()}, timeout=60)
            print(server.requests)

    ``pagination`` picks the cursor style of every listing: ``"stable"`` (the
    cursor names the last item seen; default) or ``"offset"`` (a numeric
    offset, so deleting while paginating skips items). ``entity`` and
    ``project`` go into :meth:`env` as ``WANDB_ENTITY``/``WANDB_PROJECT``.
    ``xxhash_digests`` tells the SDK that XXH128 manifest digests are enabled
    (default: MD5, what the SDK then uses); dedupe keys follow the digests sent.
    ``storage_regions``: the regions an artifact may name (default: any); another
    one is refused at ``CreateArtifact``, as W&B refuses a region it does not have.
    """

    def __init__(
        self,
        fake: FakeWandb | None = None,
        *,
        pagination: Pagination = "stable",
        api_key: str | None = None,
        entity: str | None = None,
        project: str | None = None,
        fault_seed: int = 0,
        features: Iterable[str] | None = None,
        graphql_errors: str = "200",
        xxhash_digests: bool = False,
        storage_regions: Iterable[str] | None = None,
    ) -> None:
        if pagination not in ("stable", "offset"):
            raise ValueError(f"pagination must be 'stable' or 'offset', not {pagination!r}")
        if api_key is not None and len(api_key) < 40:
            raise ValueError("the wandb SDK needs an API key of at least 40 characters")
        self.fake = fake if fake is not None else FakeWandb()
        self.pagination: Pagination = pagination
        self.api_key = api_key or f"fake-{secrets.token_hex(24)}"
        self.entity = entity
        self.project = project
        self.faults = Faults(seed=fault_seed)
        if graphql_errors not in ("200", "status"):
            raise ValueError(f"graphql_errors must be '200' or 'status', not {graphql_errors!r}")
        self.graphql_errors = graphql_errors
        """How an answer carrying GraphQL errors is sent: ``"200"`` (HTTP 200 with ``errors``, the
        default) or ``"status"`` (the status of its first error's code: 400, 403, 404, 409 or 500)."""
        self.features = frozenset(features) if features is not None else None
        """Server features to report enabled (None: all the fake models); see ``Context.features``."""
        self.xxhash_digests = xxhash_digests
        self.storage_regions = frozenset(storage_regions) if storage_regions is not None else None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: str | None = None
        self._state: _State | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeWandbServer:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        if self._httpd is not None:
            return self
        ctx = Context(self.fake, base_url="", pagination=self.pagination)
        if self.features is not None:
            ctx.features = self.features
        if self.entity:
            ctx.default_entity = self.entity
        ctx.xxhash_digests = self.xxhash_digests
        ctx.storage_regions = self.storage_regions
        self._state = _State(ctx, self.api_key, self.faults)
        self._httpd = _HTTPServer(self._state, self)
        ctx.base_url = self.url
        self._tmp = tempfile.mkdtemp(prefix="fake-wandb-")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-wandb", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the temporary wandb folders."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> FakeWandbServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ surface

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (what ``WANDB_BASE_URL`` must be)."""
        if self._httpd is None:
            raise RuntimeError("the fake W&B server is not running; use it as a context manager")
        host, port = cast(tuple[str, int], self._httpd.server_address[:2])
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """The environment a (sub)process needs to use this server through the wandb SDK.

        Every wandb folder points into a temporary directory owned by the
        server, so nothing touches the user's own settings or caches, and
        ``NETRC`` names an empty file, so the user's ``~/.netrc`` credentials
        are out of reach.
        """
        if self._tmp is None:
            raise RuntimeError("the fake W&B server is not running; use it as a context manager")
        folders = {
            "WANDB_CONFIG_DIR": "config",
            "WANDB_CACHE_DIR": "cache",
            "WANDB_DATA_DIR": "data",
            "WANDB_DIR": "runs",
            "WANDB_ARTIFACT_DIR": "artifacts",
        }
        env = {
            "WANDB_BASE_URL": self.url,
            "WANDB_API_KEY": self.api_key,
            "WANDB_ERROR_REPORTING": "false",
            "WANDB_SILENT": "true",
            "WANDB_CONSOLE": "off",
            "WANDB_DISABLE_GIT": "true",
            "WANDB_DISABLE_CODE": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        for name, sub in folders.items():
            path = os.path.join(self._tmp, sub)
            os.makedirs(path, exist_ok=True)
            env[name] = path
        # An empty netrc: a script that hard-codes the real base URL must not find the user's
        # real credentials in ~/.netrc (wandb reads $NETRC first) and delete real data.
        netrc = os.path.join(self._tmp, "netrc")
        if not os.path.exists(netrc):
            with open(netrc, "w"):
                pass
        env["NETRC"] = netrc
        if self.entity:
            env["WANDB_ENTITY"] = self.entity
        if self.project:
            env["WANDB_PROJECT"] = self.project
        return env

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log (a copy), oldest first."""
        state = self._require_state()
        with state.log_lock:
            return list(state.log)

    def operations(self) -> list[str]:
        """Operation names of the GraphQL requests logged, oldest first."""
        return [r.operation for r in self.requests if r.path.startswith(("/graphql", "/api/graphql"))]

    def clear_requests(self) -> None:
        """Empty the request log."""
        state = self._require_state()
        with state.log_lock:
            state.log.clear()

    def reset(self) -> None:
        """Empty the fake's state, the fault schedule and the request log."""
        self.fake.reset()
        self.faults.clear()
        if self._state is not None:
            self.clear_requests()

    def seed(self, spec: Mapping[str, Any]) -> None:
        """Reset, then load the demo (``{"demo": true}``) or a snapshot (``{"snapshot": path-or-object}``)."""
        unknown = set(spec) - {"demo", "snapshot"}
        if unknown:
            raise ValueError(f"unknown seed fields {sorted(unknown)}; give 'demo' or 'snapshot'")
        self.reset()
        if spec.get("demo"):
            from ..demo import seed_demo

            seed_demo(self.fake)
        if spec.get("snapshot") is not None:
            _load_snapshot_into(self.fake, spec["snapshot"])

    def configure_faults(self, spec: Mapping[str, Any]) -> None:
        """Apply a ``/_fake/faults`` body: ``{"clear": bool, "rules": [...], "rate_limit": {...}|null}``."""
        unknown = set(spec) - {"clear", "rules", "rate_limit"}
        if unknown:
            raise ValueError(f"unknown faults fields {sorted(unknown)}; known: clear, rules, rate_limit")
        rules = [FaultRule.from_json(r) for r in spec.get("rules") or []]
        if spec.get("clear"):
            self.faults.clear()
        for rule in rules:
            self.faults.add_rule(rule)
        if "rate_limit" in spec:
            limit = spec["rate_limit"]
            if limit is None:
                self.faults.rate_limit(None)
            else:
                self.faults.rate_limit(float(limit["rate"]), int(limit.get("burst") or 0) or None)

    def set_storage_regions(self, regions: Iterable[str] | None) -> None:
        """Set the storage regions artifacts may name (None: any), as ``storage_regions=`` does."""
        self.storage_regions = frozenset(regions) if regions is not None else None
        if self._state is not None:
            self._state.ctx.storage_regions = self.storage_regions

    def set_pagination(self, pagination: Pagination) -> None:
        """Switch the cursor style of every listing (``"stable"`` or ``"offset"``)."""
        if pagination not in ("stable", "offset"):
            raise ValueError(f"pagination must be 'stable' or 'offset', not {pagination!r}")
        self.pagination = pagination
        if self._state is not None:
            self._state.ctx.pagination = pagination

    def _require_state(self) -> _State:
        if self._state is None:
            raise RuntimeError("the fake W&B server is not running; use it as a context manager")
        return self._state

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"<FakeWandbServer {where} pagination={self.pagination}>"


def _load_snapshot_into(fake: FakeWandb, source: Any) -> None:
    """Load a snapshot (file path, or the decoded JSON of one) into ``fake`` via ``fakes.load_snapshot``."""
    from .._snapshot_load import load_snapshot

    if not isinstance(source, str | os.PathLike | Mapping):
        raise ValueError("snapshot must be a file path or a JSON object")
    try:
        load_snapshot(source, into=fake)
    except ArtifactGuardError as e:
        raise ValueError(f"cannot load snapshot: {e}") from None
