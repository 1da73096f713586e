"""Artifacts written through the SDK: create, manifest, commit, use (what ``log_artifact`` sends).

Each root field reads its input, calls one :class:`fakes.FakeWandb` method,
and serialises. File uploads (``createArtifactFiles``, multipart completion)
are in :mod:`._handlers_storage`.
"""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from artifact_guard._errors import NotFoundError

from . import _handlers_artifacts as _artifacts
from ._handlers_common import Root, decode_id, encode_id, iso, require_run_scope, require_version

__all__ = ["ArtifactWriteMutations", "ArtifactWriteQueries", "tag_names"]


def tag_names(tags: list[dict[str, Any]] | None) -> list[str]:
    """Tag names from ``TagInput`` objects; W&B allows letters, digits, ``-``, ``_``, spaces and dots."""
    names = []
    for tag in tags or ():
        name = str(tag.get("tagName") or "")
        if not name or not all(c.isalnum() or c in "-_ ." for c in name):
            raise ValueError(f"Invalid tag name {name!r}: use letters, digits, '-', '_', spaces and dots")
        names.append(name)
    return names


def _manifest_payload(root: Root, version_id: str, manifest_id: str, with_upload: bool) -> dict[str, Any]:
    url = f"{root.ctx.base_url}/_storage/manifests/{quote(version_id, safe='')}"
    file: dict[str, Any] = {"id": encode_id("File", manifest_id), "name": "wandb_manifest.json"}
    file.update(
        displayName="wandb_manifest.json",
        directUrl=url,
        url=url,
        uploadUrl=url if with_upload else None,
        uploadHeaders=[],
    )
    version = root.ctx.fake.version(version_id)
    manifest = {
        "id": encode_id("ArtifactManifest", manifest_id),
        "type": "FULL",
        "createdAt": iso(version.created_at),
        "digest": version.digest,
        "file": file,
    }
    return {"artifactManifest": manifest, "clientMutationId": None}


class ArtifactWriteQueries(Root):
    """Root query fields the write path reads."""

    def clientIDMapping(self, clientID: str) -> dict[str, Any] | None:
        version = self.ctx.fake.version_by_client_id(clientID)
        return {"serverID": version.id} if version is not None else None


class ArtifactWriteMutations(Root):
    """Root mutation fields that write artifact versions."""

    def createArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        collection = input.get("artifactCollectionName") or (input.get("artifactCollectionNames") or [""])[0]
        if not collection:
            raise ValueError("createArtifact needs artifactCollectionName")
        entity, project = input.get("entityName"), input.get("projectName")
        if not (entity and project):
            raise ValueError("createArtifact needs entityName and projectName")
        # No runName: an artifact a run uses without having logged it (created by the user).
        path = require_run_scope(input) if input.get("runName") else None
        region = input.get("storageRegion")
        regions = self.ctx.storage_regions
        if region and regions is not None and region not in regions:
            raise ValueError(f"CreateArtifact invalid storageRegion: {region}")
        ttl = input.get("ttlDurationSeconds")
        aliases = [
            a["alias"] for a in input.get("aliases") or () if a["artifactCollectionName"] == collection
        ]
        version = self.ctx.fake.create_artifact(
            path,
            collection,
            input["artifactTypeName"],
            digest=input["digest"],
            client_id=input.get("clientID"),
            sequence_client_id=input.get("sequenceClientID"),
            aliases=aliases,
            description=input.get("description"),
            metadata=input.get("metadata"),
            tags=tag_names(input.get("tags")),
            ttl=timedelta(seconds=int(ttl)) if ttl is not None and int(ttl) > 0 else None,
            history_step=input.get("historyStep"),
            digest_algorithm=input.get("digestAlgorithm") or "MANIFEST_MD5",
            scope=f"{entity}/{project}",
        )
        return {"artifact": _artifacts.ArtifactView(self.ctx, version), "clientMutationId": None}

    def createArtifactManifest(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid = require_version(self.ctx.fake, input["artifactID"]).id
        manifest_id = self.ctx.fake.create_manifest(
            vid, manifest_type=input.get("type") or "FULL", base_id=input.get("baseArtifactID")
        )
        return _manifest_payload(self, vid, manifest_id, bool(input.get("includeUpload", True)))

    def updateArtifactManifest(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        decoded = decode_id(input["artifactManifestID"])
        if decoded is None or decoded[0] != "ArtifactManifest":
            raise NotFoundError(f"artifact manifest {input['artifactManifestID']!r} not found")
        version = self.ctx.fake.version_of_manifest(decoded[1])
        manifest_id = self.ctx.fake.create_manifest(
            version.id,
            manifest_type=self.ctx.fake.artifact_details(version.id).manifest_type,
            base_id=input.get("baseArtifactID") or self.ctx.fake.artifact_details(version.id).base_id,
        )
        return _manifest_payload(self, version.id, manifest_id, True)

    def commitArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = self.ctx.fake.commit_artifact(require_version(self.ctx.fake, input["artifactID"]).id)
        return {"artifact": _artifacts.ArtifactView(self.ctx, version), "clientMutationId": None}

    def useArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        version = require_version(self.ctx.fake, input["artifactID"])
        path = require_run_scope(input)
        try:
            self.ctx.fake.use_artifact(path, version)
        except NotFoundError:
            # A run W&B has not seen yet (e.g. an Api-only use): W&B creates it on first use.
            self.ctx.fake.upsert_run(path)
            self.ctx.fake.use_artifact(path, version)
        return {"artifact": _artifacts.ArtifactView(self.ctx, version), "clientMutationId": None}
