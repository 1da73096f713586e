"""The README's seeding examples, run as written.

"Seed the fake with your own training code: --setup" (CI section): its files are
the fenced blocks after ``<!-- seed-example: NAME -->`` comments (and the CI
section's ``cleanup.py``); the ``simulate --setup`` command runs through the CLI,
the pytest file through pytester, and a snapshot of the seeded fake through
``simulate --snapshot``. "Seed it with your own training code" (fixture section):
its test runs through pytester.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from artifact_guard.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- (?P<kind>seed|ci)-example: (?P<name>[\w.\-]+) -->\n```\w*\n(?P<body>.*?)```", re.S)

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]


def _files() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))}


def _write(where: Path) -> dict[str, str]:
    files = _files()
    for name in ("train.py", "evaluate.py", "seed.py", "seeded-policy.toml", "cleanup.py"):
        (where / name).write_text(files[name], encoding="utf-8")
    return files


def test_simulate_with_setup_audits_the_cleanup_against_what_training_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _write(tmp_path)
    monkeypatch.chdir(tmp_path)
    (line,) = [s for s in files["command"].splitlines() if s.startswith("$ artifact-guard ")]
    args = shlex.split(line.removeprefix("$ artifact-guard "))
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "safe" and report["ok"] is True
    (run,) = report["runs"]
    deleted = [c["target"] for c in run["audit"]["changes"] if c["kind"] == "delete-version"]
    assert deleted == ["team/proj/model:v0"]
    assert run["audit"]["violations"] == []
    assert report["bytes_freed"] == 100  # v0's checkpoint; config.yaml is shared with the survivors


def test_simulate_setup_that_fails_stops_with_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path)
    (tmp_path / "broken.py").write_text("raise SystemExit('no GPU here')\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["simulate", "cleanup.py", "team/proj", "model", "--setup", "broken.py"])
    assert result.exit_code == 2
    assert "setup script 'broken.py' exited 1: no GPU here" in result.output


def test_the_readme_pytest_seeding_example_passes(pytester: pytest.Pytester) -> None:
    files = _write(pytester.path)
    pytester.makepyfile(test_seeded=files["test_seeded.py"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=170)
    result.assert_outcomes(passed=1)


def test_a_snapshot_of_the_seeded_fake_gives_the_same_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    from fakes import FakeWandb
    from fakes.server import FakeWandbServer

    _write(tmp_path)
    monkeypatch.chdir(tmp_path)
    with FakeWandbServer(FakeWandb()) as server:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}, **server.env()}
        subprocess.run([sys.executable, "seed.py"], env=env, check=True, timeout=120, capture_output=True)
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        snap = CliRunner().invoke(
            app,
            ["snapshot", "team/proj", "-o", "seeded.json.gz", "--workspace", str(tmp_path / "ws.sqlite3")],
        )
        assert snap.exit_code == 0, snap.output
    args = ["simulate", "cleanup.py", "team/proj", "model", "--snapshot", "seeded.json.gz"]
    result = CliRunner().invoke(app, [*args, "--policy", "seeded-policy.toml", "--json"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.output)["runs"]
    assert [c["target"] for c in run["audit"]["changes"]] == ["team/proj/model:v0"]


def test_the_fixture_section_seeding_example_passes(pytester: pytest.Pytester) -> None:
    section = README.read_text(encoding="utf-8").split("#### Seed it with your own training code", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(cleanup=_files()["cleanup.py"], test_seed_fixture=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=170)
    result.assert_outcomes(passed=1)
