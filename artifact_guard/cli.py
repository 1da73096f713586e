"""The ``artifact-guard`` command line.

Exit codes (every command):

- 0: success;
- 1: violations found, an apply refused (declined at the prompt) or left work undone;
- 2: usage or input error: a malformed policy or plan file, a snapshot from a newer format,
  a bad path, refused credentials. One line on stderr, nothing deleted, never a traceback.

Every command works against real W&B (credentials from the environment, as wandb
reads them: ``WANDB_API_KEY`` or ``~/.netrc``, ``WANDB_BASE_URL``) or offline:
``--snapshot FILE`` (a snapshot file) or ``--seed NAME`` (a built-in fake project:
``demo``, ``many-checkpoints``). ``--fake FILE``, the old spelling of ``--snapshot``, is
still read (hidden) for one release.
wandb and the heavier modules are imported inside the commands that need them, so
``artifact-guard --help`` stays fast (``bench/cli_startup.py``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from ._errors import ArtifactGuardError

if TYPE_CHECKING:
    from fakes import FakeWandb

    from ._planner import Plan
    from ._repository import ArtifactRepository

_EPILOG = (
    "Exit codes: 0 ok; 1 violations found, or an apply declined or left work undone; "
    "2 usage or input error (one line on stderr, nothing deleted). "
    "Offline: --snapshot FILE or --seed NAME (demo, many-checkpoints) instead of real W&B."
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(2)


# click's UsageError, reached through typer's public BadParameter (a UsageError subclass): typer
# vendors its own click in some versions and uses the click package in others, and neither's
# private module path is ours to import.
_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError" and issubclass(c, Exception)
)


def _is_help_request(exc: BaseException) -> bool:
    # `artifact-guard policy` with no subcommand: click (8.2+) raises NoArgsIsHelpError to show the help.
    return type(exc).__name__ == "NoArgsIsHelpError"


class _Guarded(TyperGroup):
    """The one place where failures of the world become one line on stderr and exit code 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = _hoist_global_flags(args)
        # Top-level usage errors (`artifact-guard --bogus`) are raised while parsing, before invoke.
        with _one_line_errors(ctx):
            result: list[str] = super().parse_args(ctx, args)
        return result

    def invoke(self, ctx: Any) -> Any:  # a click.Context
        with _one_line_errors(ctx):
            return super().invoke(ctx)


_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose"})


def _hoist_global_flags(args: list[str]) -> list[str]:
    """``artifact-guard apply plan.json -q`` means ``artifact-guard -q apply plan.json``.

    Not for ``simulate``, whose trailing arguments belong to the script, nor after ``--``.
    """
    if not args or args[0] == "simulate" or args[0].startswith("-"):
        return args
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in _GLOBAL_FLAGS]
    if not flags:
        return args
    return [*flags, *(a for a in args[:end] if a not in _GLOBAL_FLAGS), *args[end:]]


@contextmanager
def _one_line_errors(ctx: Any) -> Iterator[None]:
    try:
        yield
    except _USAGE_ERROR as exc:
        if _is_help_request(exc):
            raise
        # click would print Usage/Try/Error over four lines; the promise is one.
        exc_ctx = getattr(exc, "ctx", None)
        where = exc_ctx.command_path if exc_ctx is not None else ctx.command_path
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"{message} (see '{where} --help')")
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
    context_settings={"help_option_names": ["-h", "--help"]},
)
policy_app = typer.Typer(
    name="policy", help="Read and explain policy files.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(policy_app)


_verbosity = 0
"""-1 quiet (errors and each command's final line), 0 normal, 1 verbose (each repository operation)."""


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"artifact-guard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors and each command's final line.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also print each operation sent to W&B (or the fake), on stderr."
        ),
    ] = False,
) -> None:
    """Safe, fast, testable deletion of Weights & Biases artifacts.

    -q and -v go before or after the command: artifact-guard apply plan.json --yes -q

    \b
    Examples:
      artifact-guard inventory my-team/my-project
      artifact-guard plan my-team/my-project --policy artifact-guard.toml -o plan.json --html plan.html
      artifact-guard apply plan.json
      artifact-guard plan demo-team/vision --seed demo --policy artifact-guard.toml --interactive -o plan.json
      artifact-guard policy explain artifact-guard.toml
    """
    global _verbosity
    if quiet and verbose:
        _fail("give either --quiet or --verbose, not both")
    _verbosity = -1 if quiet else (1 if verbose else 0)


