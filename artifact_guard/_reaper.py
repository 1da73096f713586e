"""The parent of a simulated script: every process the script starts stays its descendant.

``python -m artifact_guard._reaper RESULT TIMEOUT SETTLE -- COMMAND...`` runs
COMMAND and writes what happened to the JSON file RESULT.

On Linux the reaper first makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``): a process whose parent exits is then
re-parented to the reaper instead of to init, so a process the script starts
in a new session, with a stripped environment, and whose parent is gone, is
still one of the reaper's descendants. The flag is per process, which is why
the reaper is a small process of its own: set in ``simulate`` itself (or in a
test runner), it would adopt unrelated orphans of that process.

After COMMAND exits, descendants get SETTLE seconds to exit on their own
(wandb-core watches its parent); whatever is still running is listed in RESULT
and killed. Past TIMEOUT seconds, or on SIGTERM (``simulate`` interrupted),
COMMAND and every descendant are killed at once. Descendants are walked with
``psutil``, so this does not depend on Linux's ``/proc``; without the
subreaper flag (other systems) a process whose parent exited before the walk
is not found, which is what the marker scan of ``simulate`` is for.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import psutil

__all__ = ["become_subreaper", "main"]

PR_SET_CHILD_SUBREAPER = 36
"""From ``<linux/prctl.h>``."""


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux); False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _descendants() -> list[psutil.Process]:
    try:
        found = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    alive = []
    for p in found:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.Error:
            continue
    return alive


def _reap() -> None:
    """Collect exited children (adopted orphans included), so none lingers as a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _describe(p: psutil.Process) -> tuple[int, str, bool]:
    try:
        cmd = " ".join(p.cmdline()) or p.name()
        core = "wandb-core" in p.name() or "wandb-core" in cmd
    except psutil.Error:
        cmd, core = "?", False
    return p.pid, f"pid {p.pid}: {cmd[:120]}", core


def _kill_all(procs: list[psutil.Process]) -> None:
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=3)
    _reap()


def main(argv: list[str]) -> int:
    """Run the command; see the module docstring. Returns 0 once RESULT is written."""
    if len(argv) < 5 or argv[3] != "--":
        print("usage: python -m artifact_guard._reaper RESULT TIMEOUT SETTLE -- COMMAND...", file=sys.stderr)
        return 2
    result, timeout, settle, command = Path(argv[0]), float(argv[1]), float(argv[2]), argv[4:]
    subreaper = become_subreaper()
    started = time.monotonic()
    child = subprocess.Popen(command)  # noqa: S603 - the user's own script, by design

    def stop(signum: int, frame: FrameType | None) -> None:
        # simulate was interrupted: take everything down, now.
        _kill_all([*_descendants()])
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    timed_out = False
    try:
        returncode: int | None = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out, returncode = True, None
        _kill_all([*_descendants()])
    duration = time.monotonic() - started
    left = _descendants()
    deadline = time.monotonic() + settle
    while left and not timed_out and time.monotonic() < deadline:
        time.sleep(0.05)
        _reap()
        left = _descendants()
    leftover = [_describe(p) for p in left]
    _kill_all(left)
    result.write_text(
        json.dumps(
            {
                "returncode": returncode,
                "timed_out": timed_out,
                "duration_s": duration,
                "leftover": [{"pid": pid, "what": what, "wandb_core": core} for pid, what, core in leftover],
                "subreaper": subreaper,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
