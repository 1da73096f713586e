"""The ``artifact-guard simulate`` command (registered on the CLI app by :func:`register`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ._policy import Policy

__all__ = ["register"]

_EPILOG = (
    "Exit status: 0 safe; 1 a safety rule was violated or the outcome depends on the cursor style; "
    "2 usage error, or the script crashed, hung or left processes behind. "
    "Put -- before script arguments that look like options."
)


def _load_policy(path: Path | None) -> Policy:
    """``--policy FILE``, else the policy file discovered from the working directory, else the defaults."""
    from ._policy import Policy
    from ._policy_file import discover_policy, load_policy

    if path is None:
        path = discover_policy()
        if path is None:
            return Policy()
        print(f"policy: {path} (found from the working directory)", file=sys.stderr)
    return load_policy(path)


def simulate_command(
    ctx: typer.Context,
    script: Annotated[Path, typer.Argument(help="The cleanup script to run (python), unmodified.")],
    args: Annotated[
        list[str] | None, typer.Argument(help="Arguments passed to the script.", show_default=False)
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Start from a named state: demo or many-checkpoints."),
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Start from a snapshot file of a real project.")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "-p",
            "--policy",
            metavar="FILE",
            help="Policy file that judges the script (default: found from the working directory up, "
            "else the default safety rules).",
        ),
    ] = None,
    pagination: Annotated[
        str,
        typer.Option(
            help="Cursor style of the fake's listings: stable, offset, or both (runs the script twice)."
        ),
    ] = "stable",
    project: Annotated[
        str | None, typer.Option(help="entity/project to audit when the start holds several.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds the script may run before it is killed.")] = 120.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Fail when the script leaves versions the policy deletes (default: a warning)."
        ),
    ] = False,
    setup: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="A seeding script (any wandb code) run against the fake before SCRIPT."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html_file: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Also write the report as an HTML page.")
    ] = None,
    markdown_file: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            metavar="FILE",
            help="Also write a Markdown summary (a PR comment; $GITHUB_STEP_SUMMARY is appended to).",
        ),
    ] = None,
) -> None:
    """Run a cleanup script against a fake W&B and audit what it deleted.

    Example: artifact-guard simulate cleanup.py demo-team/vision/train-000 --seed demo --pagination both
    """
    from ._errors import ArtifactGuardError
    from ._simulate import render_html, simulate

    args = [*(args or []), *ctx.args]
    if pagination not in ("stable", "offset", "both"):
        raise typer.BadParameter("expected stable, offset or both", param_hint="--pagination")
    try:
        the_policy = _load_policy(policy)
        result = simulate(
            script,
            args,
            seed=seed,
            snapshot=snapshot,
            policy=the_policy,
            pagination=pagination,  # type: ignore[arg-type]
            project=project,
            timeout=timeout,
            strict=strict,
            setup=setup,
        )
    except ArtifactGuardError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    if html_file is not None:
        try:
            html_file.write_text(render_html(result), encoding="utf-8")
        except OSError as e:
            print(f"error: cannot write {str(html_file)!r}: {e.strerror or e}", file=sys.stderr)
            raise typer.Exit(2) from None
    if markdown_file is not None:
        from ._markdown import simulation_markdown
        from .cli import write_summary

        write_summary(markdown_file, simulation_markdown(result))
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.explain())
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the CLI app."""
    app.command(
        "simulate",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        epilog=_EPILOG,
    )(simulate_command)
