"""The README's examples run as written.

The CI section's files are checked by ``tests/audit/test_readme_ci_example.py``
and the policy file by ``tests/cli/test_readme_policy.py``; this module runs
the rest: the Python blocks of the planning, apply, fake-server, fixture and
property-testing sections, and the offline command lines of the CLI section.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from artifact_guard.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def _section(heading: str) -> str:
    """The text under ``heading`` (any level) up to the next heading of any level."""
    lines = README.read_text(encoding="utf-8").splitlines(keepends=True)
    level, body, in_fence = 0, [], False
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
        is_heading = not in_fence and re.match(r"#+ ", line)
        if level and is_heading:
            break
        if level:
            body.append(line)
        elif is_heading and line.rstrip("\n").lstrip("#").strip() == heading:
            level = len(line) - len(line.lstrip("#"))
    assert level, f"README has no section {heading!r}"
    return "".join(body)


def _blocks(heading: str, lang: str) -> list[str]:
    return [m["body"] for m in _FENCE.finditer(_section(heading)) if m["lang"] == lang]


def _cleanup_script() -> str:
    (script,) = [b for b in _blocks("A complete example", "python") if b.startswith('"""Delete old')]
    return script


def test_plan_then_apply_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (plan_block,) = _blocks("Plan a clean-up in Python", "python")
    (apply_block,) = _blocks("Apply safely: journal, resume, pacing", "python")
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(plan_block + apply_block, "README.md", "exec"), namespace)
    assert (tmp_path / ".artifact-guard" / "workspace.sqlite3").is_file()
    plan = namespace["plan"]
    assert plan.reclaimable_bytes == 7000  # type: ignore[attr-defined]  # what the README says


@pytest.mark.server
@pytest.mark.timeout(180)
def test_fake_server_fixture_and_property_examples_run(pytester: pytest.Pytester) -> None:
    (fixture_block,) = _blocks("In pytest: the `wandb_fake` fixture", "python")
    (property_block,) = _blocks("Property-test your own cleanup logic", "python")
    pytester.makepyfile(cleanup=_cleanup_script(), test_fixture=fixture_block, test_props=property_block)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


@pytest.mark.server
@pytest.mark.timeout(180)
def test_fake_server_python_example_runs(tmp_path: Path) -> None:
    (server_block,) = _blocks("Fake W&B server", "python")
    (tmp_path / "cleanup.py").write_text(_cleanup_script())
    (tmp_path / "example.py").write_text(server_block)
    env = {**os.environ, "PYTHONPATH": str(README.parent)}
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("'DeleteArtifact'") == 2
    assert done.stdout.rstrip().endswith("['model:v2', 'model:v3', 'model:v4']")


@pytest.mark.timeout(120)
def test_offline_command_lines_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (policy,) = _blocks("Policy files", "toml")
    (tmp_path / "artifact-guard.toml").write_text(policy)
    (commands,) = _blocks("Command line", "console")
    ran = 0
    for line in commands.splitlines():
        argv = shlex.split(line, comments=True)
        assert argv[0] == "artifact-guard"
        if "serve-fake" in argv:
            continue  # runs until stopped; tests/server covers it as a process
        # The interactive review: exclude two versions, accept every collection, finish.
        answers = "x v0 v1\n" + "\n" * 20 + "d\n" if "--interactive" in argv else "y\n"
        result = CliRunner().invoke(app, argv[1:], input=answers)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        ran += 1
    assert ran == 8
    assert (tmp_path / "plan.html").is_file() and (tmp_path / "vision.json.gz").is_file()
