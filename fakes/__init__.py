"""Fakes of W&B for tests and offline simulation.

- :class:`FakeWandb`: in-memory W&B artifact state with W&B's deletion semantics.
- :class:`FakeRepository`: the :class:`artifact_guard.ArtifactRepository` over it.
- :class:`FakeWandbServer`: a loopback HTTP server speaking W&B's GraphQL over it,
  for the real wandb SDK (imported lazily: it pulls in graphql-core).
- :class:`RunDetails`, :class:`ArtifactDetails`: what runs and versions written through
  the SDK carry beyond the model (``fake.run_details(path)``, ``fake.artifact_details(id)``).
- :func:`load_snapshot`: a :class:`FakeWandb` holding a project recorded in a snapshot file.
- :class:`FakeDownloads`: ``responses`` mode for the SDK's python-requests downloads
  (imported lazily: ``responses`` is a test dependency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._backend import DedupeScope, Deletion, FakeWandb, FileSpec, md5_b64
from ._backend_write import ArtifactDetails, RunDetails
from ._repository import FakeRepository
from ._snapshot_load import load_snapshot, restore_snapshot

if TYPE_CHECKING:
    from ._responses import FakeDownloads
    from .server import FakeWandbServer

__all__ = [
    "ArtifactDetails",
    "DedupeScope",
    "Deletion",
    "FakeDownloads",
    "FakeRepository",
    "FakeWandb",
    "FakeWandbServer",
    "FileSpec",
    "RunDetails",
    "load_snapshot",
    "md5_b64",
    "restore_snapshot",
]


def __getattr__(name: str) -> Any:
    # The server pulls in graphql-core and http.server: load it only when asked for.
    if name == "FakeWandbServer":
        from .server import FakeWandbServer

        return FakeWandbServer
    if name == "FakeDownloads":
        from ._responses import FakeDownloads

        return FakeDownloads
    raise AttributeError(f"module 'fakes' has no attribute {name!r}")
