"""pytest plugin of artifact-guard (entry point ``pytest11``): the ``wandb_fake`` fixture.

``wandb_fake`` gives each test an empty fake W&B reachable by the real wandb
SDK: one loopback server per test session (starting wandb-core's peer once),
its state reset before every test, and the SDK's environment (``WANDB_BASE_URL``,
``WANDB_API_KEY``, ``WANDB_ENTITY``, ``WANDB_PROJECT``,
``WANDB_ERROR_REPORTING=false``, every wandb folder in the test's temporary
directory) set for the test and restored after it::

    def test_cleanup_script_keeps_production(wandb_fake):
        run = wandb_fake.fake.create_run("team/proj", "r1")
        wandb_fake.fake.log_artifact(run, "model", "model", {"w.bin": b"..."}, aliases=["production"])
        subprocess.run([sys.executable, "cleanup.py"], env=wandb_fake.env, timeout=120, check=True)
        assert wandb_fake.fake.versions()  # production survived

Options come from one marker, the closest one winning::

    @pytest.mark.wandb_fake(entity="team", project="proj", pagination="offset", seed="demo")

Strict teardown: a test fails if the fake answered a request it does not
support (an operation or field outside its schema), because the code under
test then saw an error real W&B would not give. Pass
``allow_unsupported=True`` in the marker when that is what the test checks.

Nothing heavy is imported until a test asks for the fixture, so the plugin
costs nothing in test sessions that do not use it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fakes import FakeWandb
    from fakes.server import FakeWandbServer, Faults, RequestRecord

    from ._audit import AuditReport
    from ._policy import Policy
    from ._pytest_audit import AuditRecorder

__all__ = ["WandbFake"]

_MARKER = "wandb_fake"
_OPTIONS = frozenset({"entity", "project", "pagination", "seed", "allow_unsupported"})
_UNSUPPORTED = "is not supported by the fake W&B server"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(entity=None, project=None, pagination='stable', seed=None, allow_unsupported=False): "
        "options of the wandb_fake fixture (artifact-guard)",
    )
    from ._pytest_audit import strict_marker_line

    config.addinivalue_line("markers", strict_marker_line())


@dataclass
class WandbFake:
    """What a test gets from the ``wandb_fake`` fixture."""

    server: FakeWandbServer
    """The running fake W&B server (``url``, ``api_key``, ``requests``, ``faults``)."""
    env: dict[str, str]
    """A full environment for subprocesses: ``os.environ`` plus the SDK's settings for this server."""
    recorder: AuditRecorder | None = None
    """The audit baseline keeper (see :meth:`audit`)."""

    def audit(
        self,
        policy: Policy | None = None,
        *,
        project: str | None = None,
        check: bool = True,
        strict: bool = False,
    ) -> AuditReport:
        """Audit what the code under test changed, under ``policy`` (default: ``Policy()``'s rules).

        Compares the fake's state before the first change that reached the
        server (or the last :meth:`checkpoint`) with its state now: every
        safety rule, and conformance to the policy's retention (deleting what
        ``keep_last`` & co. keep fails; leaving what the policy deletes is a
        warning, a failure with ``strict``). With ``check`` (default) the test
        fails with the report as the CLI prints it and, per rule that fired, the
        setting that waives it; otherwise the :class:`~artifact_guard.AuditReport`
        is returned as is. ``project`` picks the project when the fake holds several.
        """
        assert self.recorder is not None
        return self.recorder.audit(policy, project=project, check=check, strict=strict)

    def run(
        self, script: str | os.PathLike[str], *args: str, timeout: float = 120.0, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run a python ``script`` with ``args`` against this fake (its :attr:`env`), output captured.

        ``timeout`` (seconds) kills a script that hangs (a wandb process can hang at exit);
        the test then fails saying so. ``check`` fails the test on a non-zero exit, showing
        the script's stderr. Returns the :class:`subprocess.CompletedProcess` (text mode).
        """
        argv = [sys.executable, os.fspath(script), *args]
        try:
            done = subprocess.run(  # noqa: S603 - the test's own script, by design
                argv, env=self.env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            stderr: str | None = _text(exc.stderr)
        else:
            stderr = None
        if stderr is not None:  # outside the except block: one message, no chained traceback
            pytest.fail(
                f"wandb_fake.run: {os.fspath(script)} did not finish within {timeout:g} s and was killed"
                + (f"; its stderr ended:\n{stderr[-2000:]}" if stderr else ""),
                pytrace=False,
            )
        if check and done.returncode != 0:
            pytest.fail(
                f"wandb_fake.run: {os.fspath(script)} exited with status {done.returncode}; "
                f"its stderr ended:\n{done.stderr[-2000:]}",
                pytrace=False,
            )
        return done

    def checkpoint(self) -> None:
        """Take the audit baseline now (before running code that changes the fake in-process)."""
        assert self.recorder is not None
        self.recorder.checkpoint()

    @property
    def fake(self) -> FakeWandb:
        """The :class:`fakes.FakeWandb` behind the server: build state with it, assert on it."""
        return self.server.fake

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log of this test, oldest first."""
        return self.server.requests

    def operations(self) -> list[str]:
        """GraphQL operation names this test sent, oldest first."""
        return self.server.operations()

    @property
    def faults(self) -> Faults:
        """The fault schedule: ``wandb_fake.faults.add("DeleteArtifact", status=429, times=2)``."""
        return self.server.faults


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


@pytest.hookimpl(wrapper=True)
def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object) -> Any:
    """A comparison involving an audit shows the violations as the CLI does, then pytest's diff."""
    results = yield
    shown = _audit_lines(left) or _audit_lines(right)
    if not shown:
        return results
    default: list[str] = next((r for r in results if r), [f"{left!r} {op} {right!r}"])
    return [[default[0], *shown, *default[1:]]]


