"""The HTML report in headless Chromium: it renders, logs no console error, and a hostile name stays text.

Chromium comes from Debian's ``chromium`` package (``make browser``, which
``.ci/run`` calls, installs it). Without it these tests skip, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard._html import render_plan_html
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import NOW

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed: run `make browser` (apt-get install chromium)"
)
CHROME_TIMEOUT = 60.0

HOSTILE_NAME = "<img src=x onerror=document.title=1>"
HOSTILE_TYPE = "<script>document.title='pwned'</script>"


def _chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The page's DOM after loading, and every console message Chromium logged."""
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={tmp_path / 'chrome-profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=CHROME_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def _hostile_plan() -> ag.Plan:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    for i in range(6):
        fake.log_artifact(
            run, HOSTILE_NAME, HOSTILE_TYPE, {"f": bytes([i]) * 100}, created_at=NOW - timedelta(days=20 - i)
        )
    return ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=2), now=fake.now())


@needs_chromium
@pytest.mark.timeout(120)
def test_the_demo_report_renders_without_console_errors(tmp_path: Path) -> None:
    fake = seed_demo()
    plan = ag.plan(fake.repository(), DEMO_PROJECT, ag.Policy(keep_last=5), now=fake.now())
    page = tmp_path / "plan.html"
    page.write_text(render_plan_html(plan), encoding="utf-8")
    dom, console = _chromium(page, tmp_path)
    assert console == []
    # Rendered: every collection has its section, its timeline has one cell per version, the totals show.
    for summary in plan.collections:
        assert f"<h2>{summary.collection.name} " in dom
    assert dom.count('class="v ') == len(plan.decisions)
    assert f"<b>{len(plan.deletions)}</b>" in dom
    assert "protected-alias" in dom and "registry-linked" in dom
    assert f"{plan.reclaimable_bytes} bytes" in dom


@needs_chromium
@pytest.mark.timeout(120)
def test_a_hostile_artifact_name_shows_as_text_and_never_runs(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render_plan_html(_hostile_plan()), encoding="utf-8")
    dom, console = _chromium(page, tmp_path)
    assert console == []  # a blocked script or handler would log a CSP violation here
    assert "<script" not in dom.lower()
    assert "<img" not in dom.lower()
    assert re.search(r"<title>[^<]*pwned", dom) is None
    # Shown as text: the DOM serialiser escapes it back, exactly as written.
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=document.title=1&gt;" in dom


@needs_chromium
@pytest.mark.timeout(120)
def test_the_harness_does_see_console_errors_and_scripts(tmp_path: Path) -> None:
    # A control: the same checks flag a page that does run a script, so their silence above means something.
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('boom')</script><p>x</p></body></html>")
    dom, console = _chromium(page, tmp_path)
    assert any("boom" in line for line in console)
    assert "<script" in dom


def test_every_value_is_escaped_even_without_a_browser() -> None:
    html = render_plan_html(_hostile_plan())
    assert HOSTILE_TYPE not in html and HOSTILE_NAME not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