_PIPE_WIDTH = 1000
"""Console width off a terminal: tables size to their content, so piped output keeps whole names."""


def _console(*, stderr: bool = False, final: bool = False) -> Console:
    """Where a command prints. Off a terminal nothing is wrapped or cut (CI logs, ``> out.txt``).

    With --quiet only the ``final`` console prints; the others discard what they are given.
    """
    if _verbosity < 0 and not final:
        import io

        return Console(file=io.StringIO())
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return Console(file=stream)
    return Console(file=stream, width=_PIPE_WIDTH, soft_wrap=True)


def _progress() -> bool:
    """apply/resume progress: a bar on a terminal, a plain line every 5 s elsewhere; none with --quiet."""
    return _verbosity >= 0


def _traced_arg(value: Any) -> str:
    """An argument as --verbose shows it: a batch of ids (a plan prefetches every manifest) in brief."""
    if isinstance(value, list | tuple) and len(value) > 3:
        return "[" + ", ".join(map(repr, value[:3])) + f", ... {len(value):,} in all]"
    return str(value)


class _Traced:
    """--verbose: the repository, saying each operation on stderr as it is sent."""

    _QUIET = frozenset({"now"})
    """Public methods that send nothing (the clock): not traced."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)  # e.g. plan's progress hook belongs to the repository

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        # Every public method of a repository is a read or write it sends (batch re-reads included).
        if name.startswith("_") or name in self._QUIET or not callable(attr):
            return attr

        def traced(*args: Any, **kwargs: Any) -> Any:
            shown = ", ".join([*(_traced_arg(a) for a in args), *(f"{k}={v}" for k, v in kwargs.items())])
            typer.echo(f"-> {name}({shown})", err=True)
            return attr(*args, **kwargs)

        return traced


# ------------------------------------------------------------------ sources

SnapshotOpt = Annotated[
    Path | None,
    typer.Option("--snapshot", metavar="FILE", help="Work offline against a snapshot file, not W&B."),
]
LegacyFakeOpt = Annotated[
    Path | None,
    # The 0.1 spelling of --snapshot, kept (hidden) for one release.
    typer.Option("--fake", metavar="FILE", hidden=True),
]
SeedOpt = Annotated[
    str | None,
    typer.Option(
        "--seed",
        metavar="NAME",
        help="Work offline against a built-in fake project: demo or many-checkpoints.",
    ),
]


def _seed_names() -> list[str]:
    from ._simulate import SEEDS

    return sorted(SEEDS)


def _seeded(name: str) -> FakeWandb:
    """The built-in fake project ``name`` (one list for every command: ``_simulate.SEEDS``)."""
    from ._simulate import SEEDS

    if name not in SEEDS:
        raise typer.BadParameter(
            f"unknown seed {name!r}; known: {', '.join(sorted(SEEDS))}", param_hint="--seed"
        )
    return SEEDS[name]()


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


def _open_source(
    fake: Path | None,
    seed: str | None,
    workspace: Path | None = None,
    *,
    both: bool = False,
    legacy: bool = False,
) -> _Source:
    """The repository a command works on: a snapshot, a built-in seed, or real W&B."""
    if both:
        _fail("--fake is the old spelling of --snapshot: give one of them")
    if legacy and _verbosity >= 0:
        typer.echo("note: --fake FILE is now --snapshot FILE; --fake goes in the next release", err=True)
    if fake is not None and seed is not None:
        _fail("give either --snapshot FILE or --seed NAME, not both")
    if seed is not None:
        f = _seeded(seed)
        return _traced(_Source(f.repository(), f, f.now(), f"the built-in {seed} project (offline)"))
    if fake is not None:
        from fakes import load_snapshot

        f = load_snapshot(fake)
        return _traced(_Source(f.repository(), f, f.now(), f"snapshot {fake} (offline)"))
    from .adapters.wandb import WandbRepository

    repo = WandbRepository(cache=_workspace(workspace))
    return _traced(_Source(repo, None, datetime.now(UTC), f"W&B at {repo.base_url}"))


def _traced(source: _Source) -> _Source:
    if _verbosity > 0:
        source.repository = _Traced(source.repository)
    return source


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


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _confirm(question: str) -> bool:
    """Ask ``question`` on stderr (stdout may carry --json); an answer piped in (``echo y |``) counts.

    With no terminal and nothing piped in (``< /dev/null``, a CI step), there is nobody to ask:
    one line says to pass --yes, exit 2, rather than click's prompt and "Aborted!".
    """
    if _stdin_is_terminal():
        sys.stderr.write(f"{question} [y/N]: ")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")  # EOF (Ctrl-D): no
    line = sys.stdin.readline()
    if not line:
        _fail(
            f"{question.rstrip('?')}: confirmation needed but standard input is not a terminal and "
            "gave no answer; pass --yes to go ahead without asking"
        )
    answer = line.strip().lower()
    typer.echo(f"{question} [y/N]: {answer} (answered on standard input)", err=True)
    return answer in ("y", "yes")


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def write_summary(path: Path, text: str) -> None:
    """Write a Markdown summary; ``$GITHUB_STEP_SUMMARY`` is appended to, as GitHub's steps share it."""
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    append = step_summary is not None and Path(step_summary).absolute() == path.absolute()
    with _writing(path), path.open("a" if append else "w", encoding="utf-8") as f:
        f.write(text)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failure to write an output file into one line (exit 2)."""
    try:
        yield
    except OSError as exc:
        _fail(f"cannot write {str(path)!r}: {exc.strerror or exc}")


def _policy_path(given: Path | None, command: str = "plan") -> Path:
    """``given``, or the policy file discovered from the working directory (said on stderr)."""
    if given is not None:
        return given
    from ._policy_file import discover_policy

    found = discover_policy()
    if found is None:
        _fail(
            f"no policy file: neither artifact-guard.toml nor a pyproject.toml with [tool.artifact-guard] "
            f"in {Path.cwd()} or any folder above it; pass --policy FILE "
            f"(see 'artifact-guard {command} --help')"
        )
    if _verbosity >= 0:
        typer.echo(f"policy: {_shown(found)} (found from the working directory)", err=True)
    return found


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ inventory


@app.command(epilog=_EPILOG)
def inventory(
    scope: Annotated[str, typer.Argument(metavar="SCOPE", help="entity/project")],
    dedupe: Annotated[
        str, typer.Option(metavar="collection|project", help="Scope in which W&B shares stored files.")
    ] = "collection",
    snapshot_file: SnapshotOpt = None,
    fake: LegacyFakeOpt = None,
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
    source = _open_source(
        snapshot_file or fake, seed, workspace, both=bool(snapshot_file and fake), legacy=fake is not None
    )
    inv = take_inventory(source.repository, sc, dedupe=dedupe)  # type: ignore[arg-type]
    if as_json:
        _print_json(inv.to_json())
        return
    from ._render import print_inventory

    print_inventory(inv, _console())
    if _verbosity < 0:
        _console(final=True).print(inv.total_line())


# ------------------------------------------------------------------ plan


@app.command(epilog=_EPILOG)
def plan(
    scope: Annotated[str, typer.Argument(metavar="SCOPE", help="entity/project")],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            "-p",
            metavar="FILE",
            help="Policy file: artifact-guard.toml or pyproject.toml. Default: the first found from the "
            "working directory upwards, artifact-guard.toml before pyproject.toml [tool.artifact-guard].",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the plan as JSON.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write a self-contained HTML report.")
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            metavar="FILE",
            help="Write a Markdown summary (a PR comment; $GITHUB_STEP_SUMMARY is appended to).",
        ),
    ] = None,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive", "-i", help="Step through the plan; exclude or include versions before saving."
        ),
    ] = False,
    dedupe: Annotated[
        str | None,
        typer.Option(
            metavar="collection|project|entity",
            help="Scope in which W&B shares stored files (default: a snapshot's or seed's own, "
            "else collection).",
        ),
    ] = None,
    snapshot_file: SnapshotOpt = None,
    fake: LegacyFakeOpt = None,
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

    if dedupe is not None and dedupe not in ("collection", "project", "entity"):
        raise typer.BadParameter("expected collection, project or entity", param_hint="--dedupe")
    if interactive and output is None:
        _fail("--interactive needs --output FILE to save the reviewed plan")
    if interactive and as_json:
        _fail("--interactive and --json do not mix: the review talks to a person")
    sc = _scope(scope)
    the_policy = load_policy(_policy_path(policy))
    source = _open_source(
        snapshot_file or fake, seed, workspace, both=bool(snapshot_file and fake), legacy=fake is not None
    )
    with _planning_status(source.repository, quiet=as_json or _verbosity < 0):
        the_plan = make_plan(source.repository, sc, the_policy, now=source.now, dedupe=dedupe)  # type: ignore[arg-type]
    if interactive:
        from ._interactive import review

        reviewed = review(the_plan, source.repository, Console())  # a person at a terminal
        if reviewed is None:
            typer.echo("review abandoned: nothing saved", err=True)
            raise typer.Exit(1)
        the_plan = reviewed
    _emit_plan(the_plan, output=output, html=html, markdown=markdown, as_json=as_json, quiet=interactive)


@contextmanager
def _planning_status(repository: object, *, quiet: bool) -> Iterator[None]:
    """While a repository that reports progress is read: a live line on a terminal, else a plain
    line on stderr at most every ``PLAIN_PROGRESS_EVERY`` seconds (a CI log never looks hung)."""
    if quiet or _verbosity < 0 or not hasattr(repository, "progress"):
        yield
        return
    counts = {"versions": 0, "manifests": 0}

    def line() -> str:
        return f"planning: {counts['versions']:,} versions listed, {counts['manifests']:,} manifests read"

    if not sys.stderr.isatty():
        last = [_monotonic()]

        def plain(what: str, total: int) -> None:
            counts[what] = total
            now = _monotonic()
            if now - last[0] >= PLAIN_PROGRESS_EVERY:
                last[0] = now
                print(line(), file=sys.stderr, flush=True)

        repository.progress = plain
        try:
            yield
        finally:
            repository.progress = None
        return
    with Console(stderr=True).status("planning: listing versions") as status:

        def report(what: str, total: int) -> None:
            counts[what] = total
            status.update(line())

        repository.progress = report
        try:
            yield
        finally:
            repository.progress = None


PLAIN_PROGRESS_EVERY = 5.0
"""Seconds between plain progress lines off a terminal."""
_monotonic = time.monotonic


def _emit_plan(
    the_plan: Plan,
    *,
    output: Path | None,
    html: Path | None,
    markdown: Path | None = None,
    as_json: bool,
    quiet: bool,
) -> None:
    from ._plan_io import dump_plan, plan_to_json

    if output is not None:
        dump_plan(the_plan, output)
    if html is not None:
        from ._html import render_plan_html

        with _writing(html):
            html.write_text(render_plan_html(the_plan), encoding="utf-8")
    if markdown is not None:
        from ._markdown import plan_markdown

        write_summary(markdown, plan_markdown(the_plan))
    if as_json:
        _print_json(plan_to_json(the_plan))
        return
    console = _console()
    if not quiet:
        from ._render import print_plan

        print_plan(the_plan, console)
    else:
        console.print(the_plan.summary())
    if the_plan.deletions:
        from ._executor import estimate_apply

        console.print(str(estimate_apply(the_plan)), highlight=False)
    for path, what in ((output, "plan"), (html, "HTML report"), (markdown, "Markdown summary")):
        if path is not None:
            console.print(f"wrote {what} to {path}")
    if _verbosity < 0:
        _console(final=True).print(_plan_line(the_plan, output))


def _plan_line(the_plan: Plan, output: Path | None) -> str:
    """--quiet's one line for plan."""
    from ._planner import format_bytes

    deleted = len(the_plan.deletions)
    line = (
        f"plan {the_plan.id[:12]} for {the_plan.scope}: {deleted} to delete, "
        f"{len(the_plan.decisions) - deleted} to keep; frees {format_bytes(the_plan.reclaimable_bytes)}"
    )
    return line + (f"; wrote {output}" if output is not None else "")


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
    snapshot_file: SnapshotOpt = None,
    fake: LegacyFakeOpt = None,
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
    source = _open_source(
        snapshot_file or fake, seed, workspace, both=bool(snapshot_file and fake), legacy=fake is not None
    )
    err = _console(stderr=as_json)
    err.print(the_plan.summary())
    err.print(f"target: {source.label}")
    age = source.now - the_plan.created_at
    if age > timedelta(0):
        from ._policy_file import duration_words

        err.print(
            f"the plan is {duration_words(timedelta(seconds=int(age.total_seconds())))} old: "
            "every deletion is re-validated against the current state before its write call"
        )
    if not the_plan.deletions:
        _console(stderr=as_json, final=True).print("nothing to delete")
        if as_json:
            # The same documented document as any apply, so that scripts need no special case.
            _print_json(
                _envelope(
                    "artifact-guard-apply-result",
                    {
                        "plan_id": the_plan.id,
                        "scope": str(the_plan.scope),
                        "ok": True,
                        "complete": True,
                        **{key: [] for key in ("done", "already_deleted", "skipped", "failed", "pending")},
                        "stopped": None,
                        "write_calls": 0,
                        "predicted_bytes": 0,
                        "journal": None,
                    },
                )
            )
        return
    if not yes and not _confirm(f"Delete {len(the_plan.deletions)} version(s) from {the_plan.scope}?"):
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
        progress=_progress(),
    )
    freed = source.fake.gc() if source.fake is not None else None
    if as_json:
        _print_json(_result_json(result, freed))
    elif _verbosity < 0:
        _console(final=True).print(result.summary().splitlines()[0])
    else:
        err.print(result.summary())
        if freed is not None:
            err.print(f"garbage collection freed {freed} bytes (offline; nothing was written to W&B)")
    if not result.ok:
        raise typer.Exit(1)


