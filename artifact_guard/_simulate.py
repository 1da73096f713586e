"""The engine of ``artifact-guard simulate SCRIPT [ARGS...]``: run a cleanup script against a fake W&B.

For each cursor style asked for, :func:`simulate` builds a fresh fake from the
same start (``--seed`` or ``--snapshot``), serves it on loopback, runs the
unmodified script in a subprocess pointed at it (isolated wandb folders, a
timeout), captures the project before and after, and audits the difference.

Every process the script starts is torn down afterwards, wandb-core included:
the script runs under a small reaper process (:mod:`artifact_guard._reaper`),
on Linux a child subreaper, so every descendant, even one in a new session
with a stripped environment whose parent exited, is found and killed; each
also inherits a marker in its environment, swept by ``psutil`` as a second
net. A script that leaves processes of its own behind (it forked) is reported
as an error.

Exit codes (:attr:`SimulationResult.exit_code`): 0 safe; 1 a safety rule was
violated, or the outcome depends on the cursor style; 2 the script crashed,
hung or left processes behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psutil

from ._audit import AuditReport, ChangeKind, audit
from ._errors import ArtifactGuardError, SnapshotError
from ._model import Scope
from ._policy import Policy
from ._snapshot import capture

if TYPE_CHECKING:
    from fakes import FakeWandb

__all__ = [
    "SEEDS",
    "PaginationChoice",
    "ScriptRun",
    "SimulationError",
    "SimulationResult",
    "render_html",
    "simulate",
]

PaginationChoice = Literal["stable", "offset", "both"]
MARKER = "ARTIFACT_GUARD_SIMULATION"
"""Environment variable every process of a simulated script inherits; its value is unique per run."""
_TAIL_LINES = 25
_SETTLE_S = 3.0
"""How long processes may take to exit on their own once the script has (wandb-core watches its parent)."""


class SimulationError(ArtifactGuardError):
    """The simulation could not start: bad script path, seed, snapshot or project."""


# --------------------------------------------------------------------------- seeds


def _seed_demo() -> FakeWandb:
    from fakes.demo import seed_demo

    return seed_demo()


def _seed_many_checkpoints() -> FakeWandb:
    """``demo-team/sweeps``: one run logged 120 checkpoints of ``checkpoints`` (model), only ``latest``.

    Big enough that every SDK listing needs several pages, so a script that
    deletes while paginating meets the cursor-style hazard (W&B measured 49 of
    120 left behind with offset cursors).
    """
    from datetime import timedelta

    from fakes import FakeWandb
    from fakes.demo import DEMO_NOW

    fake = FakeWandb(now=DEMO_NOW)
    run = fake.create_run("demo-team/sweeps", "sweep-001")
    start = DEMO_NOW - timedelta(days=60)
    for i in range(120):
        fake.log_artifact(
            run,
            "checkpoints",
            "model",
            {
                "model.ckpt": (f"{i:030d}==", 50_000_000),
                "config.yaml": ("config-0000000000000000000==", 2_000),
            },
            created_at=start + timedelta(hours=6 * i),
        )
    fake.finish_run(run)
    return fake


SEEDS: dict[str, Callable[[], FakeWandb]] = {
    "demo": _seed_demo,
    "many-checkpoints": _seed_many_checkpoints,
}
"""Named starting states for ``--seed``."""


def _loader(seed: str | None, snapshot: Path | None) -> Callable[[], FakeWandb]:
    """A function building a fresh fake from the chosen start (checked once, now)."""
    if (seed is None) == (snapshot is None):
        raise SimulationError("give exactly one of --seed NAME or --snapshot FILE")
    if seed is not None:
        if seed not in SEEDS:
            raise SimulationError(f"unknown seed {seed!r}; known: {', '.join(sorted(SEEDS))}")
        return SEEDS[seed]
    assert snapshot is not None
    if not snapshot.is_file():
        raise SimulationError(f"snapshot file {str(snapshot)!r} does not exist")

    def load() -> FakeWandb:
        import fakes

        loader = getattr(fakes, "load_snapshot", None)
        if loader is None:
            raise SimulationError(
                f"cannot read snapshot {str(snapshot)!r}: "
                "this build has no snapshot reader (fakes.load_snapshot)"
            )
        try:
            # The loader gives the fake the snapshot's own clock and dedupe scope.
            fake: FakeWandb = loader(snapshot)
        except SnapshotError as e:
            raise SnapshotError(f"snapshot {str(snapshot)!r}: {e}") from None
        except (ValueError, KeyError, TypeError, OSError) as e:
            raise SnapshotError(f"snapshot {str(snapshot)!r} cannot be read: {e}") from None
        return fake

    return load


def _empty_fake() -> FakeWandb:
    from fakes import FakeWandb

    return FakeWandb()


def _with_setup(
    load: Callable[[], FakeWandb], setup: Path, project: str | None, timeout: float
) -> Callable[[], FakeWandb]:
    """``load``, then the seeding script ``setup`` run against the fake it built (``--setup``).

    The setup script talks to the fake through the real SDK like the cleanup
    script does (same isolation and teardown); a failing setup is a
    :class:`SimulationError` naming its exit status and last lines of stderr.
    """
    if not setup.is_file():
        raise SimulationError(f"setup script {str(setup)!r} does not exist")

    def seeded() -> FakeWandb:
        from fakes.server import FakeWandbServer

        fake = load()
        entity = name = None
        if project is not None and "/" in project:
            entity, name = project.split("/", 1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
        with (
            tempfile.TemporaryDirectory(prefix="artifact-guard-setup-") as tmp,
            FakeWandbServer(fake, entity=entity, project=name) as server,
        ):
            env.update(server.env())
            outcome = _run_script(setup, (), env, timeout, Path(tmp))
        if outcome.timed_out or outcome.returncode != 0:
            how = f"timed out after {timeout:g}s" if outcome.timed_out else f"exited {outcome.returncode}"
            tail = outcome.stderr_tail.strip().splitlines()[-3:]
            raise SimulationError(
                f"setup script {str(setup)!r} {how}" + (f": {' | '.join(tail)}" if tail else "")
            )
        return fake

    return seeded


def _scope_of(fake: FakeWandb, project: str | None) -> Scope:
    if project is not None:
        try:
            return Scope.parse(project)
        except ArtifactGuardError as e:
            raise SimulationError(f"--project: {e}") from None
    scopes = sorted({str(v.scope) for v in fake.versions()})
    if len(scopes) == 1:
        return Scope.parse(scopes[0])
    if not scopes:
        raise SimulationError("the starting state holds no artifact version: nothing to audit")
    raise SimulationError(
        f"the starting state holds several projects ({', '.join(scopes)}); pick one with --project"
    )


# --------------------------------------------------------------------------- processes


def _marked_pids(token: str) -> list[int]:
    """Live processes whose environment carries our marker (through ``psutil``: not Linux-only)."""
    needle = f"{MARKER}={token}"
    key, _, value = needle.partition("=")
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get(key) == value and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p.pid)
        except psutil.Error:
            continue  # gone, or not ours to read
    return found


def _describe_pid(pid: int) -> str:
    try:
        proc = psutil.Process(pid)
        cmd = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        cmd = "?"
    return f"pid {pid}: {cmd[:120]}"


def _is_wandb_core(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return "wandb-core" in proc.name() or "wandb-core" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tail(path: Path, lines: int = _TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass(frozen=True)
class _Outcome:
    returncode: int | None
    timed_out: bool
    stdout_tail: str
    stderr_tail: str
    duration_s: float
    forked: tuple[str, ...]


def _run_script(
    script: Path, args: Sequence[str], env: dict[str, str], timeout: float, workdir: Path
) -> _Outcome:
    token = secrets.token_hex(12)
    env = {**env, MARKER: token}
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    result_path = workdir / "reaper.json"
    started = time.monotonic()
    # The script runs under a small reaper process (a child subreaper on Linux): every process it
    # starts, even one in a new session with a stripped environment whose parent is gone, stays a
    # descendant of the reaper, which lists and kills what is left (see _reaper). The reaper enforces
    # the timeout; the wait here is a safety net past it.
    command = [
        sys.executable,
        "-m",
        "artifact_guard._reaper",
        str(result_path),
        repr(float(timeout)),
        repr(_SETTLE_S),
        "--",
        sys.executable,
        str(script),
        *args,
    ]
    # Output goes to files, not pipes: a forked child holding a pipe open
    # would keep communicate() waiting after the script itself exited.
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(  # noqa: S603 - runs the user's own script, by design
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout + _SETTLE_S + 30)
        except subprocess.TimeoutExpired:
            pass
        finally:
            # Interrupted (Ctrl-C) or the reaper itself stuck: it takes its descendants down on SIGTERM;
            # then its group and every marked process go, whatever happens next.
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    _kill_group(proc.pid)
                    _kill(_marked_pids(token))
                    proc.kill()
                    proc.wait()
    try:
        report = json.loads(result_path.read_text())
    except (OSError, ValueError):
        report = {
            "returncode": None,
            "timed_out": True,
            "duration_s": time.monotonic() - started,
            "leftover": [],
        }
    timed_out = bool(report["timed_out"])
    forked = [str(p["what"]) for p in report["leftover"] if not p["wandb_core"]]
    # A last sweep by marker, for what a reaper without the subreaper flag (not Linux) cannot see.
    left = [p for p in _marked_pids(token) if p not in (proc.pid, os.getpid())]
    if not timed_out:
        forked.extend(_describe_pid(p) for p in left if not _is_wandb_core(p))
    _kill_group(proc.pid)
    _kill(left)
    return _Outcome(
        report["returncode"],
        timed_out,
        _tail(out_path),
        _tail(err_path),
        float(report["duration_s"]),
        tuple(forked),
    )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScriptRun:
    """One run of the script under one cursor style, and the audit of what it did."""

    pagination: str
    returncode: int | None
    """None when the script was killed for running past the timeout."""
    timed_out: bool
    duration_s: float
    stdout_tail: str
    stderr_tail: str
    forked: tuple[str, ...]
    """Processes of the script's own still running after it exited (killed since)."""
    report: AuditReport
    requests: int
    """GraphQL requests the script sent."""
    timeout_s: float = 0.0

    @property
    def error(self) -> str | None:
        """Why the run counts as a crash, or None."""
        if self.timed_out:
            return f"the script did not finish within {self.timeout_s:g} s and was killed"
        if self.returncode != 0:
            last = self.stderr_tail.strip().splitlines()[-1:] or ["(no error output)"]
            return f"the script exited with status {self.returncode}: {last[0]}"
        if self.forked:
            return (
                f"the script left {len(self.forked)} process(es) running after it exited "
                f"(killed): {'; '.join(self.forked)}"
            )
        return None

    def outcome(self) -> frozenset[tuple[str, str]]:
        """What the run changed, comparable across runs: (kind, target) pairs."""
        return frozenset((c.kind.value, c.target) for c in self.report.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pagination": self.pagination,
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "error": self.error,
            "stderr_tail": self.stderr_tail,
            "forked": list(self.forked),
            "audit": self.report.to_dict(),
        }


