"""Fixtures for the fake-server tests: one server per module, a subprocess runner for SDK scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import fakes
from fakes.server import FakeWandbServer

SDK_TIMEOUT = 90.0
"""Seconds a subprocess using the SDK may take: wandb-core can hang at exit after a failed call."""


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWandbServer]:
    """One fake server for the module; tests reset it through ``fresh``."""
    with FakeWandbServer(fakes.FakeWandb()) as srv:
        yield srv


@pytest.fixture
def fresh(server: FakeWandbServer) -> FakeWandbServer:
    """The module's server, emptied."""
    server.reset()
    return server


def _run_sdk(server: FakeWandbServer, script: str, *, timeout: float = SDK_TIMEOUT) -> Any:
    """Run ``script`` in a fresh Python with the server's SDK environment; return its last JSON line.

    The script must print one JSON document as its last line of stdout.
    """
    env = {**os.environ, **server.env()}
    # A test that used the SDK in this process left WANDB_SERVICE set: a child would then share this
    # process's wandb-core, which outlives it, and a script that dies would never end its run.
    env.pop("WANDB_SERVICE", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"SDK subprocess hung for {timeout}s and was killed; stderr:\n{e.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"SDK subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"SDK subprocess printed nothing; stderr:\n{proc.stderr[-2000:]}"
    return json.loads(lines[-1])


@pytest.fixture
def run_sdk() -> Callable[..., Any]:
    """``run_sdk(server, script)``: run an SDK script in a subprocess, return its last JSON line."""
    return _run_sdk
