"""The write path of :class:`fakes.FakeWandb` (what ``wandb.init`` and ``log_artifact`` do): its types.

The methods are in :mod:`fakes._backend`, in the class.

Backend state only, like :mod:`fakes._backend` (no HTTP, no GraphQL): the
server's handlers read their inputs, call one FakeWandb method, and serialise.

Runs follow what the SDK did: a run upserted by ``wandb.init`` is ``running``
until its file stream says it ended (``finished``, or ``failed`` for a
non-zero exit code, as W&B names them). A run's history, summary, console
lines and uploaded run files are kept (:class:`RunDetails`).

An artifact logged through the SDK is written in steps, and is a ``PENDING``
version until its commit: :meth:`FakeWandb.create_artifact` (or the existing
committed version with the same digest, as W&B deduplicates), its manifest
record, file upload requests (none for a digest already stored in the
version's dedupe scope), the uploads themselves (bytes checked against the
announced MD5), the manifest upload, and :meth:`FakeWandb.commit_artifact`,
which refuses a version whose files were not all uploaded and leaves it
``PENDING``. Only a committed version has manifest entries, stored digests,
its requested aliases and ``latest``: exactly what the builder
:meth:`FakeWandb.log_artifact` makes in one call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from artifact_guard._model import ManifestEntry

from ._blobs import DigestMismatchError

__all__ = [
    "ArtifactDetails",
    "DigestMismatchError",
    "RunDetails",
    "UploadSlot",
    "manifest_entries",
    "parse_manifest",
]


@dataclass
class RunDetails:
    """What a run wrote beyond its path and state: config, history, summary, console, files."""

    created_at: datetime
    job_type: str | None = None
    display_name: str | None = None
    group: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)
    """Run files uploaded (``wandb-metadata.json``, ``config.yaml``, ...): name -> size."""
    exit_code: int | None = None
    heartbeat_at: datetime | None = None


@dataclass
class ArtifactDetails:
    """What a version carries beyond :class:`Version`: description, metadata, tags, client ids."""

    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    client_id: str | None = None
    sequence_client_id: str | None = None
    history_step: int | None = None
    digest_algorithm: str = "MANIFEST_MD5"
    """How the manifest's digests were computed (``MANIFEST_XXH128`` when the SDK negotiated it)."""
    # The write in progress (cleared at commit):
    aliases: tuple[str, ...] = ()
    manifest_id: str | None = None
    manifest_type: str = "FULL"
    base_id: str | None = None
    manifest: tuple[ManifestEntry, ...] | None = None
    """The uploaded manifest, applied to the version at commit."""
    document: dict[str, Any] | None = None
    """The uploaded ``wandb_manifest.json`` (merged over its base if incremental), served as sent."""


@dataclass(frozen=True)
class UploadSlot:
    """Where the bytes of one artifact file go: a storage path, and the digest they must have."""

    storage_path: str
    digest: str
    version_id: str
    parts: tuple[tuple[int, str], ...] = ()
    """Multipart uploads: ``(part number, hex MD5)`` of each part; empty for a single PUT."""


def _json_object(text: str | None, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} is not valid JSON: {e.msg}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """A ``wandb_manifest.json`` (version 1) as a dict; ValueError when it is not one."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"the manifest is not valid JSON: {e}") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("contents"), dict):
        raise ValueError("the manifest must be a JSON object with version 1 and 'contents'")
    manifest_entries(data)
    return data


def manifest_entries(data: dict[str, Any]) -> tuple[ManifestEntry, ...]:
    """The entries of a parsed manifest; ValueError for an entry without a digest."""
    entries = []
    for path, item in data["contents"].items():
        if not isinstance(item, dict) or not isinstance(item.get("digest"), str):
            raise ValueError(f"manifest entry {path!r} has no digest")
        size = item.get("size")
        ref = item.get("ref")
        entries.append(
            ManifestEntry(str(path), item["digest"], int(size or 0), str(ref) if ref is not None else None)
        )
    return tuple(entries)
