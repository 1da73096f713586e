"""WandbRepository's errors: every wandb error type is mapped, the key never shows, bad input is one line.

In-process tests stub the SDK's GraphQL client and HTTP session (no wandb-core).
Tests where ``wandb.Api()`` itself fails run in a subprocess with a timeout,
because such a process can hang at exit joining wandb-core.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from artifact_guard import (
    AliasedVersionError,
    ArtifactGuardError,
    AuthenticationError,
    CollectionRef,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProtectedAliasError,
    RateLimitedError,
    RepositoryError,
    Scope,
    TransientError,
)
from artifact_guard.adapters.wandb import WandbRepository, translate_error

KEY = "k" * 20 + "SECRETSECRETSECRET" + "k" * 10
EXIT_GRACE = 20.0
"""Seconds a finished script may take to exit before it counts as hung at exit."""


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("artifact_guard.adapters.wandb._GET_BACKOFF", 0.0)


# ---------------------------------------------------------------------- every wandb error type


def _foreign_error_types() -> list[type[BaseException]]:
    """Every exception class defined by wandb's error modules, wandb-core's client and requests."""
    modules = ["wandb.errors.errors", "wandb.sdk.lib.service.service_connection", "requests.exceptions"]
    import wandb.sdk.artifacts as artifacts_pkg

    modules += [
        f"wandb.sdk.artifacts.{m.name}"
        for m in pkgutil.iter_modules(artifacts_pkg.__path__)
        if "exception" in m.name or "error" in m.name
    ]
    found: dict[str, type[BaseException]] = {}
    for name in modules:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.split(".")[0] in ("wandb", "requests"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _instance(kind: type[BaseException], message: str) -> BaseException:
    for args in ((message,), (message, None), (message, message, 0), ()):
        try:
            return kind(*args)
        except Exception:  # some constructors want real SDK objects
            continue
    # Built without its constructor: what matters is the type a caller would see.
    error = kind.__new__(kind)
    error.args = (message,)
    return error


FOREIGN = _foreign_error_types()


def test_the_error_type_list_is_not_empty() -> None:
    names = {k.__name__ for k in FOREIGN}
    assert {"CommError", "AuthenticationError", "UsageError", "WandbApiFailedError", "HTTPError"} <= names


class _StubService:
    def __init__(self, behaviour: Callable[[str, dict[str, Any]], Any]) -> None:
        self.behaviour = behaviour
        self.base_url = "https://w.example"
        self.calls: list[str] = []

    def execute_graphql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.calls.append(query.split("(")[0].split()[-1])
        return self.behaviour(query, variables or {})


class _StubApi:
    def __init__(self, service: _StubService) -> None:
        self._service_api = service
        self.api_key = KEY


class _StubSession:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def get(self, url: str, timeout: float) -> Any:
        if self.error is not None:
            raise self.error
        raise AssertionError("not reached")


def _stubbed(behaviour: Callable[[str, dict[str, Any]], Any], get_error: BaseException | None = None) -> Any:
    class Stubbed(WandbRepository):
        def _connect(self, api_key: str | None, base_url: str | None) -> Any:
            return _StubApi(_StubService(behaviour))

        def _session(self) -> Any:
            return _StubSession(get_error)

    return Stubbed(timeout=2)


def _listing(vid: str = "QXJ0aWZhY3Q6MQ==") -> dict[str, Any]:
    node = {
        "id": vid,
        "versionIndex": 0,
        "state": "COMMITTED",
        "size": 1,
        "digest": "d",
        "createdAt": "2026-01-01T00:00:00",
        "ttlDurationSeconds": -2,
        "artifactType": {"name": "model"},
        "artifactSequence": {"name": "c", "project": {"name": "p", "entity": {"name": "e"}}},
        "aliases": [],
        "createdBy": None,
        "usedBy": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "artifactMemberships": {"edges": []},
    }
    return {
        "project": {
            "artifactCollections": {
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "edges": [
                    {
                        "node": {
                            "__typename": "ArtifactSequence",
                            "name": "c",
                            "defaultArtifactType": {"name": "model"},
                            "artifacts": {
                                "pageInfo": {"hasNextPage": False, "endCursor": None},
                                "edges": [{"node": node}],
                            },
                        }
                    }
                ],
            }
        },
        "artifact": node,
        "a0": {
            "id": vid,
            "state": "COMMITTED",
            "currentManifest": {"file": {"directUrl": "https://s/m.json"}},
        },
    }


def _calls(repo: Any) -> list[Callable[[], Any]]:
    vid = "QXJ0aWZhY3Q6MQ=="
    return [
        lambda: list(repo.versions(Scope("e", "p"))),
        lambda: repo.version(vid),
        lambda: repo.lineage(vid),
        lambda: repo.links(vid),
        lambda: repo.manifest(vid),
        lambda: repo.delete_version(vid, delete_aliases=True),
        lambda: repo.delete_collection(CollectionRef("e", "p", "c")),
        lambda: repo.remove_aliases(vid, ["x"]),
        lambda: repo.check_scope("e/p"),
    ]


@pytest.mark.parametrize("kind", FOREIGN, ids=lambda k: f"{k.__module__}.{k.__qualname__}")
def test_no_wandb_error_type_reaches_a_caller_unmapped(kind: type[BaseException]) -> None:
    # given every public call, when the SDK raises this type (with the key in its message)
    error = _instance(kind, f"boom with {KEY} inside")

    def explode(query: str, variables: dict[str, Any]) -> Any:
        raise error

    repo = _stubbed(explode)
    for call in _calls(repo):
        with pytest.raises(ArtifactGuardError) as info:
            call()
        # then the caller sees one of ours, never the key
        assert not isinstance(info.value, kind) or isinstance(info.value, ArtifactGuardError)
        assert KEY not in str(info.value)
        assert "SECRET" not in str(info.value)
        assert info.value.__cause__ is None


@pytest.mark.parametrize(
    "kind", [k for k in FOREIGN if k.__module__.startswith("requests")], ids=lambda k: k.__name__
)
def test_no_requests_error_from_a_manifest_download_reaches_a_caller(kind: type[BaseException]) -> None:
    repo = _stubbed(lambda q, v: _listing(), get_error=_instance(kind, "download failed"))
    with pytest.raises(ArtifactGuardError):
        repo.manifest("QXJ0aWZhY3Q6MQ==")


def test_every_public_method_goes_through_the_one_mapping() -> None:
    public = [
        name
        for name, member in vars(WandbRepository).items()
        if not name.startswith("_") and inspect.isfunction(member)
    ]
    assert set(public) >= {"versions", "version", "lineage", "links", "manifest", "delete_version"}
    unmapped = [
        name
        for name in public
        if not getattr(getattr(WandbRepository, name), "__artifact_guard_mapped__", False)
    ]
    assert unmapped == []


def test_bugs_in_our_own_code_are_not_disguised() -> None:
    def buggy(query: str, variables: dict[str, Any]) -> Any:
        raise KeyError("a bug, not the world")

    repo = _stubbed(buggy)
    with pytest.raises(KeyError):
        repo.version("QXJ0aWZhY3Q6MQ==")


# ---------------------------------------------------------------------- which error for which failure


def _api_failed(message: str, status: int = 0) -> BaseException:
    from wandb.proto.wandb_api_pb2 import ApiErrorResponse
    from wandb.sdk.lib.service.service_connection import WandbApiFailedError

    return WandbApiFailedError(message, ApiErrorResponse(message=message, http_status=status))


def _http_error(status: int, headers: dict[str, str] | None = None) -> BaseException:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return requests.HTTPError(f"{status} error", response=response)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            lambda: _api_failed("input:3:3: result cannot delete e/p/c:v1: it has aliases ['x']"),
            AliasedVersionError,
        ),
        (
            lambda: _api_failed("input:3:3: result e/p/c:v1 is linked with protected aliases"),
            ProtectedAliasError,
        ),
        (lambda: _api_failed("permission denied"), PermissionDeniedError),
        (lambda: _api_failed("artifact 'x' not found"), NotFoundError),
        (lambda: _api_failed("user is not logged in", 401), AuthenticationError),
        (lambda: _api_failed("whatever", 403), PermissionDeniedError),
        (lambda: _api_failed("whatever", 404), NotFoundError),
        (lambda: _api_failed("whatever", 409), ConflictError),
        (lambda: _api_failed("whatever", 429), RateLimitedError),
        (lambda: _api_failed("whatever", 502), TransientError),
        (
            lambda: _api_failed(
                "Failed to execute API request: the service process is busy and did not respond in time."
            ),
            TransientError,
        ),
        (lambda: _http_error(401), AuthenticationError),
        (lambda: _http_error(403), PermissionDeniedError),
        (lambda: _http_error(404), NotFoundError),
        (lambda: _http_error(409), ConflictError),
        (lambda: _http_error(500), TransientError),
        (lambda: _http_error(503), TransientError),
        (lambda: requests.ConnectionError("refused"), TransientError),
        (lambda: requests.Timeout("slow"), TransientError),
        (lambda: _api_failed("something nobody foresaw"), RepositoryError),
    ],
)
def test_failures_map_to_the_matching_error(
    error: Callable[[], BaseException], expected: type[Exception]
) -> None:
    mapped = translate_error(error(), doing="test", base_url="https://w.example", timeout=3)
    assert type(mapped) is expected
    assert "\n" not in str(mapped)


def test_rate_limits_carry_retry_after() -> None:
    mapped = translate_error(_http_error(429, {"Retry-After": "7"}), doing="test")
    assert isinstance(mapped, RateLimitedError)
    assert mapped.retry_after == 7.0


def test_a_timeout_says_what_to_check_and_how_long_it_waited() -> None:
    mapped = translate_error(
        _api_failed(
            "Failed to execute API request: the service process is busy and did not respond in time."
        ),
        doing="list e/p",
        base_url="http://nowhere:9",
        timeout=3,
    )
    assert str(mapped).startswith("W&B at http://nowhere:9 did not answer within 3s while trying to list e/p")
    assert "base URL" in str(mapped)


def test_a_download_is_retried_on_transient_errors_then_mapped() -> None:
    attempts: list[int] = []

    class Flaky:
        def get(self, url: str, timeout: float) -> Any:
            attempts.append(1)
            raise _http_error(503)

    class Stubbed(WandbRepository):
        def _connect(self, api_key: str | None, base_url: str | None) -> Any:
            return _StubApi(_StubService(lambda q, v: _listing()))

        def _session(self) -> Any:
            return Flaky()

    with pytest.raises(TransientError):
        Stubbed(timeout=2).manifest("QXJ0aWZhY3Q6MQ==")
    assert len(attempts) == 4


def test_a_malformed_answer_is_named_not_a_keyerror() -> None:
    repo = _stubbed(
        lambda q, v: {
            "project": {
                "artifactCollections": {
                    "edges": [
                        {
                            "node": {
                                "__typename": "ArtifactSequence",
                                "artifacts": {"edges": [{"node": {"id": "x"}}]},
                            }
                        }
                    ]
                }
            }
        }
    )
    with pytest.raises(RepositoryError, match="unexpected answer from W&B"):
        list(repo.versions(Scope("e", "p")))


def test_the_key_is_in_no_repr_or_attribute() -> None:
    repo = _stubbed(lambda q, v: _listing())
    assert KEY not in repr(repo)
    assert all(KEY not in repr(value) for value in vars(repo).values() if not isinstance(value, _StubApi))


# ---------------------------------------------------------------------- bad input, end to end

SCRIPT = """
import faulthandler
faulthandler.dump_traceback_later(50, exit=True)  # a stack dump in the report rather than a silent hang
import json, sys, time
started = time.monotonic()
from artifact_guard import ArtifactGuardError
from artifact_guard.adapters.wandb import WandbRepository
args = json.loads(sys.argv[1])
try:
    repo = WandbRepository(timeout=args.get("timeout", 5), **args.get("options", {}))
    if args.get("scope"):
        repo.check_scope(args["scope"])
    result = {"ok": True}
