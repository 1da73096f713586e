"""The ``artifact-guard`` command line.

Exit codes: 0 success; 1 a check found violations; 2 usage or input error.
wandb is imported only by commands that talk to W&B, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import typer
from rich.console import Console

app = typer.Typer(
    name="artifact-guard",
    help="Safe, fast, testable deletion of Weights & Biases artifacts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Safe, fast, testable deletion of Weights & Biases artifacts."""


@app.command()
def demo(
    keep_last: int = typer.Option(5, help="Versions to keep per collection."),
) -> None:
    """Seed a realistic fake project, plan a clean-up, apply it, garbage-collect, and check the bytes.

    Example: artifact-guard demo --keep-last 3
    """
    from fakes.demo import DEMO_PROJECT, seed_demo

    from . import Policy, apply, format_bytes, plan
    from ._render import print_plan

    console = Console()
    fake = seed_demo()
    fake.gc()
    before = fake.stored_bytes()
    console.print(
        f"[bold]Seeded[/] {DEMO_PROJECT}: {len(fake.versions())} versions, {format_bytes(before)} stored\n"
    )
    policy = Policy(keep_last=keep_last, grace_period=timedelta(hours=24))
    the_plan = plan(fake.repository(), DEMO_PROJECT, policy, now=fake.now())
    print_plan(the_plan, console)
    result = apply(the_plan, fake.repository())
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


from ._cli_simulate import register as _register_simulate  # noqa: E402 - helper F's command

_register_simulate(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
