"""One contract, every repository: the fixtures that give each test a fresh world per implementation.

A *world* is a :class:`FakeWandb` to build state with (the "ground truth"),
and a repository that reads and writes that same state:

- ``fake``: :class:`fakes.FakeRepository` over the FakeWandb, in memory;
- ``wandb``: :class:`WandbRepository` through the real wandb SDK and
  wandb-core, over HTTP, to the fake server holding the FakeWandb. It runs
  with tiny page sizes so that every test also exercises pagination.

The SDK runs in this process (wandb-core is started once per session); tests
that make ``wandb.Api()`` fail run in subprocesses instead (see
``test_adapter_errors.py``), because such a process can hang at exit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from artifact_guard import ArtifactRepository
from fakes import FakeWandb

NOW = datetime.fromisoformat("2026-11-27T12:00:00+00:00")
"""Frozen clock: W&B sends whole-second timestamps, so contract states use whole seconds."""


@dataclass
class World:
    """What a contract test gets: the backend state and the repository under test."""

    name: str
    fake: FakeWandb
    repo: ArtifactRepository
    server: Any = None


@pytest.fixture(scope="session")
def fake_server() -> Iterator[Any]:
    """One fake W&B server for the session, its environment applied to this process."""
    from fakes.server import FakeWandbServer

    server = FakeWandbServer(FakeWandb(now=NOW))
    server.start()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def wandb_repository(server: Any, **options: Any) -> Any:
    """A WandbRepository on ``server`` with tiny pages (every test paginates)."""
    from artifact_guard.adapters.wandb import WandbRepository

    options.setdefault("page_size", 3)
    options.setdefault("collections_per_page", 2)
    options.setdefault("timeout", 15)
    return WandbRepository(api_key=server.api_key, base_url=server.url, **options)


@pytest.fixture(params=["fake", pytest.param("wandb", marks=[pytest.mark.server, pytest.mark.timeout(60)])])
def world(request: pytest.FixtureRequest) -> World:
    """A fresh, empty world per implementation."""
    if request.param == "fake":
        fake = FakeWandb(now=NOW)
        return World("fake", fake, fake.repository())
    server = request.getfixturevalue("fake_server")
    server.reset()
    return World("wandb", server.fake, wandb_repository(server), server)


def settled(fake_server: Any) -> list[Any]:
    """The requests to W&B's API and storage once no entry has arrived for 0.3 s (the server logs a
    request after answering it); not wandb-core's own telemetry, sent once a minute or so."""
    deadline = time.monotonic() + 10
    seen = len(fake_server.requests)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = len(fake_server.requests)
        if now == seen:
            break
        seen = now
    return [r for r in fake_server.requests if r.operation != "telemetry"]