except ArtifactGuardError as e:
    result = {"ok": False, "type": type(e).__name__, "message": str(e)}
result["elapsed"] = time.monotonic() - started
print(json.dumps(result), flush=True)
"""


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL that refuses connections: bound by us but not listening, so nobody else can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def _run(env: dict[str, str], args: dict[str, Any], *, timeout: float = 60) -> dict[str, Any]:
    """Run SCRIPT; its result line, plus ``exit_seconds``: result to exit, None if killed at exit."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SCRIPT), json.dumps(args)],
            env={**base, **env},
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
        reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(line.startswith("{") for line in lines):
            if proc.poll() is not None:
                reader.join(timeout=5)
                break
            time.sleep(0.05)
        answered = time.monotonic()
        exit_seconds: float | None
        try:
            proc.wait(timeout=EXIT_GRACE)
            exit_seconds = time.monotonic() - answered
        except subprocess.TimeoutExpired:
            # wandb-core can keep a process whose wandb.Api() failed from exiting (see DESIGN.md).
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            exit_seconds = None
        reader.join(timeout=5)
        err.seek(0)
        stderr = err.read()
    results = [line for line in lines if line.startswith("{")]
    assert results, f"no result within {timeout}s; stderr:\n{stderr[-3000:]}"
    out: dict[str, Any] = json.loads(results[-1])
    out["stderr"] = stderr
    out["stdout"] = "".join(lines)
    out["exit_seconds"] = exit_seconds
    if exit_seconds is None:
        warnings.warn(f"the script answered but hung at exit and was killed: {args}", stacklevel=2)
    return out