@dataclass(frozen=True)
class SimulationResult:
    """Every run of one simulation, and the verdict."""

    script: str
    args: tuple[str, ...]
    scope: Scope
    runs: tuple[ScriptRun, ...]
    differences: tuple[str, ...] = field(default=())
    """With ``--pagination both``: how the outcomes differ (empty when they agree)."""

    @property
    def report(self) -> AuditReport:
        """The audit of the first run (stable cursors when both ran)."""
        return self.runs[0].report

    @property
    def crashed(self) -> bool:
        return any(r.error for r in self.runs)

    @property
    def pagination_dependent(self) -> bool:
        return bool(self.differences)

    @property
    def ok(self) -> bool:
        return not self.crashed and not self.pagination_dependent and all(r.report.ok for r in self.runs)

    @property
    def exit_code(self) -> int:
        if self.crashed:
            return 2
        return 0 if self.ok else 1

    @property
    def verdict(self) -> str:
        if self.crashed:
            return "crashed"
        return "safe" if self.ok else "unsafe"

    def _distinct_violations(self) -> set[tuple[str, str]]:
        found = {(v.change.target, v.rule) for r in self.runs for v in r.report.violations}
        for r in self.runs:
            c = r.report.conformance
            if c is not None:
                found |= {(k.version.qualified_name, "policy") for k in c.kept_but_deleted}
                if c.strict:
                    found |= {(v.qualified_name, "policy:left") for v in c.left}
        return found

    def explain(self) -> str:
        """The readable report the CLI prints."""
        lines = [f"simulate {' '.join([self.script, *self.args])} on {self.scope}"]
        for run in self.runs:
            status = (
                "timed out"
                if run.timed_out
                else f"exited with status {run.returncode} in {run.duration_s:.1f} s"
            )
            lines.append("")
            lines.append(f"== {run.pagination} cursors: the script {status} ({run.requests} requests)")
            if run.error:
                lines.append(f"ERROR: {run.error}")
                if run.stderr_tail:
                    lines.append("--- tail of the script's stderr ---")
                    lines.extend(run.stderr_tail.splitlines())
                    lines.append("---")
                lines.append("what it changed before it stopped:")
            lines.append(run.report.explain())
        if self.differences:
            lines.append("")
            lines.append("PAGINATION HAZARD: the outcome depends on the server's cursor style")
            lines.extend(f"  - {d}" for d in self.differences)
        lines.append("")
        verdict = {
            "safe": "SAFE: no safety rule violated",
            "unsafe": "UNSAFE: "
            + "; ".join(
                part
                for part, present in (
                    (
                        f"{len(self._distinct_violations())} violation(s)",
                        any(not r.report.ok for r in self.runs),
                    ),
                    ("the outcome depends on the cursor style", self.pagination_dependent),
                )
                if present
            ),
            "crashed": "CRASHED: the script did not run to completion",
        }[self.verdict]
        lines.append(f"{verdict} (exit {self.exit_code})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "artifact-guard-simulate",
            "format_version": 2,
            "script": self.script,
            "args": list(self.args),
            "scope": str(self.scope),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "ok": self.ok,
            "bytes_freed": self.report.bytes_freed,
            "pagination_dependent": self.pagination_dependent,
            "differences": list(self.differences),
            "runs": [r.to_dict() for r in self.runs],
        }


