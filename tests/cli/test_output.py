"""Output people see: progress off a terminal, whole names when piped, --version, -h, -q, -v."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import capture
from artifact_guard._progress import PlainProgress
from artifact_guard._snapshot_file import write_snapshot
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT

from .conftest import NOW, Invoke

LONG = "imagenet-subset-with-a-rather-long-collection-name-for-ablation-runs-2026"


@pytest.fixture
def long_names(tmp_path: Path) -> Path:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r1")
    for i in range(3):
        fake.log_artifact(
            run, LONG, "dataset", {"f": bytes([i]) * 10}, created_at=NOW - timedelta(days=30 - i),
            aliases=["reviewed-by-the-data-platform-team"] if i == 0 else [],
        )  # fmt: skip
    return write_snapshot(capture(fake.repository(), "team/proj", now=fake.now()), tmp_path / "long.json")


# ------------------------------------------------------------------ 2: piped tables keep whole names


def test_piped_inventory_keeps_whole_names_and_aliases(cli: Invoke, long_names: Path) -> None:
    out = cli("inventory", "team/proj", "--snapshot", str(long_names)).stdout
    assert LONG in out
    assert "latest, reviewed-by-the-data-platform-team" in out


def test_piped_plan_keeps_whole_names_and_reasons(cli: Invoke, long_names: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("keep-last = 1\n")
    out = cli("plan", "team/proj", "--snapshot", str(long_names), "-p", str(policy)).stdout
    assert LONG in out
    assert "…" not in out
    assert (
        "holds aliases reviewed-by-the-data-platform-team" in out
        or "reviewed-by-the-data-platform-team" in out
    )


def test_piped_demo_cuts_no_reason(cli: Invoke) -> None:
    out = cli("demo").stdout
    assert "…" not in out
    assert "resnet50-004" in out


# ------------------------------------------------------------------ 1: plain progress lines


def test_plain_progress_prints_a_heartbeat_while_nothing_settles() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, every=0.2)
    progress.start(10)
    time.sleep(1.6)  # one slow operation (a rate-limit wait): no advance at all
    progress.advance("done")
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "apply: 10 operations to run (0 settled earlier)"
    assert sum("0/10 settled" in line for line in lines) >= 3, lines
    assert lines[-1].startswith("apply: 1/10 settled (1 done")


@pytest.mark.timeout(120)
def test_ci_like_apply_prints_progress_at_least_every_5_s(tmp_path: Path) -> None:
    """CI=true, no terminal anywhere: the apply's progress lines come at most ~5 s apart."""
    exe = [sys.executable, "-m", "artifact_guard.cli"]
    env = {**os.environ, "CI": "true", "ARTIFACT_GUARD_WORKSPACE": str(tmp_path / "ws")}
    (tmp_path / "p.toml").write_text('types = ["model"]\nkeep-last = 5\n')
    subprocess.run(
        [*exe, "plan", DEMO_PROJECT, "--seed", "demo", "-p", "p.toml", "-o", "plan.json"],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    # 190 deletions at 24/s: about 8 s of work, so at least one line must come from the 5 s cadence.
    proc = subprocess.Popen(
        [*exe, "apply", "plan.json", "--seed", "demo", "--yes", "--rate", "24"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    stamps: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stamps.append((time.monotonic(), line.rstrip("\n")))

    reader = threading.Thread(target=read)
    reader.start()
    proc.wait(timeout=90)  # only the reader thread reads stderr: two readers would split lines
    reader.join(timeout=10)
    assert proc.returncode == 0, stamps
    progress = [(t, line) for t, line in stamps if line.startswith("apply: ")]
    assert progress[0][1] == "apply: 190 operations to run (0 settled earlier)"
    assert progress[-1][1].startswith("apply: 190/190 settled")
    assert len(progress) >= 3, progress
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(progress)]
    assert max(gaps) <= 7.5, gaps  # 5 s cadence, with room for a loaded, shared 2-core machine
    assert "\r" not in "".join(line for _, line in stamps)


# ------------------------------------------------------------------ 5: --version, -h, -q, -v


def test_version_and_short_help(cli: Invoke) -> None:
    from artifact_guard import __version__

    assert cli("--version").stdout.strip() == f"artifact-guard {__version__}"
    assert cli("-h").stdout.startswith("Usage: artifact-guard")
    assert cli("plan", "-h").stdout.startswith("Usage: artifact-guard plan")


def test_quiet_prints_only_the_final_line(cli: Invoke, model_policy: Path) -> None:
    planned = cli("-q", "plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    assert planned.stdout.splitlines() == [
        next(line for line in planned.stdout.splitlines() if line.startswith("plan "))
    ]
    assert planned.stdout.strip().endswith("; wrote plan.json")
    applied = cli("apply", "plan.json", "--seed", "demo", "--yes", "-q")  # after the command works too
    assert applied.exit_code == 0
    (line,) = applied.stdout.splitlines()
    assert line.startswith("apply of plan ") and " done " in line
    assert applied.stderr == ""


def test_verbose_shows_each_operation(cli: Invoke, model_policy: Path) -> None:
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    result = cli("-v", "apply", "plan.json", "--seed", "demo", "--yes")
    assert result.exit_code == 0
    ops = [line for line in result.stderr.splitlines() if line.startswith("-> ")]
    assert any(line.startswith("-> delete_version(") for line in ops), result.stderr[:500]


def test_quiet_and_verbose_together_is_a_usage_error(cli: Invoke) -> None:
    result = cli("-q", "-v", "status")
    assert result.exit_code == 2 and "either --quiet or --verbose" in result.stderr


def test_planning_off_a_terminal_prints_a_plain_progress_line_at_most_every_5_s(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A plan of millions of versions reads for minutes: a CI log must show it is alive.
    from artifact_guard import cli

    clock = [100.0]
    monkeypatch.setattr(cli, "_monotonic", lambda: clock[0])

    class Reporting:
        progress: Any = None

    repo = Reporting()
    with cli._planning_status(repo, quiet=False):
        for step in range(1, 13):  # one report a second for 12 s
            clock[0] += 1.0
            repo.progress("versions", step * 100)
        repo.progress("manifests", 7)
    assert repo.progress is None
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "planning: 500 versions listed, 0 manifests read",
        "planning: 1,000 versions listed, 0 manifests read",
    ]
