"""Policy file discovery, as ruff and pytest find theirs: from the working directory upwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact_guard._policy_file import discover_policy
from fakes.demo import DEMO_PROJECT

from .conftest import Invoke, one_error_line

TABLE = "[tool.artifact-guard]\nkeep-last = 3\n"


def test_artifact_guard_toml_comes_before_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(TABLE)
    (tmp_path / "artifact-guard.toml").write_text("keep-last = 4\n")
    assert discover_policy(tmp_path) == tmp_path / "artifact-guard.toml"


def test_the_nearest_folder_wins_and_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    deep = tmp_path / "repo" / "ml" / "jobs"
    deep.mkdir(parents=True)
    (tmp_path / "artifact-guard.toml").write_text("keep-last = 9\n")
    (tmp_path / "repo" / "pyproject.toml").write_text(TABLE)
    (tmp_path / "repo" / "ml" / "pyproject.toml").write_text('[project]\nname = "ml"\n')
    assert discover_policy(deep) == tmp_path / "repo" / "pyproject.toml"


def test_nothing_found_is_none(tmp_path: Path) -> None:
    if discover_policy(tmp_path.parent) is not None:
        pytest.skip("a policy file lies above the temporary folder on this machine")
    assert discover_policy(tmp_path) is None


def test_plan_without_policy_uses_the_discovered_file_and_says_which(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(TABLE)
    (tmp_path / "jobs").mkdir()
    monkeypatch.chdir(tmp_path / "jobs")
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "--json")
    assert result.exit_code == 0, result.stderr
    assert f"policy: {tmp_path / 'pyproject.toml'} (found from the working directory)" in result.stderr
    import json

    assert json.loads(result.stdout)["policy"]["keep-last"] == 3
    explained = cli("policy", "explain")
    assert "Keeps the newest 3 of each collection." in explained.stdout


def test_plan_without_any_policy_file_says_to_pass_one(cli: Invoke, tmp_path: Path) -> None:
    if discover_policy(tmp_path) is not None:
        pytest.skip("a policy file lies above the temporary folder on this machine")
    line = one_error_line(cli("plan", DEMO_PROJECT, "--seed", "demo"))
    assert "no policy file" in line and "pass --policy FILE" in line


def test_a_broken_pyproject_with_the_table_is_reported_not_passed_over(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "artifact-guard.toml").write_text("keep-last = 9\n")  # must not be used in silence
    (tmp_path / "repo" / "pyproject.toml").write_text("[tool.artifact-guard]\nkeep-last = = 3\n")
    assert discover_policy(tmp_path / "repo") == tmp_path / "repo" / "pyproject.toml"


def test_an_unwritable_markdown_file_is_one_line(cli: Invoke, model_policy: Path) -> None:
    line = one_error_line(
        cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "--markdown", "no/such/dir/p.md")
    )
    assert "cannot write" in line and "p.md" in line
