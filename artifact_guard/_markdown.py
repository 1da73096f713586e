"""Markdown summaries of a plan or a simulation, for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

``plan --markdown FILE`` and ``simulate --markdown FILE`` write them. Each is
GitHub-flavoured Markdown: a headline with the totals, what went wrong first
(safety violations, versions deleted against the policy, a pagination hazard;
for a plan, the rules that blocked deletions), then a per-collection table.

Link-free and inert: every name from W&B is a code span (GitHub makes no link
of a URL inside one, and no emphasis of ``*`` or ``_``), pipes are escaped.
GitHub refuses comments over 65,536 characters, so a summary stays under
:data:`LIMIT`: long tables are cut, and the cut says how many rows it left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._planner import Action, Plan, format_bytes
from ._review import reason_text

if TYPE_CHECKING:
    from ._simulate import SimulationResult

__all__ = ["LIMIT", "plan_markdown", "simulation_markdown"]

LIMIT = 65_000
"""Characters a summary stays under (GitHub's comment limit is 65,536)."""


def _code(text: object) -> str:
    """A W&B value as an inline code span: no link, no emphasis, no broken table."""
    value = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{value}`"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: Sequence[str], align: Sequence[str], rows: list[list[str]], budget: int, what: str) -> str:
    """A table with as many rows as fit in ``budget`` characters; a cut says how many rows it left out."""
    head = "| " + " | ".join(header) + " |\n|" + "|".join(align) + "|\n"
    out = [head]
    used = len(head)
    for i, row in enumerate(rows):
        line = "| " + " | ".join(row) + " |\n"
        note = f"\n_… {len(rows) - i} more {what} not shown (summary kept under {LIMIT:,} characters)._\n"
        if used + len(line) + len(note) + 200 > budget:
            out.append(note)
            return "".join(out)
        out.append(line)
        used += len(line)
    return "".join(out)


def _fit(
    sections: list[str], tables: list[tuple[str, Sequence[str], Sequence[str], list[list[str]], str]]
) -> str:
    """Sections first, then the tables sharing what is left of :data:`LIMIT` in order."""
    text = "\n".join(sections) + "\n"
    if len(text) > LIMIT // 2:  # a pathological headline: cut it, say so
        text = text[: LIMIT // 2] + "\n\n_… cut: summary kept under the comment limit._\n"
    for title, header, align, rows, what in tables:
        budget = LIMIT - len(text) - len(title) - 10
        text += f"\n{title}\n\n" + _table(header, align, rows, budget, what)
    assert len(text) < LIMIT
    return text


def plan_markdown(plan: Plan) -> str:
    """A plan as a Markdown summary: totals, the rules that blocked deletions, then per collection."""
    deleted = len(plan.deletions)
    blocked = sum(c.blocked for c in plan.collections)
    kept = len(plan.decisions) - deleted
    sections = [
        f"## artifact-guard plan for {_code(plan.scope)}",
        "",
        f"**{deleted} to delete**, {kept} to keep ({blocked} blocked by safety rules); "
        f"frees **{format_bytes(plan.reclaimable_bytes)}** ({plan.reclaimable_bytes:,} bytes). "
        f"Plan {_code(plan.id[:12])}, made {plan.created_at:%Y-%m-%d %H:%M %Z}.",
        "",
        f"Policy: {_cell(str(plan.policy))}",
    ]
    rule_counts = Counter(r.rule for d in plan.decisions if d.blocked for r in d.reasons if r.blocks)
    rules = [[_code(rule), str(n)] for rule, n in rule_counts.most_common()]
    collections = [
        [
            _code(c.collection.name),
            _code(c.type),
            str(c.deleted),
            str(c.kept),
            str(c.blocked),
            format_bytes(c.reclaimable_bytes),
        ]
        for c in sorted(plan.collections, key=lambda c: (-c.reclaimable_bytes, c.collection.name))
    ]
    blocked_rows = [
        [
            _code(d.version.name),
            "; ".join(f"{_code(r.rule)} {_cell(reason_text(r))}" for r in d.reasons if r.blocks),
        ]
        for d in plan.decisions
        if d.blocked and d.action is Action.KEEP
    ]
    tables: list[tuple[str, Sequence[str], Sequence[str], list[list[str]], str]] = []
    if rules:
        tables.append(
            ("### Safety rules that blocked a deletion", ["rule", "versions"], ["---", "--:"], rules, "rules")
        )
    tables.append(
        (
            "### Per collection",
            ["collection", "type", "delete", "keep", "blocked", "frees"],
            ["---", "---", "--:", "--:", "--:", "--:"],
            collections,
            "collections",
        )
    )
    if blocked_rows:
        tables.append(
            ("### Blocked versions", ["version", "why"], ["---", "---"], blocked_rows, "blocked versions")
        )
    return _fit(sections, tables)


def simulation_markdown(result: SimulationResult) -> str:
    """A simulation as a Markdown summary: the verdict, violations first, then per collection."""
    verdict = {"safe": "SAFE", "unsafe": "UNSAFE", "crashed": "CRASHED"}[result.verdict]
    sections = [
        f"## artifact-guard simulate: {verdict} (exit {result.exit_code})",
        "",
        f"{_code(' '.join([result.script, *result.args]))} on {_code(result.scope)}",
        "",
    ]
    for run in result.runs:
        status = "timed out" if run.timed_out else f"exit {run.returncode}, {run.duration_s:.1f} s"
        sections.append(
            f"- {run.pagination} cursors ({status}, {run.requests} requests): {_cell(run.report.summary())}"
        )
        if run.error:
            sections.append(f"  - **error**: {_cell(run.error)}")
    if result.differences:
        sections += ["", "**Pagination hazard**: the outcome depends on the server's cursor style", ""]
        sections += [f"- {_cell(d)}" for d in result.differences]

    tables: list[tuple[str, Sequence[str], Sequence[str], list[list[str]], str]] = []
    violations = [
        [_code(run.pagination), _code(c.target), _code(r.rule), _cell(reason_text(r))]
        for run in result.runs
        for c in run.report.changes
        for r in c.reasons
    ]
    if violations:
        tables.append(
            (
                f"### Violations ({len(violations)})",
                ["cursors", "changed", "rule", "why"],
                ["---", "---", "---", "---"],
                violations,
                "violations",
            )
        )
    report = result.report
    conformance = report.conformance
    if conformance is not None:
        against = [
            [
                _code(k.version.qualified_name),
                "; ".join(f"{_cell(reason_text(r))} ({_code(r.rule)})" for r in k.reasons),
            ]
            for k in conformance.kept_but_deleted
        ]
        if against:
            tables.append(
                (
                    f"### Deleted although the policy keeps them ({len(against)})",
                    ["version", "the policy keeps it"],
                    ["---", "---"],
                    against,
                    "versions",
                )
            )
        rows = [
            [_code(name), str(would), str(did), str(kept), str(left)]
            for name, would, did, kept, left in conformance.per_collection()
        ]
        tables.append(
            (
                "### Per collection: artifact-guard's plan next to the script's outcome",
                [
                    "collection",
                    "plan deletes",
                    "script deleted",
                    "deleted, kept by policy",
                    "left, deleted by policy",
                ],
                ["---", "--:", "--:", "--:", "--:"],
                rows,
                "collections",
            )
        )
    else:
        freed = report.bytes_freed_by_collection
        deleted = Counter(c.collection.name for c in report.deletions)
        rows = [
            [_code(name), str(deleted[name]), format_bytes(freed.get(name, 0))]
            for name in sorted(set(deleted) | set(freed))
        ]
        tables.append(
            (
                "### Per collection",
                ["collection", "deleted", "frees"],
                ["---", "--:", "--:"],
                rows,
                "collections",
            )
        )
    return _fit(sections, tables)
