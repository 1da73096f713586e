"""Terminal rendering of plans with rich: one table per collection, runs of equal decisions folded."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._planner import Action, Decision, Plan, format_bytes
from ._rules import describe

__all__ = ["print_plan"]


def _runs(decisions: list[Decision]) -> Iterator[tuple[int, int, Decision, list[Decision]]]:
    """Fold consecutive decisions (newest first) with the same action and rules into ranges."""
    group: list[Decision] = []

    def key(d: Decision) -> tuple[object, ...]:
        return (d.action, tuple(r.rule for r in d.reasons if r.rule != "policy:selected"), d.version.aliases)

    for d in decisions:
        if group and (key(d) != key(group[-1]) or d.version.aliases):
            yield group[-1].version.index, group[0].version.index, group[0], group
            group = []
        group.append(d)
    if group:
        yield group[-1].version.index, group[0].version.index, group[0], group


def _reason_text(d: Decision) -> str:
    shown = [r for r in d.reasons if r.rule != "policy:selected" or d.action is Action.DELETE]
    if d.action is Action.DELETE:
        return "selected by the policy; no rule blocks it"
    return "; ".join(f"{r.rule}: {describe(r)}" if r.blocks else describe(r) for r in shown)


def print_plan(plan: Plan, console: Console | None = None) -> None:
    """Print a plan as one table per collection, then its summary."""
    console = console or Console()
    by_collection: dict[str, list[Decision]] = {}
    for d in plan.decisions:
        by_collection.setdefault(d.version.collection, []).append(d)
    for summary in plan.collections:
        decisions = by_collection[summary.collection.name]
        table = Table(
            title=f"{summary.collection} ({summary.type}): delete {summary.deleted}, keep {summary.kept}, "
            f"frees {format_bytes(summary.reclaimable_bytes)}",
            title_justify="left",
            expand=False,
        )
        table.add_column("versions", no_wrap=True)
        table.add_column("action", no_wrap=True)
        table.add_column("aliases")
        table.add_column("why")
        for low, high, first, group in _runs(decisions):
            span = f"v{low}" if low == high else f"v{low}-v{high} ({len(group)})"
            style = "red" if first.action is Action.DELETE else ("yellow" if first.blocked else "green")
            action = "delete" if first.action is Action.DELETE else ("blocked" if first.blocked else "keep")
            table.add_row(
                span, Text(action, style=style), ", ".join(sorted(first.version.aliases)), _reason_text(first)
            )
        console.print(table)
    console.print(plan.summary())