JSON_FORMATS: dict[str, int] = {
    "artifact-guard-plan": 1,
    "artifact-guard-inventory": 1,
    "artifact-guard-apply-result": 2,
    "artifact-guard-snapshot-result": 1,
    "artifact-guard-policy": 1,
    "artifact-guard-simulate": 2,
}
"""Every ``--json`` document and its current version (docs/json-output.md)."""


def _envelope(fmt: str, body: dict[str, Any]) -> dict[str, Any]:
    """``format`` and ``format_version`` first, then the document: one envelope for every --json."""
    return {"format": fmt, "format_version": JSON_FORMATS[fmt], **body}


def _result_json(result: Any, freed: int | None = None) -> dict[str, Any]:
    def named(vid: str) -> dict[str, str]:
        return {"id": vid, "name": result.labels.get(vid, vid)}

    data: dict[str, Any] = {
        "plan_id": result.plan_id,
        "scope": result.scope,
        "ok": result.ok,
        "complete": result.complete,
        "done": [named(vid) for vid in result.done],
        "already_deleted": [named(vid) for vid in result.already_deleted],
        "skipped": [{**named(vid), "reasons": [r.rule for r in reasons]} for vid, reasons in result.skipped],
        "failed": [{**named(vid), "error": error} for vid, error in result.failed],
        "pending": [named(vid) for vid in result.pending],
        "stopped": result.stopped,
        "write_calls": result.write_calls,
        "predicted_bytes": result.predicted_bytes,
        "journal": str(result.journal_path) if result.journal_path is not None else None,
    }
    if freed is not None:
        data["freed_bytes"] = freed
    return _envelope("artifact-guard-apply-result", data)


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
        _console().print(result.summary())
        if not result.complete:
            _console(final=True).print("unfinished: run `artifact-guard resume` to finish it")
        elif _verbosity < 0:
            _console(final=True).print(result.summary().splitlines()[0])
    if not result.ok:
        raise typer.Exit(1)