def _audit_lines(value: object) -> list[str]:
    """What failed in an AuditReport, or a tuple/list of its Changes or Violations, as the CLI words it.

    Short on purpose: pytest cuts explanations to 8 lines unless -vv, and its diff comes after.
    """
    if "artifact_guard._audit" not in sys.modules:
        return []
    from ._audit import AuditReport, Change, Violation

    if isinstance(value, AuditReport):
        failing = [line for line in value.explain().splitlines() if line.lstrip().startswith(("FAIL", "- "))]
        return [f"audit: {value.summary()}", *failing]
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, Violation) for v in value):
        return [f"{len(value)} violation(s):", *(f"  - {v}" for v in value)]
    if isinstance(value, (tuple, list)) and value and all(isinstance(c, Change) for c in value):
        bad = [c for c in value if not c.ok]
        lines = [f"{len(value)} change(s), {len(bad)} breaking a safety rule:"]
        for c in bad:
            lines.append(f"  FAIL {c.describe()}")
            lines.extend(f"         - {r.rule}: {r}" for r in c.reasons)
        return lines
    return []


@pytest.fixture(scope="session")
def _wandb_fake_server() -> Iterator[FakeWandbServer]:
    from fakes import FakeWandb
    from fakes.server import FakeWandbServer

    with FakeWandbServer(FakeWandb()) as server:
        yield server


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(_MARKER)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{_MARKER} takes keyword options only: {sorted(_OPTIONS)}")
    unknown = set(marker.kwargs) - _OPTIONS
    if unknown:
        raise pytest.UsageError(
            f"unknown @pytest.mark.{_MARKER} options {sorted(unknown)}; known: {sorted(_OPTIONS)}"
        )
    return dict(marker.kwargs)


def _forget_sdk_caches() -> None:
    # An SDK already imported in this process caches artifacts by id; ids repeat after a reset.
    module = sys.modules.get("wandb.sdk.artifacts.artifact")
    for name in ("artifact_instance_cache", "artifact_instance_cache_by_client_id"):
        cache: Any = getattr(module, name, None) if module is not None else None
        if cache is not None and hasattr(cache, "clear"):
            cache.clear()


@pytest.fixture
def wandb_fake(
    request: pytest.FixtureRequest,
    _wandb_fake_server: FakeWandbServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WandbFake]:
    """An empty fake W&B for this test, reachable by the real wandb SDK (see the module docstring)."""
    options = _options(request)
    server = _wandb_fake_server
    pagination = options.get("pagination", "stable")
    if pagination not in ("stable", "offset"):
        raise pytest.UsageError(f"wandb_fake pagination must be 'stable' or 'offset', not {pagination!r}")
    server.reset()
    server.set_pagination(pagination)
    _forget_sdk_caches()
    seed = options.get("seed")
    if seed == "demo":
        server.seed({"demo": True})
    elif seed is not None:
        server.seed({"snapshot": os.fspath(seed)})

    sdk_env = server.env()
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_DIR", "WANDB_ARTIFACT_DIR"):
        folder = tmp_path / "wandb" / name.removeprefix("WANDB_").removesuffix("_DIR").lower()
        folder.mkdir(parents=True, exist_ok=True)
        sdk_env[name] = str(folder)
    for name in ("WANDB_ENTITY", "WANDB_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    if options.get("entity"):
        sdk_env["WANDB_ENTITY"] = str(options["entity"])
    if options.get("project"):
        sdk_env["WANDB_PROJECT"] = str(options["project"])
    for name, value in sdk_env.items():
        monkeypatch.setenv(name, value)

    from ._pytest_audit import STRICT_MARKER, AuditRecorder

    recorder = AuditRecorder(server.fake)
    recorder.install(monkeypatch)
    # WANDB_SERVICE names the wandb-core of a test that used the SDK in this process: a script run with
    # it would share that wandb-core, which outlives the script, so a crashing script's run never ends.
    child_env = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    yield WandbFake(server, child_env, recorder)

    server.set_pagination("stable")
    strict = request.node.get_closest_marker(STRICT_MARKER)
    if strict is not None:
        recorder.strict_check(strict.kwargs.get("policy"))
    if not options.get("allow_unsupported"):
        unsupported = [r for r in server.requests if any(_UNSUPPORTED in e for e in r.errors)]
        if unsupported:
            lines = "\n".join(f"  {r.operation}: {r.errors[0]}" for r in unsupported[:5])
            pytest.fail(
                f"the fake W&B server could not answer {len(unsupported)} request(s) of this test:\n{lines}\n"
                f"Real W&B would have answered them, so the test saw errors it should not. If the test "
                f"checks this on purpose, mark it @pytest.mark.{_MARKER}(allow_unsupported=True).",
                pytrace=False,
            )
