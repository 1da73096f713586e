"""Build a :class:`FakeWandb` from a snapshot, so any policy or script can be tried offline.

``load_snapshot(path)`` reads a snapshot file (see ``docs/snapshot-format.md``),
validates it strictly, and returns a fake holding exactly that project: the
same version ids, indices, aliases, manifests, runs, consumers and registry
links. The fake's clock is frozen at the snapshot's ``taken_at`` and its
dedupe scope is the snapshot's, so a plan made against it matches a plan
made against the project the snapshot was taken from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from artifact_guard._errors import ArtifactGuardError, SnapshotError
from artifact_guard._snapshot import Snapshot
from artifact_guard._snapshot_file import read_snapshot, snapshot_from_json

from ._backend import FakeWandb

__all__ = ["load_snapshot", "restore_snapshot"]


def load_snapshot(
    source: str | os.PathLike[str] | Mapping[str, Any] | Snapshot,
    *,
    into: FakeWandb | None = None,
) -> FakeWandb:
    """A :class:`FakeWandb` holding the project of a snapshot file (or decoded JSON, or ``Snapshot``).

    With ``into``, the snapshot is added to that fake (which must not already
    hold the same ids) instead of a new one. Raises
    :class:`~artifact_guard.SnapshotError` naming what is wrong with a broken,
    too new or inconsistent snapshot.
    """
    if isinstance(source, Snapshot):
        snapshot = source
    elif isinstance(source, Mapping):
        snapshot = snapshot_from_json(dict(source))
    else:
        snapshot = read_snapshot(source)
    return restore_snapshot(snapshot, into=into)


def restore_snapshot(snapshot: Snapshot, *, into: FakeWandb | None = None) -> FakeWandb:
    """Put an in-memory :class:`Snapshot` into a (new) fake."""
    if snapshot.dedupe not in ("collection", "project", "entity"):
        raise SnapshotError(f"unknown dedupe scope {snapshot.dedupe!r}")
    fake = into if into is not None else FakeWandb(dedupe=snapshot.dedupe, now=snapshot.taken_at)  # type: ignore[arg-type]
    consumers = {vid: [run.path for run in lin.consumers] for vid, lin in snapshot.lineage.items()}
    links = [link for vlinks in snapshot.links.values() for link in vlinks]
    try:
        fake.restore(
            runs=snapshot.runs.values(),
            versions=[(v, tuple(snapshot.manifests.get(v.id, ()))) for v in snapshot.versions],
            consumers=consumers,
            links=links,
            # A project with runs but no versions still exists in W&B: keep it visible.
            projects=[snapshot.scope],
        )
    except ArtifactGuardError as e:
        raise SnapshotError(f"cannot load snapshot of {snapshot.scope}: {e}") from None
    return fake
