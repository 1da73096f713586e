"""A self-contained HTML report of a plan: no scripts, no network, every value escaped.

Per collection: a version timeline (oldest to newest, aliases marked), keep or
delete with reasons, bytes freed, and the safety rules that blocked. The page
loads nothing: inline CSS only, and a Content-Security-Policy that forbids
scripts and every fetch, so even a value that slipped through escaping could
neither run nor call out. Every value from W&B goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from ._planner import Action, CollectionSummary, Decision, Plan, format_bytes
from ._policy_file import explain_policy
from ._review import reason_text

__all__ = ["render_plan_html"]

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
<th>size</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
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
    sections = "".join(_collection_section(name, ds, summaries[name]) for name, ds in by_collection.items())
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
<h3>Policy</h3><ul class="policy">{policy_items}</ul>
<h3>Safety rules that blocked a deletion</h3>
{rules_table}
<p class="legend"><span style="background:#d93025"></span>delete<span style="background:#1e8e3e"></span>keep
<span style="background:#f9ab00"></span>blocked by a safety rule
<span style="outline:2px solid #1a73e8"></span>holds an alias</p>
{sections}
</body></html>
"""
