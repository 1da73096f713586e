"""Fakes of W&B for tests and offline simulation.

- :class:`FakeWandb`: in-memory W&B artifact state with W&B's deletion semantics.
- :class:`FakeRepository`: the :class:`artifact_guard.ArtifactRepository` over it.
"""

from __future__ import annotations

from ._backend import DedupeScope, FakeWandb, FileSpec, md5_b64
from ._repository import FakeRepository

__all__ = ["DedupeScope", "FakeRepository", "FakeWandb", "FileSpec", "md5_b64"]
