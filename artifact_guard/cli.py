"""The ``artifact-guard`` command line.

Exit codes (every command):

- 0: success;
- 1: violations found, an apply refused (declined at the prompt) or left work undone;
- 2: usage or input error: a malformed policy or plan file, a snapshot from a newer format,
  a bad path, refused credentials. One line on stderr, nothing deleted, never a traceback.

Every command works against real W&B (credentials from the environment, as wandb
reads them: ``WANDB_API_KEY`` or ``~/.netrc``, ``WANDB_BASE_URL``) or offline:
``--fake SNAPSHOT`` (a snapshot file) or ``--seed demo`` (the built-in demo project).
wandb and the heavier modules are imported inside the commands that need them, so
``artifact-guard --help`` stays fast (``bench/cli_startup.py``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer vendors click
from typer.core import TyperGroup

from ._errors import ArtifactGuardError

if TYPE_CHECKING:
    from fakes import FakeWandb

    from ._planner import Plan
    from ._repository import ArtifactRepository

_EPILOG = (
    "Exit codes: 0 ok; 1 violations found, or an apply declined or left work undone; "
    "2 usage or input error (one line on stderr, nothing deleted). "
    "Offline: --fake SNAPSHOT or --seed demo instead of real W&B."
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(2)


class _Guarded(TyperGroup):
    """The one place where failures of the world become one line on stderr and exit code 2."""

    def invoke(self, ctx: Any) -> Any:  # click.Context (typer vendors its own click)
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # `artifact-guard policy`: the help, as asked
        except UsageError as exc:
            # click would print Usage/Try/Error over four lines; the promise is one.
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            _fail(f"{exc.format_message()} (see '{where} --help')")
        except ArtifactGuardError as exc:
            _fail(str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")


app = typer.Typer(
    name="artifact-guard",
    cls=_Guarded,
    epilog=_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policy_app = typer.Typer(
    name="policy", help="Read and explain policy files.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(policy_app)


@app.callback()
def _root() -> None:
    """Safe, fast, testable deletion of Weights & Biases artifacts.

    \b
    Examples:
      artifact-guard inventory my-team/my-project
      artifact-guard plan my-team/my-project --policy artifact-guard.toml -o plan.json --html plan.html
      artifact-guard apply plan.json
      artifact-guard plan demo-team/vision --seed demo --policy artifact-guard.toml --interactive -o plan.json
      artifact-guard policy explain artifact-guard.toml
    """


# ------------------------------------------------------------------ sources

FakeOpt = Annotated[
    Path | None,
    typer.Option("--fake", metavar="SNAPSHOT", help="Work offline against a snapshot file, not W&B."),
]
SeedOpt = Annotated[
    str | None,
    typer.Option("--seed", metavar="NAME", help="Work offline against a built-in fake project: demo."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (documented, versioned) instead of tables.")
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        metavar="FILE",
        help="Workspace database file (cache, journal); default workspace.sqlite3 in the folder "
        "$ARTIFACT_GUARD_WORKSPACE, else .artifact-guard/workspace.sqlite3.",
    ),
]


def _workspace(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get("ARTIFACT_GUARD_WORKSPACE", ".artifact-guard")) / "workspace.sqlite3"


@dataclass
class _Source:
    repository: ArtifactRepository
    fake: FakeWandb | None
    """The in-memory fake, for offline sources."""
    now: datetime
    label: str


def _open_source(fake: Path | None, seed: str | None, workspace: Path | None = None) -> _Source:
    """The repository a command works on: a snapshot, a built-in seed, or real W&B."""
    if fake is not None and seed is not None:
        _fail("give either --fake SNAPSHOT or --seed NAME, not both")
    if seed is not None:
        if seed != "demo":
            raise typer.BadParameter(f"unknown seed {seed!r}; known: demo", param_hint="--seed")
        from fakes.demo import seed_demo

        f = seed_demo()
        return _Source(f.repository(), f, f.now(), "the built-in demo project (offline)")
    if fake is not None:
        from fakes import load_snapshot

        f = load_snapshot(fake)
        return _Source(f.repository(), f, f.now(), f"snapshot {fake} (offline)")
    from .adapters.wandb import WandbRepository

    repo = WandbRepository(cache=_workspace(workspace))
    return _Source(repo, None, datetime.now(UTC), f"W&B at {repo.base_url}")


def _scope(text: str) -> Any:
    from ._model import Scope

    refused = typer.BadParameter(f"expected entity/project, got {text!r}", param_hint="SCOPE")
    # W&B names hold no whitespace: "team/proj\n" from a script must not read "team/proj not found".
    if any(c.isspace() or not c.isprintable() for c in text):
        raise refused
    try:
        return Scope.parse(text)
    except ArtifactGuardError:
        raise refused from None


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failure to write an output file into one line (exit 2)."""
    try:
        yield
    except OSError as exc:
        _fail(f"cannot write {str(path)!r}: {exc.strerror or exc}")


