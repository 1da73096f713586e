"""Storage: a version's stored files and its manifest, as W&B serves them."""

from __future__ import annotations

from typing import Any

from artifact_guard._model import ManifestEntry, Version

from .._backend import FakeWandb
from ._handlers_common import Context, connection, encode_id, iso

__all__ = ["files_connection", "manifest_json"]


def files_connection(
    ctx: Context, version: Version, names: list[str] | None, after: str | None, first: int | None
) -> dict[str, Any]:
    """The files W&B stores for a version (reference entries are not stored, so not listed)."""
    entries = [
        e for e in ctx.fake.manifest(version.id) if e.ref is None and (names is None or e.path in names)
    ]
    updated = iso(version.created_at)

    def file(entry: ManifestEntry) -> dict[str, Any]:
        # The fake keeps digests and sizes, not bytes: the URL answers 404, honestly.
        url = f"{ctx.base_url}/artifactsV2/files/{version.id}/{entry.path}"
        return {
            "id": encode_id("File", f"{version.id}:{entry.path}"),
            "name": entry.path,
            "displayName": entry.path,
            "url": url,
            "directUrl": url,
            "sizeBytes": entry.size,
            "storagePath": None,
            "mimetype": None,
            "updatedAt": updated,
            "digest": entry.digest,
            "md5": entry.digest,
        }

    return connection(ctx, entries, None, after, first, file)


def manifest_json(fake: FakeWandb, version_id: str) -> dict[str, Any]:
    """A version's manifest in W&B's ``wandb_manifest.json`` format (version 1)."""
    contents: dict[str, dict[str, Any]] = {}
    for entry in fake.manifest(version_id):
        item: dict[str, Any] = {"digest": entry.digest, "size": entry.size}
        if entry.ref is not None:
            item["ref"] = entry.ref
        else:
            item["birthArtifactID"] = version_id
        contents[entry.path] = item
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }
