"""Reports a pull request can show: plan and simulate as HTML (overview, folded) and Markdown (PR comment).

The HTML pages and the Markdown (rendered to HTML by markdown-it, GitHub-flavoured tables) are loaded
in headless Chromium and checked for structure in the DOM it builds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import artifact_guard as ag
from artifact_guard._html import render_plan_html
from artifact_guard._markdown import LIMIT, plan_markdown, simulation_markdown
from artifact_guard._policy_file import parse_policy_toml
from artifact_guard._simulate import SimulationResult, render_html, simulate
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import NOW, Invoke
from .test_html_report import _chromium, needs_chromium

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _demo_plan() -> ag.Plan:
    fake = seed_demo()
    return ag.plan(fake.repository(), DEMO_PROJECT, ag.Policy(keep_last=5, types=("model",)), now=fake.now())


def _markdown_page(text: str, path: Path) -> Path:
    # linkify on, as GitHub autolinks bare URLs and www. names: a name must not become a link.
    body = MarkdownIt("gfm-like").render(text)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>")
    return path


@pytest.fixture(scope="module")
def simulation() -> SimulationResult:
    policy = parse_policy_toml("keep-last = 5\n[permissions]\ndelete-aliases = true\n")
    return simulate(
        EXAMPLES / "delete_run_artifacts.py", ["demo-team/vision/train-000"], seed="demo", policy=policy
    )


# ------------------------------------------------------------------ plan HTML


def test_plan_html_opens_with_an_overview_and_folds_collections_that_change_nothing() -> None:
    plan = _demo_plan()
    page = render_plan_html(plan)
    overview = page.index('<section class="overview">')
    assert overview < page.index('<section class="collection">')
    freeing = [c for c in plan.collections if c.reclaimable_bytes]
    assert page.count('<g class="bar">') == len(freeing)
    assert page.count('class="mark ') == len(plan.decisions)  # every version on the date axis
    unchanged = [c.collection.name for c in plan.collections if not c.deleted]
    folded = page[page.index('<details class="unchanged">') :]
    assert all(f"<h2>{name} " in folded for name in unchanged)
    assert "stored bytes (not bytes freed)" in page
    assert "<script" not in page and "default-src 'none'" in page


@needs_chromium
@pytest.mark.timeout(120)
def test_plan_html_overview_renders_in_chromium(tmp_path: Path) -> None:
    plan = _demo_plan()
    page = tmp_path / "plan.html"
    page.write_text(render_plan_html(plan), encoding="utf-8")
    dom, console = _chromium(page, tmp_path)
    assert console == []
    assert len(re.findall(r"<svg[^>]*class=\"chart", dom)) == 2
    assert dom.count("<rect") >= len(plan.decisions)
    assert re.search(r"<details class=\"unchanged\"><summary>3 collection\(s\) that change nothing", dom)
    assert dom.index("Overview") < dom.index("resnet50-000 <span")


# ------------------------------------------------------------------ plan Markdown


def test_plan_markdown_cli_writes_totals_and_a_table_per_collection(cli: Invoke, model_policy: Path) -> None:
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "--markdown", "plan.md")
    assert result.exit_code == 0, result.stderr
    text = Path("plan.md").read_text()
    assert text.startswith(f"## artifact-guard plan for `{DEMO_PROJECT}`")
    assert "**190 to delete**" in text
    assert "| `resnet50-000` | `model` | 32 | 8 | 3 | 8.5 GiB |" in text
    assert text.index("### Safety rules that blocked a deletion") < text.index("### Per collection")
    assert "wrote Markdown summary to plan.md" in result.stdout


def test_github_step_summary_is_appended_to(
    cli: Invoke, model_policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "--markdown", str(summary))
    text = summary.read_text()
    assert text.startswith("earlier step\n## artifact-guard plan")


def test_a_huge_plan_stays_under_the_comment_limit_and_says_what_it_cut() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    for i in range(1200):
        for k in range(2):
            fake.log_artifact(
                run, f"www.example.com-{i:05d}|*bold*-collection-with-a-long-name", "model",
                {"f": bytes([i % 256, k]) * 3}, created_at=NOW - timedelta(days=30 - k),
            )  # fmt: skip
    plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
    text = plan_markdown(plan)
    assert len(text) < LIMIT
    cut = re.search(r"_… (\d+) more collections not shown", text)
    assert cut is not None
    shown = text.count("| `www.example.com-")
    assert shown + int(cut.group(1)) == 1200
    assert "\\|*bold*" in text  # a pipe in a name cannot break the table


@needs_chromium
@pytest.mark.timeout(120)
def test_plan_markdown_renders_as_tables_without_links(tmp_path: Path) -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    for k in range(3):
        fake.log_artifact(
            run, "www.evil.com|y", "model", {"f": bytes([k])}, created_at=NOW - timedelta(days=9)
        )
    plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
    dom, console = _chromium(_markdown_page(plan_markdown(plan), tmp_path / "md.html"), tmp_path)
    assert console == []
    assert dom.count("<table>") == 1
    assert "<th>collection</th>" in dom and "<td><code>www.evil.com|y</code></td>" in dom
    assert "<a " not in dom


# ------------------------------------------------------------------ simulate HTML and Markdown


@pytest.mark.timeout(180)
def test_simulate_markdown_lists_violations_first(simulation: SimulationResult, tmp_path: Path) -> None:
    text = simulation_markdown(simulation)
    assert text.startswith("## artifact-guard simulate: UNSAFE (exit 1)")
    violations = text.index("### Violations (")
    assert violations < text.index("### Per collection")
    assert "| `stable` | `demo-team/vision/resnet50-000:v10` | `consumed` |" in text
    assert "### Deleted although the policy keeps them" in text


@needs_chromium
@pytest.mark.timeout(180)
def test_simulate_html_shows_violations_then_the_rest_folded(
    simulation: SimulationResult, tmp_path: Path
) -> None:
    page = tmp_path / "sim.html"
    page.write_text(render_html(simulation), encoding="utf-8")
    dom, console = _chromium(page, tmp_path)
    assert console == []
    assert dom.index('class="violations"') < dom.index('<details class="ok-changes">')
    assert re.search(r"<summary>\d+ change\(s\) that break no rule</summary>", dom)
    assert "The plan artifact-guard would have made" in dom
    assert "default-src 'none'" in page.read_text()
    md = tmp_path / "sim.md.html"
    dom_md, console_md = _chromium(_markdown_page(simulation_markdown(simulation), md), tmp_path)
    assert console_md == [] and dom_md.count("<table>") >= 2 and "<a " not in dom_md


@pytest.mark.timeout(120)
def test_simulate_strict_fails_a_script_that_leaves_what_the_policy_deletes(
    cli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "noop.py").write_text("print('deletes nothing')\n")
    (tmp_path / "keep5.toml").write_text("keep-last = 5\n")
    lenient = cli("simulate", "noop.py", "--seed", "demo", "--policy", "keep5.toml")
    assert lenient.exit_code == 0, lenient.output
    assert "warn left demo-team/vision/resnet50-000:" in lenient.stdout
    strict = cli("simulate", "noop.py", "--seed", "demo", "--policy", "keep5.toml", "--strict", "--json")
    assert strict.exit_code == 1
    import json

    conformance = json.loads(strict.stdout)["runs"][0]["audit"]["conformance"]
    assert conformance["strict"] is True and conformance["left"] and conformance["ok"] is False
