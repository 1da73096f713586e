"""Minimal sequential apply: enough to close the loop plan -> delete -> GC.

The journaled, paced, resumable executor replaces this (see the execution issue).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._errors import AuthenticationError, NotFoundError, PermissionDeniedError, RepositoryError
from ._planner import Action, Decision, Plan
from ._repository import ArtifactRepository

__all__ = ["ApplyResult", "apply"]


@dataclass
class ApplyResult:
    """What an apply did: version ids done (deleted, or already gone) and failed with the error."""

    done: list[str] = field(default_factory=list)
    already_deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None
    """Why the apply stopped early (authentication or permission refused), if it did."""

    @property
    def ok(self) -> bool:
        return not self.failed and self.stopped is None


def apply(plan: Plan, repository: ArtifactRepository) -> ApplyResult:
    """Delete every version the plan marks DELETE, one at a time, in plan order.

    A version already deleted counts as done. Authentication errors stop the
    apply at once; other repository errors are recorded and the apply goes on.
    """
    result = ApplyResult()
    for d in plan.decisions:
        if d.action is not Action.DELETE:
            continue
        try:
            _delete(repository, d)
        except NotFoundError:
            result.already_deleted.append(d.version.id)
        except AuthenticationError as exc:
            result.stopped = f"authentication refused: {exc}"
            break
        except (PermissionDeniedError, RepositoryError) as exc:
            result.failed.append((d.version.id, f"{type(exc).__name__}: {exc}"))
        else:
            result.done.append(d.version.id)
    return result


def _delete(repository: ArtifactRepository, d: Decision) -> None:
    repository.delete_version(d.version.id, delete_aliases=bool(d.version.aliases))
