"""``plan --interactive``: step through a plan collection by collection, exclude or include versions.

Every change goes through :func:`artifact_guard._review.revise`: a re-plan with
the reviewer's explicit exclude/include lists, in which an inclusion a safety
rule blocks is refused and the refusal shown with its rules. Nothing is
written anywhere until the reviewer finishes; the caller saves the plan.

Commands at each collection's prompt::

    (Enter) or n   accept this collection, go to the next
    x VERSIONS     exclude from deletion (keep), e.g. ``x v3 v10-v12``
    i VERSIONS     include for deletion, if no safety rule blocks it
    u VERSIONS     undo an exclusion or inclusion
    s              show this collection again
    b              back to the previous collection
    d              done: accept the rest as they stand
    q              quit without saving
"""

from __future__ import annotations

import re
import sys

import typer
from rich.console import Console
from rich.text import Text

from ._planner import Plan, format_bytes
from ._render import print_collection
from ._repository import ArtifactRepository
from ._review import reason_text, revise

__all__ = ["review"]

HELP = (
    "Enter: accept · x VERSIONS: exclude (keep) · i VERSIONS: include (delete) · u VERSIONS: undo · "
    "s: show · b: back · d: done · q: quit without saving   (VERSIONS like v3 v10-v12)"
)
# Bounded digits: a 5000-digit number is no version (and int() refuses such strings).
_SPEC = re.compile(r"^v?(\d{1,18})(?:-v?(\d{1,18}))?$")


def _parse_versions(args: list[str], by_index: dict[int, str]) -> tuple[list[str], list[str]]:
    """Version ids for ``v3 v10-v12`` within one collection, and the tokens that matched nothing."""
    ids: list[str] = []
    bad: list[str] = []
    for token in args:
        m = _SPEC.match(token)
        if m is None:
            bad.append(token)
            continue
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) is not None else low
        low, high = min(low, high), max(low, high)
        # Walk the collection's versions, never the range: "v0-v999999999999" costs one pass.
        found = [vid for i, vid in sorted(by_index.items()) if low <= i <= high]
        if not found:
            bad.append(token)
        ids.extend(found)
    return ids, bad


def _ask(name: str, console: Console) -> str:
    """One command line: from the terminal, or piped in (a scripted review).

    Standard input that ends with no terminal behind it leaves nobody to ask:
    one line on stderr, exit 2 (not click's "Aborted!").
    """
    try:
        terminal = sys.stdin.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if terminal:
        return str(typer.prompt(name, default="", show_default=False))
    console.print(Text(f"{name}: "), end="")
    line = sys.stdin.readline()
    if not line:
        console.print()
        typer.echo(
            "error: interactive review needs a terminal (standard input ended before the review was "
            "done); run plan without --interactive, or review in a terminal",
            err=True,
        )
        raise typer.Exit(2)
    console.print(Text(line.rstrip("\n")))
    return line


def review(plan: Plan, repository: ArtifactRepository, console: Console) -> Plan | None:
    """Review ``plan`` in the terminal; returns the reviewed plan, or None if the reviewer quit."""
    names = [
        c.collection.name
        for c in plan.collections
        if any(
            r.rule != "policy:not-selected"
            for d in plan.decisions
            if d.version.collection == c.collection.name
            for r in d.reasons
        )
    ]
    excluded: set[str] = set()
    included: set[str] = set()
    current = plan
    console.print(Text(plan.summary()))
    if not names:
        console.print("The policy selects no collection: nothing to review.")
        return plan
    console.print(Text(HELP))
    pos = 0
    show = True
    while pos < len(names):
        name = names[pos]
        if show:
            console.print(Text(f"\n[{pos + 1}/{len(names)}] {name}"))
            print_collection(current, name, console)
            show = False
        answer = _ask(name, console).strip()
        command, *args = answer.split() or [""]
        command = command.lower()
        if command in ("", "n"):
            pos += 1
            show = True
        elif command == "q":
            return None
        elif command == "d":
            break
        elif command == "b":
            pos = max(0, pos - 1)
            show = True
        elif command == "s":
            show = True
        elif command in ("x", "i", "u"):
            by_index = {
                d.version.index: d.version.id for d in current.decisions if d.version.collection == name
            }
            ids, bad = _parse_versions(args, by_index)
            if bad or not ids:
                console.print(Text(f"no such version in {name}: {' '.join(bad) or '(none given)'}"))
                continue
            if command == "u":
                excluded.difference_update(ids)
                included.difference_update(ids)
            elif command == "x":
                excluded.update(ids)
                included.difference_update(ids)
            else:
                included.update(ids)
                excluded.difference_update(ids)
            revision = revise(plan, repository, exclude=excluded, include=included)
            for refusal in revision.refused:
                included.discard(refusal.version_id)
                why = "; ".join(f"{r.rule}: {reason_text(r)}" for r in refusal.reasons)
                console.print(Text(f"refused: {refusal.label} stays kept ({why})", style="yellow"))
            current = revision.plan
            show = True
        else:
            console.print(Text(HELP))
    console.print(
        Text(
            f"\nreviewed: {len(excluded)} excluded, {len(included)} included; "
            f"frees {format_bytes(current.reclaimable_bytes)} "
            f"(the policy alone: {format_bytes(plan.reclaimable_bytes)})"
        )
    )
    return current
