"""The W&B Registry: organizations, registry portfolios, and linking versions into them."""

# ruff: noqa: N802 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from typing import Any

from artifact_guard._errors import ConflictError, NotFoundError
from artifact_guard._model import CollectionKind, CollectionRef

from . import _handlers_artifacts as _artifacts
from . import _handlers_projects as _projects
from ._handlers_common import Context, Root, encode_id, require_version

__all__ = ["OrganizationView", "RegistryMutations", "RegistryQueries"]


def org_entities(ctx: Context) -> list[str]:
    """Entities that hold registry projects: each stands for its own organization."""
    return sorted({s.entity for s in ctx.fake.scopes() if s.project.startswith("wandb-registry-")})


class OrganizationView:
    """An organization. The fake models each team entity as its own organization (same name)."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.id = encode_id("Organization", name)
        self.name = name
        self.coreWeaveOrganizationId = None

    def orgEntity(self) -> _projects.EntityView:
        return _projects.EntityView(self.ctx, self.name)


# ---------------------------------------------------------------------- root fields


class RegistryQueries(Root):
    """Root query fields about organizations and registries."""

    def organization(self, name: str) -> OrganizationView | None:
        return OrganizationView(self.ctx, name)


class RegistryMutations(Root):
    """Root mutation fields about registry portfolios and links."""

    def deleteArtifactPortfolio(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return _artifacts.delete_collection(self.ctx, input["artifactPortfolioID"], CollectionKind.PORTFOLIO)

    def unlinkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        vid, pid = input["artifactID"], input["artifactPortfolioID"]
        info = self.ctx.fake.collection_by_id(pid)
        link = next((lk for lk in self.ctx.fake.portfolio_links(info.ref) if lk.version_id == vid), None)
        if link is None:
            raise NotFoundError(f"artifact {vid!r} is not linked into {info.ref}")
        self.ctx.fake.unlink(link)
        return {"artifactID": vid, "success": True, "clientMutationId": None}

    def linkArtifact(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        if not input.get("artifactID"):
            raise ValueError("linkArtifact needs artifactID (linking by client id is not modelled)")
        version = require_version(self.ctx.fake, input["artifactID"])
        if input.get("artifactPortfolioID"):
            ref = self.ctx.fake.collection_by_id(input["artifactPortfolioID"]).ref
        else:
            entity, project = input.get("entityName"), input.get("projectName")
            name = input.get("artifactPortfolioName")
            if not (entity and project and name):
                raise ValueError("linkArtifact needs artifactPortfolioID or entityName/projectName/name")
            ref = CollectionRef(str(entity), str(project), str(name), CollectionKind.PORTFOLIO)
        aliases = [a["alias"] for a in input.get("aliases") or ()]
        try:
            link = self.ctx.fake.link(version, f"{ref.entity}/{ref.project}/{ref.name}", aliases=aliases)
        except ValueError as e:
            raise ConflictError(str(e)) from None
        membership = _artifacts.MembershipView(self.ctx, self.ctx.fake.version(version.id), link)
        return {"versionIndex": link.index, "artifactMembership": membership, "clientMutationId": None}
