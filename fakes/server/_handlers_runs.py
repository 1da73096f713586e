"""Runs: the run views scripts read, and the run mutations."""

# ruff: noqa: N802, N803 - GraphQL field and argument names are camelCase by W&B's schema

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from artifact_guard._errors import NotFoundError
from artifact_guard._model import Run, Version, VersionState

from .._backend_write import RunDetails
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
        self.projectId = str(project_number(scope))  # an ID: a string on the wire
        self.state = run.state
        self.sweepName = None
        self.commit = None
        self.readOnly = False
        self.createdAt = FIXED_TIME
        self.description = None
        self.systemMetrics = "{}"
        self.stopped = False

    # What the SDK wrote (config, history, ...) is read only when a query asks for it:
    # listings of artifacts make a RunView per producer and rarely select these.

    @functools.cached_property
    def _details(self) -> RunDetails:
        return self.ctx.fake.run_details(self.run.path)

    def displayName(self) -> str:
        return self._details.display_name or self.name

    def tags(self) -> list[str]:
        return list(self._details.tags)

    def config(self) -> str:
        return json.dumps({k: {"value": v, "desc": None} for k, v in self._details.config.items()})

    def group(self) -> str | None:
        return self._details.group

    def jobType(self) -> str | None:
        return self._details.job_type

    def notes(self) -> str | None:
        return self._details.notes

    def heartbeatAt(self) -> str:
        beat = self._details.heartbeat_at
        return iso(beat) if beat is not None else self.createdAt

    def summaryMetrics(self) -> str:
        return json.dumps(self._details.summary)

    def summaryMetricsTail(self) -> str:
        return self.summaryMetrics()

    def historyLineCount(self) -> int:
        return len(self._details.history)

    def logLineCount(self) -> int:
        return len(self._details.console)

    def eventsLineCount(self) -> int:
        return len(self._details.events)

    def historyTail(self) -> str:
        return json.dumps([json.dumps(h) for h in self._details.history[-10:]])

    def eventsTail(self) -> str:
        return json.dumps([json.dumps(e) for e in self._details.events[-10:]])

    def exitcode(self) -> int | None:
        return self._details.exit_code

    def historyKeys(self) -> dict[str, Any]:
        history = self._details.history
        last_step = max((int(h.get("_step", i)) for i, h in enumerate(history)), default=-1)
        return {"lastStep": last_step, "keys": {k: {} for k in sorted({k for h in history for k in h})}}

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
        return self._live(self.ctx.fake.run_logged(self.run), after, first)

    def inputArtifacts(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        return self._live(self.ctx.fake.run_inputs(self.run), after, first, usedAs=lambda v: [])

    def _live(
        self, versions: Iterable[Version], after: str | None, first: int | None, **extra: Any
    ) -> dict[str, Any]:
        """One page of a run's surviving versions."""
        return connection(
            self.ctx,
            [v for v in versions if v.state is not VersionState.DELETED],
            lambda v: counter(v.id),
            after,
            first,
            lambda v: _artifacts.ArtifactView(self.ctx, v),
            **extra,
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
        name = input.get("name")
        if name:
            # wandb.init: a new run, or a resumed one.
            entity = input.get("entityName") or self.ctx.default_entity
            project = input.get("modelName") or "uncategorized"
            path = f"{entity}/{project}/{name}"
        else:
            # The public API's run.update(): the run by its id, edited, not reopened.
            decoded = decode_id(input.get("id") or "")
            if decoded is None or decoded[0] != "Run":
                raise ValueError("upsertBucket needs the run's name, or the id of an existing run")
            path = self.ctx.fake.run(decoded[1]).path
        run, inserted = self.ctx.fake.upsert_run(
            path,
            reopen=bool(name),
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