# ------------------------------------------------------------------ inventory


@app.command(epilog=_EPILOG)
def inventory(
    scope: Annotated[str, typer.Argument(metavar="SCOPE", help="entity/project")],
    dedupe: Annotated[
        str, typer.Option(metavar="collection|project", help="Scope in which W&B shares stored files.")
    ] = "collection",
    fake: FakeOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Per type and collection: versions, stored bytes, bytes only it holds, last logged, aliases.

    \b
    Example: artifact-guard inventory demo-team/vision --seed demo
    """
    from ._inventory import inventory as take_inventory

    if dedupe not in ("collection", "project"):
        raise typer.BadParameter("expected collection or project", param_hint="--dedupe")
    sc = _scope(scope)
    source = _open_source(fake, seed, workspace)
    inv = take_inventory(source.repository, sc, dedupe=dedupe)  # type: ignore[arg-type]
    if as_json:
        _print_json(inv.to_json())
        return
    from ._render import print_inventory

    print_inventory(inv, Console())


# ------------------------------------------------------------------ plan


@app.command(epilog=_EPILOG)
def plan(
    scope: Annotated[str, typer.Argument(metavar="SCOPE", help="entity/project")],
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", "-p", metavar="FILE", help="Policy file: artifact-guard.toml or pyproject.toml."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the plan as JSON.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write a self-contained HTML report.")
    ] = None,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive", "-i", help="Step through the plan; exclude or include versions before saving."
        ),
    ] = False,
    dedupe: Annotated[
        str, typer.Option(metavar="collection|project", help="Scope in which W&B shares stored files.")
    ] = "collection",
    fake: FakeOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Decide, for every version, keep or delete and why, with the exact bytes freed. Writes nothing to W&B.

    \b
    Examples:
      artifact-guard plan my-team/my-project --policy artifact-guard.toml -o plan.json --html plan.html
      artifact-guard plan demo-team/vision --seed demo -p policy.toml --interactive -o plan.json
    """
    from . import plan as make_plan
    from ._policy_file import load_policy

    if dedupe not in ("collection", "project"):
        raise typer.BadParameter("expected collection or project", param_hint="--dedupe")
    if interactive and output is None:
        _fail("--interactive needs --output FILE to save the reviewed plan")
    if interactive and as_json:
        _fail("--interactive and --json do not mix: the review talks to a person")
    sc = _scope(scope)
    the_policy = load_policy(policy)
    source = _open_source(fake, seed, workspace)
    with _planning_status(source.repository, quiet=as_json):
        the_plan = make_plan(source.repository, sc, the_policy, now=source.now, dedupe=dedupe)  # type: ignore[arg-type]
    if interactive:
        from ._interactive import review

        reviewed = review(the_plan, source.repository, Console())
        if reviewed is None:
            typer.echo("review abandoned: nothing saved", err=True)
            raise typer.Exit(1)
        the_plan = reviewed
    _emit_plan(the_plan, output=output, html=html, as_json=as_json, quiet=interactive)


@contextmanager
def _planning_status(repository: object, *, quiet: bool) -> Iterator[None]:
    """On a terminal, a live line while a repository that reports progress is read."""
    if quiet or not hasattr(repository, "progress") or not sys.stderr.isatty():
        yield
        return
    counts = {"versions": 0, "manifests": 0}
    with Console(stderr=True).status("planning: listing versions") as status:

        def report(what: str, total: int) -> None:
            counts[what] = total
            status.update(
                f"planning: {counts['versions']:,} versions listed, {counts['manifests']:,} manifests read"
            )

        repository.progress = report
        try:
            yield
        finally:
            repository.progress = None


def _emit_plan(the_plan: Plan, *, output: Path | None, html: Path | None, as_json: bool, quiet: bool) -> None:
    from ._plan_io import dump_plan, plan_to_json

    if output is not None:
        dump_plan(the_plan, output)
    if html is not None:
        from ._html import render_plan_html

        with _writing(html):
            html.write_text(render_plan_html(the_plan), encoding="utf-8")
    if as_json:
        _print_json(plan_to_json(the_plan))
        return
    console = Console()
    if not quiet:
        from ._render import print_plan

        print_plan(the_plan, console)
    else:
        console.print(the_plan.summary())
    if the_plan.deletions:
        from ._executor import estimate_apply

        console.print(str(estimate_apply(the_plan)), highlight=False)
    for path, what in ((output, "plan"), (html, "HTML report")):
        if path is not None:
            console.print(f"wrote {what} to {path}")


# ------------------------------------------------------------------ apply


@app.command(epilog=_EPILOG)
def apply(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan file written by `plan -o`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    journal: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Journal (workspace database) to record the apply in; default: the workspace "
            "(W&B), a temporary one (offline).",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="A fixed rate in write operations per second (default: adaptive; 0: no limit)."),
    ] = None,
    max_rate: Annotated[
        float | None,
        typer.Option(
            "--max-rate",
            metavar="N",
            help="Ceiling of the adaptive rate, in operations per second (default: 100).",
        ),
    ] = None,
    fake: FakeOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Carry out a reviewed plan: show its summary, ask, then delete, journaled and resumable.

    Every deletion is re-validated against the live state first: a version that
    changed since the plan was made (new alias, new consumer, running producer)
    is skipped with its reason, never deleted.

    \b
    Examples:
      artifact-guard apply plan.json
      artifact-guard apply plan.json --yes --journal .artifact-guard/workspace.sqlite3
    """
    from . import apply as run_apply
    from ._plan_io import load_plan

    if rate is not None and not rate >= 0:  # also NaN; negative must not silently mean "no limit"
        raise typer.BadParameter(
            f"expected operations per second >= 0 (0: no limit), got {rate}", param_hint="--rate"
        )
    if max_rate is not None and not 0 < max_rate < float("inf"):  # also NaN
        raise typer.BadParameter(
            f"expected a ceiling in operations per second > 0, got {max_rate}", param_hint="--max-rate"
        )
    the_plan = load_plan(plan_file)
    source = _open_source(fake, seed, workspace)
    err = Console(stderr=True) if as_json else Console()
    err.print(the_plan.summary())
    err.print(f"target: {source.label}")
    age = source.now - the_plan.created_at
    if age > timedelta(0):
        from ._policy_file import format_duration

        err.print(
            f"the plan is {format_duration(timedelta(seconds=int(age.total_seconds())))} old: "
            "every deletion is re-validated against the current state before its write call"
        )
    if not the_plan.deletions:
        err.print("nothing to delete")
        if as_json:
            # The same documented document as any apply, so that scripts need no special case.
            _print_json(
                {
                    "format": "artifact-guard-apply-result",
                    "format_version": 1,
                    "plan_id": the_plan.id,
                    "scope": str(the_plan.scope),
                    "ok": True,
                    "complete": True,
                    **{key: [] for key in ("done", "already_deleted", "skipped", "failed", "pending")},
                    "stopped": None,
                    "write_calls": 0,
                    "predicted_bytes": 0,
                    "journal": None,
                }
            )
        return
    if not yes and not typer.confirm(
        f"Delete {len(the_plan.deletions)} version(s) from {the_plan.scope}?", default=False, err=as_json
    ):
        err.print("not applied: nothing deleted")
        raise typer.Exit(1)
    journal_path = journal if journal is not None else (None if source.fake else _workspace(workspace))
    result = run_apply(
        the_plan,
        source.repository,
        journal=journal_path,
        rate="auto" if rate is None else (rate if rate > 0 else None),
        max_rate=max_rate,
        now=source.now if source.fake is not None else None,
        progress=None if not as_json else False,
    )
    freed = source.fake.gc() if source.fake is not None else None
    if as_json:
        _print_json(_result_json(result, freed))
    else:
        err.print(result.summary())
        if freed is not None:
            err.print(f"garbage collection freed {freed} bytes (offline; nothing was written to W&B)")
    if not result.ok:
        raise typer.Exit(1)


def _result_json(result: Any, freed: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "artifact-guard-apply-result",
        "format_version": 1,
        "plan_id": result.plan_id,
        "scope": result.scope,
        "ok": result.ok,
        "complete": result.complete,
        "done": list(result.done),
        "already_deleted": list(result.already_deleted),
        "skipped": [
            {"id": vid, "label": result.labels.get(vid, vid), "reasons": [r.rule for r in reasons]}
            for vid, reasons in result.skipped
        ],
        "failed": [{"id": vid, "error": error} for vid, error in result.failed],
        "pending": list(result.pending),
        "stopped": result.stopped,
        "write_calls": result.write_calls,
        "predicted_bytes": result.predicted_bytes,
        "journal": str(result.journal_path) if result.journal_path is not None else None,
    }
    if freed is not None:
        data["freed_bytes"] = freed
    return data


# ------------------------------------------------------------------ journal


JournalOpt = Annotated[
    Path | None,
    typer.Option("--journal", metavar="FILE", help="Journal (workspace database); default: the workspace."),
]
PlanIdOpt = Annotated[
    str | None, typer.Option("--plan-id", help="Which apply, when the journal holds several (8+ chars).")
]


def _existing_journal(journal: Path | None, workspace: Path | None) -> Path:
    path = journal if journal is not None else _workspace(workspace)
    if not path.is_file():
        _fail(f"no journal at {path}: nothing was applied with this workspace (see --journal)")
    return path


@app.command(epilog=_EPILOG)
def status(
    journal: JournalOpt = None,
    plan_id: PlanIdOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """What the journal records of the last (or given) apply; talks to no server.

    Exit code 1 when the apply is unfinished (resume it) or had failures.

    \b
    Example: artifact-guard status --journal .artifact-guard/workspace.sqlite3
    """
    from . import journal_status

    result = journal_status(_existing_journal(journal, workspace), plan_id=plan_id)
    if as_json:
        _print_json(_result_json(result))
    else:
        Console().print(result.summary())
        if not result.complete:
            Console().print("unfinished: run `artifact-guard resume` to finish it")
    if not result.ok:
        raise typer.Exit(1)


@app.command(epilog=_EPILOG)
def resume(
    journal: JournalOpt = None,
    plan_id: PlanIdOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fake: FakeOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Finish an interrupted apply from its journal; never deletes anything twice.

    \b
    Example: artifact-guard resume --journal .artifact-guard/workspace.sqlite3
    """
    from . import journal_status
    from . import resume as run_resume

    path = _existing_journal(journal, workspace)
    before = journal_status(path, plan_id=plan_id)
    err = Console(stderr=True) if as_json else Console()
    err.print(before.summary())
    if before.complete and not before.failed:
        err.print("nothing to resume")
        if as_json:
            _print_json(_result_json(before))
        return
    if not yes and not typer.confirm(
        f"Resume plan {before.plan_id[:12]} on {before.scope} ({len(before.pending)} pending, "
        f"{len(before.failed)} failed)?",
        default=False,
        err=as_json,
    ):
        err.print("not resumed: nothing deleted")
        raise typer.Exit(1)
    source = _open_source(fake, seed, workspace)
    result = run_resume(
        path,
        source.repository,
        plan_id=before.plan_id,
        now=source.now if source.fake is not None else None,
        progress=None if not as_json else False,
    )
    if as_json:
        _print_json(_result_json(result))
    else:
        err.print(result.summary())
    if not result.ok:
        raise typer.Exit(1)