@pytest.fixture(scope="module")
def server_env() -> Iterator[dict[str, str]]:
    from fakes import FakeWandb
    from fakes.server import FakeWandbServer

    fake = FakeWandb()
    fake.create_run("team/proj", "r")
    with FakeWandbServer(fake) as server:
        yield server.env()


def _isolated(server_env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in server_env.items() if k not in ("WANDB_API_KEY", "WANDB_BASE_URL")}


@pytest.mark.timeout(90)
@pytest.mark.server
def test_missing_credentials_is_one_line_and_fast(server_env: dict[str, str]) -> None:
    env = {**_isolated(server_env), "WANDB_BASE_URL": server_env["WANDB_BASE_URL"], "NETRC": os.devnull}
    out = _run(env, {})
    assert out["type"] == "AuthenticationError"
    assert "no W&B credentials" in out["message"] and "WANDB_API_KEY" in out["message"]
    assert out["elapsed"] < 10
    assert "Traceback" not in out["stderr"]


@pytest.mark.timeout(90)
@pytest.mark.server
def test_a_refused_key_is_an_authentication_error_without_the_key(server_env: dict[str, str]) -> None:
    env = {**_isolated(server_env), "WANDB_BASE_URL": server_env["WANDB_BASE_URL"], "WANDB_API_KEY": KEY}
    out = _run(env, {})
    assert out["type"] == "AuthenticationError"
    assert KEY not in out["message"] + out["stdout"] + out["stderr"]
    assert "SECRET" not in out["message"] + out["stdout"] + out["stderr"]
    assert out["elapsed"] < 10


@pytest.mark.timeout(90)
@pytest.mark.server
def test_an_unreachable_base_url_fails_within_the_timeout(
    server_env: dict[str, str], refused_url: str
) -> None:
    env = {**_isolated(server_env), "WANDB_API_KEY": KEY}
    url = refused_url
    started = time.monotonic()
    out = _run(env, {"timeout": 3, "options": {"base_url": url}})
    assert out["type"] == "TransientError"
    assert url in out["message"] and "base URL" in out["message"]
    assert out["elapsed"] < 3 + 10
    assert time.monotonic() - started < 60
    assert KEY not in out["message"]


@pytest.mark.timeout(90)
@pytest.mark.server
@pytest.mark.parametrize(
    ("scope", "expected"), [("no-slash", "malformed scope"), ("team/absent", "not found")]
)
def test_a_malformed_or_unknown_project_is_named(
    server_env: dict[str, str], scope: str, expected: str
) -> None:
    out = _run(server_env, {"scope": scope})
    assert out["type"] == "NotFoundError"
    assert expected in out["message"]
    assert "\n" not in out["message"]