@app.command(epilog=_EPILOG)
def resume(
    journal: JournalOpt = None,
    plan_id: PlanIdOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    snapshot_file: SnapshotOpt = None,
    fake: LegacyFakeOpt = None,
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
    err = _console(stderr=as_json)
    err.print(before.summary())
    if before.complete and not before.failed:
        _console(stderr=as_json, final=True).print("nothing to resume")
        if as_json:
            _print_json(_result_json(before))
        return
    if not yes and not _confirm(
        f"Resume plan {before.plan_id[:12]} on {before.scope} ({len(before.pending)} pending, "
        f"{len(before.failed)} failed)?"
    ):
        err.print("not resumed: nothing deleted")
        raise typer.Exit(1)
    source = _open_source(
        snapshot_file or fake, seed, workspace, both=bool(snapshot_file and fake), legacy=fake is not None
    )
    result = run_resume(
        path,
        source.repository,
        plan_id=before.plan_id,
        now=source.now if source.fake is not None else None,
        progress=_progress(),
    )
    if as_json:
        _print_json(_result_json(result))
    elif _verbosity < 0:
        _console(final=True).print(result.summary().splitlines()[0])
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
    snapshot_file: SnapshotOpt = None,
    fake: LegacyFakeOpt = None,
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
    source = _open_source(
        snapshot_file or fake, seed, workspace, both=bool(snapshot_file and fake), legacy=fake is not None
    )
    snap = capture(source.repository, sc, now=source.now)
    with _writing(output):
        write_snapshot(snap, output)
    if as_json:
        _print_json(
            _envelope(
                "artifact-guard-snapshot-result",
                {
                    "scope": str(sc),
                    "path": str(output),
                    "versions": len(snap.versions),
                    "taken_at": snap.taken_at.isoformat(),
                },
            )
        )
        return
    _console(final=True).print(f"wrote snapshot of {sc} ({len(snap.versions)} versions) to {output}")


@app.command("serve-fake", epilog=_EPILOG)
def serve_fake(
    seed: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Start from a built-in fake project: demo or many-checkpoints."),
    ] = None,
    snapshot_file: Annotated[
        Path | None,
        typer.Option("--snapshot", metavar="FILE", help="Start from a snapshot file of a real project."),
    ] = None,
    pagination: Annotated[
        str, typer.Option(metavar="stable|offset", help="Cursor style of listings.")
    ] = "stable",
    entity: Annotated[str | None, typer.Option(help="WANDB_ENTITY to print for clients.")] = None,
    project: Annotated[str | None, typer.Option(help="WANDB_PROJECT to print for clients.")] = None,
) -> None:
    """Serve a fake W&B on 127.0.0.1 that the real wandb SDK (and your scripts) can talk to.

    \b
    Examples:
      artifact-guard serve-fake --seed demo
      artifact-guard serve-fake --snapshot my-project.json.gz
    """
    if pagination not in ("stable", "offset"):
        raise typer.BadParameter("expected stable or offset", param_hint="--pagination")
    if seed is not None and seed not in _seed_names() and snapshot_file is None and Path(seed).is_file():
        # 0.1 spelled a snapshot `--seed FILE`; still read for one release.
        typer.echo(f"note: --seed FILE is now --snapshot FILE (reading {seed} as a snapshot)", err=True)
        snapshot_file, seed = Path(seed), None
    if seed is not None and snapshot_file is not None:
        _fail("give either --snapshot FILE or --seed NAME, not both")
    if seed is not None:
        fake = _seeded(seed)
    elif snapshot_file is not None:
        from fakes import load_snapshot

        fake = load_snapshot(snapshot_file)
    else:
        from fakes import FakeWandb

        fake = FakeWandb()
    _serve(fake, pagination=pagination, entity=entity, project=project)


