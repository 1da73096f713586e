"""artifact-guard: safe, fast, testable deletion of Weights & Biases artifacts.

Plan what to delete (every decision with its reasons, the exact bytes freed),
review it, and apply it; or verify a cleanup script against a fake W&B.
"""

from __future__ import annotations

from ._apply import ApplyResult, apply, journal_status, resume
from ._audit import AuditReport, Change, ChangeKind, Violation, audit
from ._conformance import Conformance, KeptByPolicy
from ._errors import (
    AliasedVersionError,
    ArtifactGuardError,
    AuthenticationError,
    ConflictError,
    EmptyPolicyError,
    JournalError,
    NotFoundError,
    PermissionDeniedError,
    PlanError,
    PolicyError,
    ProtectedAliasError,
    RateLimitedError,
    ReadOnlyViolation,
    RepositoryError,
    SnapshotError,
    TransientError,
)
from ._model import (
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    ManifestEntry,
    Run,
    Scope,
    Version,
    VersionState,
)
from ._planner import Action, CollectionSummary, Decision, Plan, format_bytes, plan
from ._policy import DEFAULT_PROTECTED_ALIASES, RULE_IDS, Policy
from ._policy_file import load_policy, policy_from_dict, policy_to_dict
from ._repository import ArtifactRepository, ReadOnlyRepository
from ._rules import Reason, describe
from ._snapshot import Snapshot, capture
from ._snapshot_file import read_snapshot, write_snapshot

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PROTECTED_ALIASES",
    "RULE_IDS",
    "Action",
    "AliasedVersionError",
    "ApplyResult",
    "ArtifactGuardError",
    "ArtifactRepository",
    "AuditReport",
    "AuthenticationError",
    "Change",
    "ChangeKind",
    "CollectionKind",
    "CollectionRef",
    "CollectionSummary",
    "ConflictError",
    "Conformance",
    "Decision",
    "EmptyPolicyError",
    "JournalError",
    "KeptByPolicy",
    "Lineage",
    "Link",
    "ManifestEntry",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "PlanError",
    "Policy",
    "PolicyError",
    "ProtectedAliasError",
    "RateLimitedError",
    "ReadOnlyRepository",
    "ReadOnlyViolation",
    "Reason",
    "RepositoryError",
    "Run",
    "Scope",
    "Snapshot",
    "SnapshotError",
    "TransientError",
    "Version",
    "VersionState",
    "Violation",
    "__version__",
    "apply",
    "audit",
    "capture",
    "describe",
    "format_bytes",
    "journal_status",
    "load_policy",
    "plan",
    "policy_from_dict",
    "policy_to_dict",
    "read_snapshot",
    "resume",
    "write_snapshot",
]
