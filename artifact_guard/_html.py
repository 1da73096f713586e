"""A self-contained HTML report of a plan: no scripts, no network, every value escaped.

Per collection: a version timeline (oldest to newest, aliases marked), keep or
delete with reasons, bytes freed, and the safety rules that blocked. The page
loads nothing: inline CSS only, and a Content-Security-Policy that forbids
scripts and every fetch, so even a value that slipped through escaping could
neither run nor call out. Every value from W&B goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from ._planner import Action, CollectionSummary, Decision, Plan, format_bytes
from ._policy_file import explain_policy
from ._review import reason_text

if TYPE_CHECKING:
    from ._simulate import SimulationResult

__all__ = ["render_plan_html", "render_simulation_html"]

TIMELINE_LIMIT = 400
"""Versions shown one by one in a collection's timeline; beyond that the newest are shown."""
TABLE_LIMIT = 2000
"""Rows of a collection's table; longer runs of equal decisions are folded first."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""No scripts, no fetches: the report is inert even if a value slipped past escaping."""

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d1d1f;background:#fff}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:2rem 0 .4rem;word-break:break-all}
.meta{color:#555}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}
.timeline{display:flex;flex-wrap:wrap;gap:3px;margin:.5rem 0 .8rem;align-items:flex-end}
.v{width:14px;height:22px;border-radius:3px;position:relative}
.v.delete{background:#d93025}.v.keep{background:#1e8e3e}.v.blocked{background:#f9ab00}
.v.alias{outline:2px solid #1a73e8;outline-offset:1px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 .3rem 0 1rem;
vertical-align:middle}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#fafafa}td.delete{color:#d93025;font-weight:600}td.keep{color:#1e8e3e}
td.blocked{color:#b06000;font-weight:600}code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
ul.policy{margin:.2rem 0 0 1rem;padding:0}.rules td:first-child{white-space:nowrap}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .axis{stroke:#999}
details.unchanged>summary{cursor:pointer;font-weight:600;margin:1.5rem 0 .5rem}
.overview h2{word-break:normal}
.alias-tag{display:inline-block;background:#e8f0fe;color:#1a73e8;border-radius:10px;padding:0 .45rem;
margin:0 .15rem .1rem 0;font-size:.85em}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _action_class(d: Decision) -> str:
    if d.action is Action.DELETE:
        return "delete"
    return "blocked" if d.blocked else "keep"


def _reasons(d: Decision) -> str:
    if d.action is Action.DELETE:
        shown = [r for r in d.reasons if r.rule != "policy:selected"] or list(d.reasons)
    else:
        shown = [r for r in d.reasons if r.rule != "policy:selected"]
    parts = []
    for r in shown:
        rule = f"<code>{_e(r.rule)}</code> " if r.blocks else ""
        parts.append(f"{rule}{_e(reason_text(r))}")
    return "<br>".join(parts)


def _aliases(d: Decision) -> str:
    return "".join(f'<span class="alias-tag">{_e(a)}</span>' for a in sorted(d.version.aliases))


def _fold(decisions: list[Decision]) -> list[list[Decision]]:
    """Runs of consecutive decisions (newest first) with the same outcome, no aliases: one row each."""
    groups: list[list[Decision]] = []

    def key(d: Decision) -> tuple[object, ...]:
        return (_action_class(d), tuple(r for r in d.reasons if r.rule != "policy:selected"))

    for d in decisions:
        last = groups[-1][-1] if groups else None
        if last is not None and not d.version.aliases and not last.version.aliases and key(d) == key(last):
            groups[-1].append(d)
            continue
        groups.append([d])
    return groups


def _timeline(decisions: list[Decision]) -> str:
    shown = decisions[:TIMELINE_LIMIT]
    cells = []
    for d in reversed(shown):  # oldest on the left
        v = d.version
        cls = _action_class(d) + (" alias" if v.aliases else "")
        tip = f"{v.name} {v.created_at:%Y-%m-%d %H:%M} {cls.split()[0]}"
        if v.aliases:
            tip += " [" + ", ".join(sorted(v.aliases)) + "]"
        cells.append(f'<div class="v {cls}" title="{_e(tip)}"></div>')
    aliased = [d for d in shown if d.version.aliases]
    labels = ""
    if aliased:
        items = "; ".join(f"{_e(d.version.name.rsplit(':', 1)[-1])} {_aliases(d)}" for d in aliased)
        labels = f'<p class="meta">aliases: {items}</p>'
    more = ""
    if len(decisions) > TIMELINE_LIMIT:
        more = f'<p class="meta">Timeline shows the newest {TIMELINE_LIMIT} of {len(decisions)} versions.</p>'
    timeline = f'<div class="timeline" aria-label="version timeline">{"".join(cells)}</div>'
    return f"{timeline}{labels}{more}"


def _collection_section(name: str, decisions: list[Decision], summary: CollectionSummary) -> str:
    groups = _fold(decisions)
    rows = []
    for group in groups[:TABLE_LIMIT]:
        first, last = group[0], group[-1]
        span = first.version.name if len(group) == 1 else f"v{last.version.index}-v{first.version.index}"
        count = "" if len(group) == 1 else f" ({len(group)})"
        when = f"{last.version.created_at:%Y-%m-%d %H:%M}"
        if len(group) > 1:
            when += f" to {first.version.created_at:%Y-%m-%d %H:%M}"
        cls = _action_class(first)
        rows.append(
            f"<tr><td>{_e(span)}{_e(count)}</td><td>{_e(when)}</td><td>{_aliases(first)}</td>"
            f'<td class="{cls}">{cls}</td><td>{_reasons(first)}</td>'
            f"<td>{_e(format_bytes(sum(d.version.size for d in group)))}</td></tr>"
        )
    if len(groups) > TABLE_LIMIT:
        rows.append(f'<tr><td colspan="6">… {len(groups) - TABLE_LIMIT} more rows not shown</td></tr>')
    blocked = Counter(r.rule for d in decisions if d.blocked for r in d.reasons if r.blocks)
    blocked_text = (
        "; ".join(f"<code>{_e(rule)}</code>: {n}" for rule, n in blocked.most_common()) if blocked else "none"
    )
    return f"""
<section class="collection">
<h2>{_e(name)} <span class="meta">({_e(summary.type)})</span></h2>
<p>delete <b>{summary.deleted}</b>, keep <b>{summary.kept}</b> ({summary.blocked} blocked by safety rules);
frees <b>{_e(format_bytes(summary.reclaimable_bytes))}</b> ({summary.reclaimable_bytes} bytes).
Blocking rules: {blocked_text}.</p>
{_timeline(decisions)}
<table><thead><tr><th>versions</th><th>logged</th><th>aliases</th><th>action</th><th>why</th>
<th title="what the versions' manifests list; shared files count in each version, so deleting frees
only the collection's 'frees' figure above">stored bytes (not bytes freed)</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
</section>"""


BAR_LIMIT = 25
"""Collections shown in the overview's bar chart (the most bytes freed first); the rest are counted."""
ROW_LIMIT = 40
"""Collections shown in the overview's timeline; the rest are counted."""
_COLOURS = {"delete": "#d93025", "keep": "#1e8e3e", "blocked": "#f9ab00"}


def _label(name: str, limit: int = 34) -> str:
    # A chart label has fixed room; the tables below carry every name whole.
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _bar_chart(plan: Plan) -> str:
    """Inline SVG: bytes freed per collection, most first."""
    freeing = sorted((c for c in plan.collections if c.reclaimable_bytes), key=lambda c: -c.reclaimable_bytes)
    if not freeing:
        return '<p class="meta">No collection frees any bytes.</p>'
    shown = freeing[:BAR_LIMIT]
    top = shown[0].reclaimable_bytes
    label_w, bar_w, row_h = 230, 380, 20
    height = row_h * len(shown) + 6
    rows = []
    for i, c in enumerate(shown):
        y = i * row_h + 3
        w = max(1.0, bar_w * c.reclaimable_bytes / top)
        name = c.collection.name
        rows.append(
            f'<g class="bar"><title>{_e(name)}: frees {_e(format_bytes(c.reclaimable_bytes))} '
            f"({c.reclaimable_bytes} bytes)</title>"
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(_label(name))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="#d93025"></rect>'
            f'<text x="{label_w + w + 5:.1f}" y="{y + 13}">{_e(format_bytes(c.reclaimable_bytes))}</text></g>'
        )
    more = ""
    if len(freeing) > BAR_LIMIT:
        rest = sum(c.reclaimable_bytes for c in freeing[BAR_LIMIT:])
        more = (
            f'<p class="meta">… and {len(freeing) - BAR_LIMIT} more collection(s) freeing '
            f"{_e(format_bytes(rest))}</p>"
        )
    return (
        f'<svg class="chart bytes" width="{label_w + bar_w + 90}" height="{height}" role="img" '
        f'aria-label="bytes freed per collection">{"".join(rows)}</svg>{more}'
    )


def _date_timeline(plan: Plan, by_collection: dict[str, list[Decision]]) -> str:
    """Inline SVG: per collection, each version on a date axis, coloured kept / deleted / blocked."""
    names = list(by_collection)[:ROW_LIMIT]
    if not names:
        return ""
    dated = [d.version.created_at for n in names for d in by_collection[n][:TIMELINE_LIMIT]]
    start, end = min(dated), max(max(dated), plan.created_at)
    span = (end - start).total_seconds() or 1.0
    label_w, axis_w, row_h = 230, 460, 16
    top = 6
    height = top + row_h * len(names) + 28

    def x(when: datetime) -> float:
        return label_w + axis_w * (when - start).total_seconds() / span

    rows = []
    for i, name in enumerate(names):
        y = top + i * row_h
        marks = []
        for d in reversed(by_collection[name][:TIMELINE_LIMIT]):  # oldest first, newest drawn on top
            cls = _action_class(d)
            marks.append(
                f'<rect class="mark {cls}" x="{x(d.version.created_at) - 1.5:.1f}" y="{y + 2}" width="3" '
                f'height="{row_h - 5}" fill="{_COLOURS[cls]}"><title>{_e(d.version.name)} '
                f"{d.version.created_at:%Y-%m-%d %H:%M} {cls}</title></rect>"
            )
        rows.append(
            f'<g class="row"><text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{_e(_label(name))}</text>'
            f'<line class="axis" x1="{label_w}" x2="{label_w + axis_w}" y1="{y + row_h - 2}" '
            f'y2="{y + row_h - 2}" stroke-width="0.5"></line>{"".join(marks)}</g>'
        )
    axis_y = top + row_h * len(names) + 4
    ticks = []
    for k in range(5):
        when = start + (end - start) * (k / 4)
        tx = label_w + axis_w * k / 4
        ticks.append(
            f'<line class="axis" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y - 3}" y2="{axis_y + 3}"></line>'
            f'<text class="tick" x="{tx:.1f}" y="{axis_y + 16}" text-anchor="middle">{when:%Y-%m-%d}</text>'
        )
    more = ""
    if len(by_collection) > ROW_LIMIT:
        more = f'<p class="meta">Timeline shows {ROW_LIMIT} of {len(by_collection)} collections.</p>'
    return (
        f'<svg class="chart timeline-dates" width="{label_w + axis_w + 50}" height="{height}" role="img" '
        f'aria-label="versions kept, deleted and blocked by date">{"".join(rows)}'
        f'<line class="axis" x1="{label_w}" x2="{label_w + axis_w}" y1="{axis_y}" y2="{axis_y}"></line>'
        f"{''.join(ticks)}</svg>{more}"
    )


def _overview(plan: Plan, by_collection: dict[str, list[Decision]]) -> str:
    return f"""
<section class="overview">
<h2>Overview</h2>
<h3>Bytes freed per collection</h3>
{_bar_chart(plan)}
<h3>Versions by date: <span style="color:#d93025">deleted</span>, <span style="color:#1e8e3e">kept</span>,
<span style="color:#b06000">blocked by a safety rule</span></h3>
{_date_timeline(plan, by_collection)}
</section>"""


def render_plan_html(plan: Plan, *, title: str | None = None) -> str:
    """The whole report as one HTML document (UTF-8, no external resources, no scripts)."""
    by_collection: dict[str, list[Decision]] = {}
    for d in plan.decisions:
        by_collection.setdefault(d.version.collection, []).append(d)
    deleted = sum(c.deleted for c in plan.collections)
    blocked = sum(c.blocked for c in plan.collections)
    rule_counts = Counter(r.rule for d in plan.decisions if d.blocked for r in d.reasons if r.blocks)
    rule_rows = "".join(
        f"<tr><td><code>{_e(rule)}</code></td><td>{n}</td></tr>" for rule, n in rule_counts.most_common()
    )
    policy_items = "".join(f"<li>{_e(line)}</li>" for line in explain_policy(plan.policy))
    rules_table = (
        f"<table class='rules'><tr><th>rule</th><th>versions</th></tr>{rule_rows}</table>"
        if rule_rows
        else "<p>none</p>"
    )
    heading = title or f"artifact-guard plan for {plan.scope}"
    summaries = {c.collection.name: c for c in plan.collections}
    changing = [n for n in by_collection if summaries[n].deleted]
    unchanged = [n for n in by_collection if not summaries[n].deleted]
    sections = "".join(_collection_section(name, by_collection[name], summaries[name]) for name in changing)
    if unchanged:
        folded = "".join(_collection_section(n, by_collection[n], summaries[n]) for n in unchanged)
        sections += (
            f'<details class="unchanged"><summary>{len(unchanged)} collection(s) that change nothing '
            f"(every version kept)</summary>{folded}</details>"
        )
    overview = _overview(plan, by_collection)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(heading)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_e(heading)}</h1>
<p class="meta">plan <code>{_e(plan.id[:12])}</code> · made {_e(f"{plan.created_at:%Y-%m-%d %H:%M:%S %Z}")}
· dedupe scope {_e(plan.dedupe)}</p>
<div class="cards">
<div class="card">versions<b>{len(plan.decisions)}</b></div>
<div class="card">to delete<b>{deleted}</b></div>
<div class="card">to keep<b>{len(plan.decisions) - deleted}</b></div>
<div class="card">blocked by rules<b>{blocked}</b></div>
<div class="card">bytes freed<b>{_e(format_bytes(plan.reclaimable_bytes))}</b>
{plan.reclaimable_bytes} bytes</div>
</div>
{overview}
<h3>Policy</h3><ul class="policy">{policy_items}</ul>
<h3>Safety rules that blocked a deletion</h3>
{rules_table}
<p class="legend"><span style="background:#d93025"></span>delete<span style="background:#1e8e3e"></span>keep
<span style="background:#f9ab00"></span>blocked by a safety rule
<span style="outline:2px solid #1a73e8"></span>holds an alias</p>
{sections}
</body></html>
"""


# ------------------------------------------------------------------ simulate


def render_simulation_html(result: SimulationResult) -> str:
    """A simulation as one inert HTML page: the verdict, every violation first, then the rest folded."""
    runs = []
    for run in result.runs:
        rep = run.report
        bad = [c for c in rep.changes if not c.ok]
        fine = [c for c in rep.changes if c.ok]
        parts = [f"<h2>{_e(run.pagination)} cursors</h2>"]
        if run.error:
            parts.append(f'<p class="bad">{_e(run.error)}</p><pre>{_e(run.stderr_tail)}</pre>')
        parts.append(f"<p>{_e(rep.summary())}</p>")
        if bad:
            rows = "".join(
                f'<tr><td>{_e(c.describe())}</td><td class="blocked">'
                + "<br>".join(f"<code>{_e(r.rule)}</code> {_e(reason_text(r))}" for r in c.reasons)
                + "</td></tr>"
                for c in bad
            )
            parts.append(
                f'<h3 class="bad">Violations ({len(bad)} change(s))</h3>'
                "<table class='violations'><tr><th>change</th><th>safety rules broken</th></tr>"
                f"{rows}</table>"
            )
        conformance = rep.conformance
        if conformance is not None:
            kept = "".join(
                f"<li>{_e(k.version.qualified_name)}: "
                + "; ".join(f"{_e(reason_text(r))} (<code>{_e(r.rule)}</code>)" for r in k.reasons)
                + "</li>"
                for k in conformance.kept_but_deleted
            )
            if kept:
                parts.append(
                    '<h3 class="bad">Deleted although the policy keeps them '
                    f"({len(conformance.kept_but_deleted)})</h3><ul class='kept-by-policy'>{kept}</ul>"
                )
            rows = "".join(
                f"<tr><td>{_e(name)}</td><td>{would}</td><td>{did}</td><td>{k}</td><td>{left}</td></tr>"
                for name, would, did, k, left in conformance.per_collection()
            )
            parts.append(
                "<h3>The plan artifact-guard would have made, next to the script's outcome</h3>"
                "<table class='conformance'><tr><th>collection</th><th>plan deletes</th>"
                "<th>script deleted</th><th>deleted, kept by policy</th><th>left, deleted by policy</th></tr>"
                f"{rows}</table>"
            )
        if fine:
            items = "".join(f"<li>{_e(c.describe())}</li>" for c in fine)
            parts.append(
                f"<details class='ok-changes'><summary>{len(fine)} change(s) that break no rule</summary>"
                f"<ul>{items}</ul></details>"
            )
        if rep.without_latest:
            parts.append(
                "<p>left without <code>latest</code>: "
                + ", ".join(_e(str(ref)) for ref in rep.without_latest)
                + "</p>"
            )
        parts.append(f"<p>bytes freed after GC: {_e(format_bytes(rep.bytes_freed))} ({rep.bytes_freed})</p>")
        runs.append("".join(parts))
    hazard = ""
    if result.differences:
        items = "".join(f"<li>{_e(d)}</li>" for d in result.differences)
        hazard = f'<h2 class="bad">Pagination hazard</h2><ul class="hazard">{items}</ul>'
    verdict_class = "ok" if result.ok else "bad"
    heading = f"simulate {' '.join([result.script, *result.args])}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>artifact-guard simulate: {_e(result.verdict)}</title>
<style>{_CSS}.bad{{color:#b00020}}.ok{{color:#1e8e3e}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style>
</head>
<body>
<h1>{_e(heading)}</h1>
<p>project {_e(str(result.scope))}:
<strong class="verdict {verdict_class}">{_e(result.verdict.upper())}</strong> (exit {result.exit_code})</p>
{hazard}
{"".join(runs)}
</body></html>
"""
