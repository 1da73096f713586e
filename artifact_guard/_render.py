"""Terminal rendering with rich: plans (a table per collection, equal decisions folded), inventories.

Names from W&B are passed as :class:`rich.text.Text`, never as markup, so a name with ``[brackets]``
prints as it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._inventory import Inventory
from ._planner import Action, Decision, Plan, format_bytes
from ._review import reason_text as describe

__all__ = ["print_collection", "print_inventory", "print_plan"]


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
        if any(r.rule == "policy:included" for r in d.reasons):
            return "included by a reviewer; no rule blocks it"
        return "selected by the policy; no rule blocks it"
    return "; ".join(f"{r.rule}: {describe(r)}" if r.blocks else describe(r) for r in shown)


def print_plan(plan: Plan, console: Console | None = None) -> None:
    """Print a plan as one table per collection, then its summary."""
    console = console or Console()
    by_collection: dict[str, list[Decision]] = {}
    for d in plan.decisions:
        by_collection.setdefault(d.version.collection, []).append(d)
    for summary in plan.collections:
        _collection_table(plan, summary.collection.name, by_collection[summary.collection.name], console)
    console.print(Text(plan.summary()))


def print_collection(plan: Plan, name: str, console: Console) -> None:
    """Print one collection's table of a plan (the interactive review shows one at a time)."""
    _collection_table(plan, name, [d for d in plan.decisions if d.version.collection == name], console)


def _collection_table(plan: Plan, name: str, decisions: list[Decision], console: Console) -> None:
    summary = next(c for c in plan.collections if c.collection.name == name)
    table = Table(
        title=Text(
            f"{summary.collection} ({summary.type}): delete {summary.deleted}, keep {summary.kept}, "
            f"frees {format_bytes(summary.reclaimable_bytes)}"
        ),
        title_justify="left",
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
            span,
            Text(action, style=style),
            Text(", ".join(sorted(first.version.aliases))),
            Text(_reason_text(first)),
        )
    console.print(table)


def print_inventory(inv: Inventory, console: Console | None = None) -> None:
    """Print an inventory: one table of types, one of collections, then the total."""
    console = console or Console()
    types = Table(title=Text(f"{inv.scope}: artifact types"), title_justify="left")
    for col in ("type", "collections", "versions", "stored", "held only by this type"):
        types.add_column(col, justify="right" if col not in ("type",) else "left")
    for t in inv.types:
        types.add_row(
            Text(t.type),
            str(t.collections),
            str(t.versions),
            format_bytes(t.stored_bytes),
            format_bytes(t.exclusive_bytes),
        )
    console.print(types)
    table = Table(title=Text(f"{inv.scope}: collections"), title_justify="left")
    table.add_column("collection", overflow="fold", min_width=12)
    table.add_column("type", overflow="fold")
    for col in ("versions", "stored", "only here"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("last logged", no_wrap=True)
    table.add_column("aliases", overflow="fold")
    for c in inv.collections:
        versions = str(c.versions) + (f" ({c.pending} pending)" if c.pending else "")
        table.add_row(
            Text(c.name),
            Text(c.type),
            versions,
            format_bytes(c.stored_bytes),
            format_bytes(c.exclusive_bytes),
            f"{c.last_logged:%Y-%m-%d}",
            Text(", ".join(c.aliases)),
        )
    console.print(table)
    console.print(Text(inv.total_line()))