def _serve(fake: FakeWandb, *, pagination: str, entity: str | None, project: str | None) -> None:
    """Serve ``fake`` until Ctrl-C or SIGTERM, after printing how clients reach it."""
    import signal
    import threading

    from fakes.server import FakeWandbServer

    stop = threading.Event()
    server = FakeWandbServer(fake, pagination=pagination, entity=entity, project=project)  # type: ignore[arg-type]
    with server:
        # A service manager (or `kill`) stops us with SIGTERM: leave as Ctrl-C does, so the server
        # closes and removes its temporary folder.
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        try:
            with suppress(KeyboardInterrupt):
                typer.echo(f"fake W&B server at {server.url}")
                typer.echo(f"API key: {server.api_key}")
                typer.echo("environment for clients:")
                for name, value in server.env().items():
                    typer.echo(f"  export {name}={value}")
                sys.stdout.flush()
                stop.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------ policy


@policy_app.command("explain", epilog=_EPILOG)
def policy_explain(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="artifact-guard.toml or pyproject.toml; default: found from the working directory up.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Say a policy file in words (and check it: exit 2 with the reason if it is invalid).

    \b
    Examples:
      artifact-guard policy explain artifact-guard.toml
      artifact-guard policy explain      # the policy plan would find
    """
    file = _policy_path(file, "policy explain")
    from ._planner import refuse_empty
    from ._policy_file import explain_policy, load_policy, policy_to_dict

    p = load_policy(file)
    refuse_empty(p)  # `plan` would refuse it: say so now, not at plan time
    if as_json:
        _print_json(
            _envelope(
                "artifact-guard-policy",
                {"source": str(file), "policy": policy_to_dict(p), "explanation": explain_policy(p)},
            )
        )
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

    console = _console()
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
        _console(final=True).print("[red bold]MISMATCH[/]: freed bytes differ from the prediction")
        raise typer.Exit(1)
    _console(final=True).print("[green bold]OK[/]: bytes freed equal the prediction exactly.")


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