def _differences(runs: Sequence[ScriptRun]) -> tuple[str, ...]:
    if len(runs) < 2:
        return ()
    first, *rest = runs
    out: list[str] = []
    for other in rest:
        only_first = sorted(first.outcome() - other.outcome())
        only_other = sorted(other.outcome() - first.outcome())
        if not only_first and not only_other and first.returncode == other.returncode:
            continue
        if first.returncode != other.returncode:
            out.append(
                f"the script exited {first.returncode} with {first.pagination} cursors "
                f"and {other.returncode} with {other.pagination} cursors"
            )
        for mine, name, other_name in (
            (only_first, first.pagination, other.pagination),
            (only_other, other.pagination, first.pagination),
        ):
            if not mine:
                continue
            deleted = [t for k, t in mine if k == ChangeKind.DELETE_VERSION.value]
            shown = ", ".join(t for _, t in mine[:5]) + (" ..." if len(mine) > 5 else "")
            what = f"{len(deleted)} version deletion(s)" if deleted else f"{len(mine)} change(s)"
            out.append(f"{what} made with {name} cursors did not happen with {other_name} cursors: {shown}")
        out.append(
            "the script changes what it iterates over while paginating; collect the list first "
            "(list(...)) and delete afterwards"
        )
    return tuple(out)


