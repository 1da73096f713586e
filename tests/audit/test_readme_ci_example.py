"""The README's "Verify your cleanup script in CI" example, run for real.

The files are taken from the README (each fenced block after a
``<!-- ci-example: NAME -->`` comment): the pytest file runs through pytester,
and the CI job's ``artifact-guard simulate`` step runs against a snapshot of
the project the test seeds.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from artifact_guard import capture
from artifact_guard._snapshot_file import write_snapshot
from artifact_guard.cli import app
from fakes import FakeWandb

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- ci-example: (?P<name>[\w.\-]+) -->\n```\w*\n(?P<body>.*?)```", re.S)

pytestmark = pytest.mark.server


def _examples() -> dict[str, str]:
    text = README.read_text()
    body = text.split("## Verify your cleanup script in CI", 1)[1]
    # The section ends at the next level-2 heading outside a fence (its Markdown example holds "## ").
    lines, fenced = [], False
    for line in body.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            break
        lines.append(line)
    section = "".join(lines)
    return {m["name"]: m["body"] for m in _BLOCK.finditer(section)}


def _readme_markdown_summary() -> str:
    text = README.read_text()
    section = text.split("## Verify your cleanup script in CI", 1)[1]
    return section.split("```markdown\n", 1)[1].split("```", 1)[0]


def test_the_section_holds_every_file_of_the_example() -> None:
    assert set(_examples()) == {"cleanup.py", "artifact-guard.toml", "cleanup.yml", "test_cleanup.py"}


@pytest.mark.timeout(120)
def test_the_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    files = _examples()
    pytester.makepyfile(cleanup=files["cleanup.py"], test_cleanup=files["test_cleanup.py"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


@pytest.mark.timeout(120)
def test_the_readme_pytest_example_catches_an_unsafe_cleanup(pytester: pytest.Pytester) -> None:
    # The same test, with the script's safety checks removed: both tests must fail.
    files = _examples()
    unsafe = (
        files["cleanup.py"]
        .replace("version.aliases or version.used_by()", "False")
        .replace("version.delete()", "version.delete(delete_aliases=True)")
    )
    assert unsafe != files["cleanup.py"]
    pytester.makepyfile(cleanup=unsafe, test_cleanup=files["test_cleanup.py"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1, passed=1, errors=1)
    result.stdout.fnmatch_lines(["*consumed: used by 1 run(s): team/proj/eval*"])


@pytest.mark.timeout(120)
def test_the_readme_ci_job_simulate_step_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _examples()
    job = yaml.safe_load(files["cleanup.yml"])
    steps = job["jobs"]["verify-cleanup"]["steps"]
    (command,) = [s["run"] for s in steps if "artifact-guard simulate" in s.get("run", "")]
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    argv = [os.path.expandvars(arg) for arg in shlex.split(command)]
    assert argv[:2] == ["artifact-guard", "simulate"]

    # The job's working tree: the script, the policy, and a snapshot of the project the test seeds.
    (tmp_path / "cleanup.py").write_text(files["cleanup.py"])
    (tmp_path / "artifact-guard.toml").write_text(files["artifact-guard.toml"])
    (tmp_path / "test_cleanup.py").write_text(files["test_cleanup.py"])
    spec = importlib.util.spec_from_file_location("readme_test_cleanup", tmp_path / "test_cleanup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fake = FakeWandb()
    module.seed(fake)
    snapshot = argv[argv.index("--snapshot") + 1]
    (tmp_path / snapshot).parent.mkdir(parents=True)
    write_snapshot(capture(fake.repository(), "team/proj", now=fake.now()), tmp_path / snapshot)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, argv[1:])

    assert result.exit_code == 0, result.output
    assert result.output.count("ok   deleted team/proj/model:v0") == 2  # stable and offset cursors
    assert "SAFE" in result.output
    assert "<html" in (tmp_path / "cleanup-report.html").read_text()
    markdown = summary.read_text()
    assert markdown.startswith("## artifact-guard simulate: SAFE (exit 0)")
    # As the README shows it, but for the timings and request counts:
    shown = _readme_markdown_summary()
    assert (
        re.sub(r"\(exit 0, [^)]*\)", "", markdown).strip() == re.sub(r"\(exit 0, [^)]*\)", "", shown).strip()
    )
