"""``python -m fakes.server``: started by hand, stopped by a signal, leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_removes_its_temporary_folder(stop: signal.Signals) -> None:
    # given a server started by hand
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.server", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "WANDB_CONFIG_DIR" in line:
                break
        match = re.search(r"WANDB_CONFIG_DIR=(\S+)", "".join(lines))
        assert match, "".join(lines)
        folder = os.path.dirname(match.group(1))
        assert os.path.isdir(folder)
        assert "127.0.0.1" in lines[0]

        # when it is stopped the way a service manager or a terminal stops it
        proc.send_signal(stop)
        code = proc.wait(timeout=20)

        # then it exits cleanly and its folder is gone
        assert code == 0, proc.stderr.read() if proc.stderr else ""
        assert not os.path.exists(folder)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