# --------------------------------------------------------------------------- entry


def simulate(
    script: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    seed: str | None = None,
    snapshot: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
    pagination: PaginationChoice = "stable",
    project: str | None = None,
    timeout: float = 120.0,
    strict: bool = False,
    setup: str | os.PathLike[str] | None = None,
) -> SimulationResult:
    """Run ``script`` with ``args`` against a fake W&B started from ``seed`` or ``snapshot``.

    ``setup`` is a seeding script (any ``wandb`` code: ``wandb.init``,
    ``log_artifact``, ...) run against the fake first, on top of ``seed`` or
    ``snapshot`` if given, else on an empty fake; see :func:`_with_setup`.

    Raises :class:`SimulationError` (or :class:`SnapshotError`) before
    anything runs when the inputs are wrong, or when the setup script fails.
    A script that crashes, hangs or forks does not raise: the result says so
    (``exit_code`` 2).
    """
    path = Path(script)
    if not path.is_file():
        raise SimulationError(f"script {str(script)!r} does not exist")
    if pagination not in ("stable", "offset", "both"):
        raise SimulationError(f"--pagination must be stable, offset or both, not {pagination!r}")
    if not timeout > 0:
        raise SimulationError(f"--timeout must be a positive number of seconds, not {timeout!r}")
    if setup is not None and seed is None and snapshot is None:
        load = _empty_fake
    else:
        load = _loader(seed, Path(snapshot) if snapshot is not None else None)
    if setup is not None:
        load = _with_setup(load, Path(setup), project, timeout)
    policy = policy if policy is not None else Policy()
    # Built once now: a broken snapshot fails before any server starts, and
    # the first run reuses it (a big snapshot takes a while to load).
    first = load()
    scope = _scope_of(first, project)
    styles: list[Literal["stable", "offset"]] = ["stable", "offset"] if pagination == "both" else [pagination]
    runs = tuple(
        _one_run(path, tuple(args), first if i == 0 else load(), scope, policy, style, timeout, strict)
        for i, style in enumerate(styles)
    )
    return SimulationResult(
        script=str(script), args=tuple(args), scope=scope, runs=runs, differences=_differences(runs)
    )