# ------------------------------------------------------------------ snapshot, serve-fake


@app.command(epilog=_EPILOG)
def snapshot(
    scope: Annotated[str, typer.Argument(metavar="SCOPE", help="entity/project")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="Snapshot file to write (.json or .json.gz)."),
    ],
    fake: FakeOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Record a project's metadata (versions, manifests, lineage, links) for offline planning and simulation.

    \b
    Example: artifact-guard snapshot my-team/my-project -o my-project.json.gz
    """
    from ._snapshot import capture
    from ._snapshot_file import write_snapshot

    sc = _scope(scope)
    source = _open_source(fake, seed, workspace)
    snap = capture(source.repository, sc, now=source.now)
    with _writing(output):
        write_snapshot(snap, output)
    if as_json:
        _print_json(
            {
                "scope": str(sc),
                "path": str(output),
                "versions": len(snap.versions),
                "taken_at": snap.taken_at.isoformat(),
            }
        )
        return
    Console().print(f"wrote snapshot of {sc} ({len(snap.versions)} versions) to {output}")


@app.command("serve-fake", epilog=_EPILOG)
def serve_fake(
    seed: Annotated[
        str | None, typer.Option(metavar="NAME|SNAPSHOT", help="'demo', or a snapshot file to load.")
    ] = None,
    pagination: Annotated[
        str, typer.Option(metavar="stable|offset", help="Cursor style of listings.")
    ] = "stable",
    entity: Annotated[str | None, typer.Option(help="WANDB_ENTITY to print for clients.")] = None,
    project: Annotated[str | None, typer.Option(help="WANDB_PROJECT to print for clients.")] = None,
) -> None:
    """Serve a fake W&B on 127.0.0.1 that the real wandb SDK (and your scripts) can talk to.

    \b
    Example: artifact-guard serve-fake --seed demo
    """
    from fakes.server.__main__ import main as serve

    if pagination not in ("stable", "offset"):
        raise typer.BadParameter("expected stable or offset", param_hint="--pagination")
    argv = ["--pagination", pagination]
    for flag, value in (("--seed", seed), ("--entity", entity), ("--project", project)):
        if value is not None:
            argv += [flag, value]
    code = serve(argv)
    if code:
        raise typer.Exit(code)


# ------------------------------------------------------------------ policy


@policy_app.command("explain", epilog=_EPILOG)
def policy_explain(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="artifact-guard.toml or pyproject.toml")],
    as_json: JsonOpt = False,
) -> None:
    """Say a policy file in words (and check it: exit 2 with the reason if it is invalid).

    \b
    Example: artifact-guard policy explain artifact-guard.toml
    """
    from ._planner import refuse_empty
    from ._policy_file import explain_policy, load_policy, policy_to_dict

    p = load_policy(file)
    refuse_empty(p)  # `plan` would refuse it: say so now, not at plan time
    if as_json:
        _print_json({"policy": policy_to_dict(p), "explanation": explain_policy(p)})
        return
    for line in explain_policy(p):
        typer.echo(line)


# ------------------------------------------------------------------ demo


@app.command(epilog=_EPILOG)
def demo(
    keep_last: int = typer.Option(5, help="Versions to keep per collection."),
) -> None:
    """Seed a realistic fake project, plan a clean-up, apply it, garbage-collect, and check the bytes.

    Example: artifact-guard demo --keep-last 3
    """
    from fakes.demo import DEMO_PROJECT, seed_demo

    from . import Policy, format_bytes
    from . import apply as run_apply
    from . import plan as make_plan
    from ._render import print_plan

    console = Console()
    fake = seed_demo()
    fake.gc()
    before = fake.stored_bytes()
    console.print(
        f"[bold]Seeded[/] {DEMO_PROJECT}: {len(fake.versions())} versions, {format_bytes(before)} stored\n"
    )
    policy = Policy(keep_last=keep_last, grace_period=timedelta(hours=24))
    the_plan = make_plan(fake.repository(), DEMO_PROJECT, policy, now=fake.now())
    print_plan(the_plan, console)
    result = run_apply(the_plan, fake.repository())
    freed = fake.gc()
    console.print(
        f"\n[bold]Applied[/]: {len(result.done)} deleted, {len(result.failed)} failed. "
        f"GC freed {format_bytes(freed)} ({freed} bytes); "
        f"the plan predicted {the_plan.reclaimable_bytes} bytes."
    )
    if freed != the_plan.reclaimable_bytes or not result.ok:
        console.print("[red bold]MISMATCH[/]: freed bytes differ from the prediction")
        raise typer.Exit(1)
    console.print("[green bold]OK[/]: bytes freed equal the prediction exactly.")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        # An interrupted apply leaves its journal consistent (each operation is
        # marked in flight before its call): say how to finish.
        print(
            "interrupted; if an apply was running, `artifact-guard status` shows where it stopped "
            "and `artifact-guard resume` finishes it",
            file=sys.stderr,
        )
        sys.exit(130)


from ._cli_simulate import register as _register_simulate  # noqa: E402 - helper F's command

_register_simulate(app)


if __name__ == "__main__":
    main()
