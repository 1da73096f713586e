"""Runs: the run views scripts read, and the run mutations."""

# ruff: noqa: N802 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

from typing import Any

from artifact_guard._errors import NotFoundError
from artifact_guard._model import Run, VersionState

from . import _handlers_artifacts as _artifacts
from . import _handlers_projects as _projects
from ._handlers_common import (
    FIXED_TIME,
    Context,
    Root,
    connection,
    counter,
    decode_id,
    encode_id,
    project_number,
)

__all__ = ["RunMutations", "RunView"]


def run_matches(run: Run, filters: dict[str, Any]) -> bool:
    """Whether a run passes a parsed ``filters`` argument (state, name, ``$and``)."""
    for name, wanted in filters.items():
        if name == "state":
            if run.state != wanted:
                return False
        elif name == "name":
            if run.path.rsplit("/", 1)[1] != wanted:
                return False
        elif name == "$and" and isinstance(wanted, list):
            if not all(run_matches(run, sub) for sub in wanted if isinstance(sub, dict)):
                return False
        else:
            raise ValueError(f"the fake server does not support the run filter {name!r}")
    return True


class RunView:
    """A run; only what artifact scripts read is meaningful, the rest is empty."""

    def __init__(self, ctx: Context, run: Run) -> None:
        self.ctx = ctx
        self.run = run
        scope = run.scope
        self.typename = "Run"
        self.id = encode_id("Run", run.path)
        self.name = run.path.rsplit("/", 1)[1]
        self.displayName = self.name
        self.projectId = project_number(scope)
        self.state = run.state
        self.tags: list[str] = []
        self.sweepName = None
        self.config = "{}"
        self.group = None
        self.jobType = None
        self.commit = None
        self.readOnly = False
        self.createdAt = FIXED_TIME
        self.heartbeatAt = self.createdAt
        self.description = None
        self.notes = None
        self.systemMetrics = "{}"
        self.summaryMetrics = "{}"
        self.historyLineCount = 0
        self.historyKeys = {"lastStep": -1, "keys": {}}

    def user(self) -> _projects.UserView:
        # Made on demand: most run selections never ask for it.
        return _projects.UserView(self.ctx)

    def project(self) -> _projects.ProjectView:
        return _projects.ProjectView(self.ctx, self.run.scope)

    def outputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        versions = [v for v in self.ctx.fake.run_outputs(self.run) if v.state is not VersionState.DELETED]
        return connection(
            self.ctx,
            versions,
            lambda v: counter(v.id),
            after,
            first,
            lambda v: _artifacts.ArtifactView(self.ctx, v),
        )

    def inputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        versions = [v for v in self.ctx.fake.run_inputs(self.run) if v.state is not VersionState.DELETED]
        return connection(
            self.ctx,
            versions,
            lambda v: counter(v.id),
            after,
            first,
            lambda v: _artifacts.ArtifactView(self.ctx, v),
            usedAs=lambda v: [],
        )


# ---------------------------------------------------------------------- root fields


class RunMutations(Root):
    """Root mutation fields about runs."""

    def deleteRun(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        decoded = decode_id(input["id"])
        if decoded is None or decoded[0] != "Run":
            raise NotFoundError(f"run {input['id']!r} not found")
        self.ctx.fake.delete_run(decoded[1], delete_artifacts=bool(input.get("deleteArtifacts")))
        return {"clientMutationId": None}