def _one_run(
    script: Path,
    args: tuple[str, ...],
    fake: FakeWandb,
    scope: Scope,
    policy: Policy,
    pagination: Literal["stable", "offset"],
    timeout: float,
    strict: bool = False,
) -> ScriptRun:
    from fakes.server import FakeWandbServer

    before = capture(fake.repository(), scope, dedupe=fake.dedupe, now=fake.now())
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    with (
        tempfile.TemporaryDirectory(prefix="artifact-guard-simulate-") as tmp,
        FakeWandbServer(fake, pagination=pagination, entity=scope.entity, project=scope.project) as server,
    ):
        env.update(server.env())
        outcome = _run_script(script, args, env, timeout, Path(tmp))
        requests = sum(1 for r in server.requests if r.path.startswith(("/graphql", "/api/graphql")))
    return ScriptRun(
        pagination=pagination,
        returncode=outcome.returncode,
        timed_out=outcome.timed_out,
        duration_s=outcome.duration_s,
        stdout_tail=outcome.stdout_tail,
        stderr_tail=outcome.stderr_tail,
        forked=outcome.forked,
        # The live fake, not only its snapshot: it recorded each deletion with the state just before it.
        report=audit(before, fake, policy, strict=strict),
        requests=requests,
        timeout_s=timeout,
    )


# --------------------------------------------------------------------------- html


def render_html(result: SimulationResult) -> str:
    """A self-contained HTML page of a simulation: violations first, the rest folded (see ``_html``)."""
    from ._html import render_simulation_html

    return render_simulation_html(result)
