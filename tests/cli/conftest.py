"""Shared helpers for the CLI tests: an in-process runner, policy files, a small snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from artifact_guard import capture
from artifact_guard._snapshot_file import write_snapshot
from artifact_guard.cli import app
from fakes import FakeWandb

Invoke = Callable[..., Result]
NOW = datetime.fromisoformat("2026-11-27T12:00:00+00:00")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run the CLI in-process, in a temporary directory, with a temporary workspace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTIFACT_GUARD_WORKSPACE", str(tmp_path / "ws"))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:  # noqa: A002 - CliRunner's name
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def model_policy(tmp_path: Path) -> Path:
    path = tmp_path / "artifact-guard.toml"
    path.write_text('types = ["model"]\nkeep-last = 5\n')
    return path


def small_fake() -> FakeWandb:
    """Two collections sharing one file: bytes every reader can check by hand."""
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r1")
    shared = b"s" * 50
    fake.log_artifact(
        run, "a", "model", {"a": b"a" * 100, "shared": shared}, created_at=NOW - timedelta(days=9)
    )
    fake.log_artifact(
        run, "a", "model", {"a": b"b" * 30, "shared": shared}, created_at=NOW - timedelta(days=8)
    )
    fake.log_artifact(
        run, "b", "dataset", {"shared": shared, "b": b"c" * 7}, created_at=NOW - timedelta(days=7)
    )
    return fake


@pytest.fixture
def small_snapshot(tmp_path: Path) -> Path:
    fake = small_fake()
    return write_snapshot(capture(fake.repository(), "team/proj", now=fake.now()), tmp_path / "small.json")


def one_error_line(result: Result) -> str:
    """The single stderr line of a refused command; fails on tracebacks or extra lines."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
