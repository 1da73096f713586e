"""Runs: the run views scripts read, and the run mutations."""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

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
    iso,
    project_number,
    require_run_scope,
)

__all__ = ["RunMutations", "RunQueries", "RunView"]


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
        self.projectId = str(project_number(scope))  # an ID: a string on the wire
        self.state = run.state
        details = ctx.fake.run_details(run.path)
        self.tags: list[str] = list(details.tags)
        self.sweepName = None
        self.config = json.dumps({k: {"value": v, "desc": None} for k, v in details.config.items()})
        self.group = details.group
        self.jobType = details.job_type
        if details.display_name:
            self.displayName = details.display_name
        self.commit = None
        self.readOnly = False
        self.createdAt = FIXED_TIME
        self.heartbeatAt = iso(details.heartbeat_at) if details.heartbeat_at else self.createdAt
        self.description = None
        self.notes = details.notes
        self.systemMetrics = "{}"
        self.summaryMetrics = json.dumps(details.summary)
        self.historyLineCount = len(details.history)
        self.logLineCount = len(details.console)
        self.eventsLineCount = len(details.events)
        self.historyTail = json.dumps([json.dumps(h) for h in details.history[-10:]])
        self.eventsTail = json.dumps([json.dumps(e) for e in details.events[-10:]])
        self.summaryMetricsTail = self.summaryMetrics
        self.stopped = False
        self.exitcode = details.exit_code
        last_step = max((int(h.get("_step", i)) for i, h in enumerate(details.history)), default=-1)
        keys = sorted({k for h in details.history for k in h})
        self.historyKeys = {"lastStep": last_step, "keys": {k: {} for k in keys}}
        self._details = details

    def wandbConfig(self, keys: list[str] | None = None) -> str:
        """The run's ``_wandb`` config entries (``t``: telemetry, whose presence says the run started)."""
        wandb = self._details.config.get("_wandb")
        found = wandb if isinstance(wandb, dict) else {}
        return json.dumps({k: v for k, v in found.items() if keys is None or k in keys})

    def user(self) -> _projects.UserView:
        # Made on demand: most run selections never ask for it.
        return _projects.UserView(self.ctx)

    def project(self) -> _projects.ProjectView:
        return _projects.ProjectView(self.ctx, self.run.scope)

    def outputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        versions = [v for v in self.ctx.fake.run_logged(self.run) if v.state is not VersionState.DELETED]
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

    def upsertBucket(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        entity = input.get("entityName") or self.ctx.default_entity
        project = input.get("modelName") or "uncategorized"
        name = input.get("name")
        if not name:
            raise ValueError("upsertBucket needs the run's name (its id)")
        run, inserted = self.ctx.fake.upsert_run(
            f"{entity}/{project}/{name}",
            job_type=input.get("jobType"),
            display_name=input.get("displayName"),
            group=input.get("groupName"),
            notes=input.get("notes"),
            tags=input.get("tags"),
            config=input.get("config"),
            summary=input.get("summaryMetrics"),
            state=input.get("state"),
        )
        return {"bucket": RunView(self.ctx, run), "inserted": inserted, "clientMutationId": None}

    def createRunFiles(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        path = require_run_scope(input)
        run = self.ctx.fake.run(path)
        files = [
            {"name": name, "uploadUrl": f"{self.ctx.base_url}/_storage/runs/{quote(path)}/{quote(name)}"}
            for name in input["files"]
        ]
        return {"runID": encode_id("Run", run.path), "uploadHeaders": [], "files": files}

    def markRunFilesUploaded(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        self.ctx.fake.run(require_run_scope(input))
        return {"success": True, "clientMutationId": None}

    def stopRun(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return {"success": False, "clientMutationId": None}


class RunQueries(Root):
    """Root query fields about runs (``model`` is W&B's old name for a project)."""

    def model(self, name: str | None = None, entityName: str | None = None) -> _projects.ProjectView | None:
        return _projects.ProjectQueries(self.ctx).project(name, entityName)
