"""The error hierarchy of artifact-guard.

Runtime failures share one base, so ``except ArtifactGuardError`` catches every
failure of the world (W&B, files, user input) and never a bug in the caller::

    ArtifactGuardError
    ├── RepositoryError                 a repository (fake or W&B) refused or failed
    │   ├── AuthenticationError         the credentials were refused
    │   ├── PermissionDeniedError       allowed to read, not to do this
    │   │   └── ProtectedAliasError     a registry-protected alias blocks the change
    │   ├── NotFoundError               the entity, project, collection or version is unknown
    │   ├── ConflictError               the request contradicts the current state
    │   │   └── AliasedVersionError     deleting a version with aliases without delete_aliases
    │   ├── RateLimitedError            HTTP 429; carries ``retry_after`` when the server said
    │   └── TransientError              5xx, timeouts, connection resets: worth retrying
    ├── PolicyError (also ValueError)   a policy value is invalid; names the field
    ├── PlanError                       a plan cannot be made or used
    │   └── EmptyPolicyError            the policy keeps nothing and that was not allowed
    ├── SnapshotError                   a snapshot file is broken, too new, or inconsistent
    └── JournalError                    an execution journal is broken or belongs elsewhere

Misuse errors stand outside the base, so catching the base never hides them:

    ReadOnlyViolation (RuntimeError)    a write call reached a read-only repository
"""

from __future__ import annotations

__all__ = [
    "AliasedVersionError",
    "ArtifactGuardError",
    "AuthenticationError",
    "ConflictError",
    "EmptyPolicyError",
    "JournalError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanError",
    "PolicyError",
    "ProtectedAliasError",
    "RateLimitedError",
    "ReadOnlyViolation",
    "RepositoryError",
    "SnapshotError",
    "TransientError",
]


class ArtifactGuardError(Exception):
    """Base of every runtime failure artifact-guard raises."""


class RepositoryError(ArtifactGuardError):
    """A repository (the fake or W&B) refused or failed a request."""


class AuthenticationError(RepositoryError):
    """The credentials were missing or refused."""


class PermissionDeniedError(RepositoryError):
    """The credentials are valid but not allowed to do this."""


class ProtectedAliasError(PermissionDeniedError):
    """A registry-protected alias blocks the change; only an admin may remove it."""


class NotFoundError(RepositoryError):
    """The entity, project, collection, run or version does not exist."""


class ConflictError(RepositoryError):
    """The request contradicts the current state."""


class AliasedVersionError(ConflictError):
    """Deleting a version that still holds aliases, without ``delete_aliases=True``."""


class RateLimitedError(RepositoryError):
    """The server answered HTTP 429."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(RepositoryError):
    """A failure worth retrying: 5xx, timeout, connection reset."""


class PolicyError(ArtifactGuardError, ValueError):
    """A policy value is invalid. The message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"policy field {field!r}: {message}")
        self.field = field


class PlanError(ArtifactGuardError):
    """A plan cannot be made or used."""


class EmptyPolicyError(PlanError):
    """The policy keeps nothing, and ``allow_empty`` was not set."""


class SnapshotError(ArtifactGuardError):
    """A snapshot file is truncated, from a newer format, or inconsistent."""


class JournalError(ArtifactGuardError):
    """An execution journal is broken, too new, or belongs to another plan."""


class ReadOnlyViolation(RuntimeError):  # noqa: N818 - the name says what happened
    """A write call reached a read-only repository: a dry run tried to change state.

    This is a bug in the caller, never a condition of the world, so it stands
    outside :class:`ArtifactGuardError`.
    """
