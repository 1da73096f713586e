"""Storage: a version's stored files and its manifest as W&B serves them, and upload slots for new files."""

# ruff: noqa: N802 - GraphQL field names are camelCase by W&B's schema

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from artifact_guard._model import ManifestEntry, Version

from .._backend import FakeWandb
from .._backend_write import DigestMismatchError, UploadSlot
from . import _handlers_artifacts as _artifacts
from ._handlers_common import Context, Root, connection, encode_id, iso, require_version

__all__ = ["StorageMutations", "download_url", "files_connection", "manifest_json", "upload_url"]


def files_connection(
    ctx: Context, version: Version, names: list[str] | None, after: str | None, first: int | None
) -> dict[str, Any]:
    """The files W&B stores for a version (reference entries are not stored, so not listed)."""
    entries = [
        e for e in ctx.fake.manifest(version.id) if e.ref is None and (names is None or e.path in names)
    ]
    updated = iso(version.created_at)

    def file(entry: ManifestEntry) -> dict[str, Any]:
        # Bytes are served when the fake holds them; a (digest, size) entry answers a 404 saying so.
        url = download_url(ctx, version, entry)
        return {
            "id": encode_id("File", f"{version.id}:{entry.path}"),
            "name": entry.path,
            "displayName": entry.path,
            "url": url,
            "directUrl": url,
            "sizeBytes": entry.size,
            "storagePath": f"wandb_artifacts/{base64.b64decode(entry.digest).hex()}"
            if _is_b64(entry.digest)
            else None,
            "mimetype": None,
            "updatedAt": updated,
            "digest": entry.digest,
            "md5": entry.digest,
            "uploadHeaders": [],
        }

    return connection(ctx, entries, None, after, first, file)


def download_url(ctx: Context, version: Version, entry: ManifestEntry) -> str:
    """Where a stored file's bytes are served (no key needed, like W&B's presigned URLs)."""
    # Like W&B's presigned storage URLs: the object lives under wandb_artifacts/<hex MD5>.
    hexdigest = base64.b64decode(entry.digest).hex() if _is_b64(entry.digest) else "0"
    return f"{ctx.base_url}/_storage/wandb_artifacts/{hexdigest}/{quote(entry.path)}"


def _is_b64(digest: str) -> bool:
    try:
        base64.b64decode(digest, validate=True)
    except (ValueError, binascii.Error):
        return False
    return True


def upload_url(ctx: Context, slot: UploadSlot, part: int | None = None) -> str:
    """Where the bytes of an upload slot are PUT (one part of it, for multipart uploads)."""
    url = f"{ctx.base_url}/_storage/artifacts/{quote(slot.storage_path, safe='')}"
    return url if part is None else f"{url}?part={part}"


class StorageMutations(Root):
    """Root mutation fields for file uploads."""

    def createArtifactFiles(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        edges = []
        for spec in input["artifactFiles"]:
            version = require_version(self.ctx.fake, spec["artifactID"])
            parts = [(int(p["partNumber"]), str(p["hexMD5"])) for p in spec.get("uploadPartsInput") or ()]
            slot = self.ctx.fake.request_upload(
                version.id, spec["name"], spec["md5"], digest=spec.get("digest"), parts=parts
            )
            node: dict[str, Any] = {
                "id": encode_id("File", f"{version.id}:{spec['name']}"),
                "name": spec["name"],
                "displayName": spec["name"],
                "storagePath": slot.storage_path if slot is not None else None,
                "uploadUrl": None,
                "uploadHeaders": [],
                "uploadMultipartUrls": None,
                "artifact": _artifacts.ArtifactView(self.ctx, version),
            }
            if slot is not None and slot.parts:
                node["uploadMultipartUrls"] = {
                    "uploadID": slot.storage_path,
                    "uploadUrlParts": [
                        {"partNumber": n, "uploadUrl": upload_url(self.ctx, slot, n)} for n, _ in slot.parts
                    ],
                }
            elif slot is not None:
                node["uploadUrl"] = upload_url(self.ctx, slot)
            edges.append({"node": node, "cursor": None})
        return {"files": {"edges": edges}, "clientMutationId": None}

    def completeMultipartUploadArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        require_version(self.ctx.fake, input["artifactID"])
        if input["completeMultipartAction"] != "Complete":
            return {"digest": None, "clientMutationId": None}
        parts = [(int(p["partNumber"]), str(p["hexMD5"])) for p in input["completedParts"]]
        try:
            digest = self.ctx.fake.complete_multipart(input["storagePath"], parts)
        except DigestMismatchError as e:
            raise ValueError(str(e)) from None
        return {"digest": digest, "clientMutationId": None}


def manifest_json(fake: FakeWandb, version_id: str) -> dict[str, Any]:
    """A version's manifest in W&B's ``wandb_manifest.json`` format (version 1)."""
    return fake.manifest_document(version_id)
