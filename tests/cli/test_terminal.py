"""A real terminal session, driven through tmux: the confirmation prompt, then a live progress bar."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.demo import DEMO_PROJECT

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux not installed (apt-get install tmux)")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Run tmux commands on a server of this test's own (its own socket), killed afterwards."""
    assert TMUX is not None
    socket = f"ag-test-{os.getpid()}-{time.monotonic_ns()}"

    def run(*args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", socket, *args], capture_output=True, text=True, timeout=20, check=False
        )
        return done.stdout

    yield run
    subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True, timeout=20, check=False)


def _wait_for(screen: Callable[[], str], text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen()
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen showed:\n{shown}")


@pytest.mark.timeout(120)
def test_a_terminal_apply_asks_then_shows_a_progress_bar(tmux: Callable[..., str], tmp_path: Path) -> None:
    exe = f"{shlex.quote(sys.executable)} -m artifact_guard.cli"
    (tmp_path / "p.toml").write_text('types = ["model"]\nkeep-last = 5\n')
    subprocess.run(
        [sys.executable, "-m", "artifact_guard.cli", "plan", DEMO_PROJECT, "--seed", "demo", "-p", "p.toml",
         "-o", "plan.json"],
        cwd=tmp_path, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    command = f"cd {shlex.quote(str(tmp_path))} && {exe} apply plan.json --seed demo --rate 40; sleep 60"
    tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "40", command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "t")

    _wait_for(screen, "Delete 190 version(s) from demo-team/vision? [y/N]:", timeout=60)
    tmux("send-keys", "-t", "t", "y", "Enter")
    # While it runs (190 deletions at 40/s: about 5 s), the bar redraws in place with rate and counts.
    live = _wait_for(screen, "ops/s", timeout=30)
    assert "apply" in live and " done" in live
    final = _wait_for(screen, "apply of plan", timeout=60)
    assert "190 done" in final and "190 deleted" in final, final
    assert "190/190" in final, final
