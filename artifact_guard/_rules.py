"""The safety rules: small pure functions with stable ids.

Each takes the facts about one candidate version and the policy, and returns a
:class:`Reason` when it blocks the deletion, else ``None``. Reasons carry the
rule id and its parameters; text is rendered separately (:func:`describe`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ._model import Lineage, Link, Version, VersionState
from ._policy import Policy

__all__ = ["RULES", "Facts", "Reason", "describe", "evaluate", "outlives", "reference_target"]


class Reason(NamedTuple):
    """One rule (or policy clause) that claimed a version, with its parameters."""

    rule: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def blocks(self) -> bool:
        """Safety rules block; ``policy:*`` reasons only explain the selection."""
        return not self.rule.startswith("policy:")

    def __str__(self) -> str:
        return describe(self)


def _reason(rule: str, **params: Any) -> Reason:
    return Reason(rule, tuple(sorted(params.items())))


class Facts(NamedTuple):
    """What the rules may look at for one version.

    A named tuple rather than a dataclass: the planner makes one per candidate,
    millions in a large project, and a tuple is the cheapest immutable record.
    """

    version: Version
    lineage: Lineage
    links: tuple[Link, ...]
    now: datetime
    removed_runs: frozenset[str] = frozenset()
    referrers: tuple[str, ...] = ()
    """Qualified names of surviving versions whose manifests reference this one (not removed with it)."""


Rule = Callable[[Facts, Policy], Reason | None]


def protected_alias(f: Facts, p: Policy) -> Reason | None:
    if not f.version.aliases and not f.links:
        return None
    held = sorted(f.version.aliases & p.protected_aliases)
    registry = sorted({a for link in f.links for a in link.protected_aliases})
    if not held and not registry:
        return None
    return _reason("protected-alias", aliases=tuple(held), registry_aliases=tuple(registry))


def has_aliases(f: Facts, p: Policy) -> Reason | None:
    if not f.version.aliases or p.waived("has-aliases"):
        return None
    return _reason("has-aliases", aliases=tuple(sorted(f.version.aliases)))


def consumed(f: Facts, p: Policy) -> Reason | None:
    if not f.lineage.consumers or p.waived("consumed"):
        return None
    users = tuple(sorted(r.path for r in f.lineage.consumers if r.path not in f.removed_runs))
    return _reason("consumed", runs=users) if users else None


def registry_linked(f: Facts, p: Policy) -> Reason | None:
    if not f.links or p.waived("registry-linked"):
        return None
    return _reason("registry-linked", links=tuple(sorted(link.name for link in f.links)))


def in_flight(f: Facts, p: Policy) -> Reason | None:
    if f.version.state is VersionState.PENDING:
        return _reason("in-flight", state="PENDING")
    producer = f.lineage.producer
    if producer is not None and producer.running:
        return _reason("in-flight", run=producer.path, run_state=producer.state)
    return None


def grace_period(f: Facts, p: Policy) -> Reason | None:
    if p.waived("grace-period"):
        return None
    age = f.now - f.version.created_at
    if age >= p.grace_period:
        return None
    return _reason(
        "grace-period", age_s=int(age.total_seconds()), grace_s=int(p.grace_period.total_seconds())
    )


def referenced(f: Facts, p: Policy) -> Reason | None:
    if not f.referrers or p.waived("referenced"):
        return None
    return referenced_reason(f.referrers)


def referenced_reason(referrers: tuple[str, ...]) -> Reason:
    """The ``referenced`` reason: the versions (qualified names) whose manifests point at this one."""
    return _reason("referenced", by=tuple(sorted(referrers)))


RULES: Mapping[str, Rule] = {
    "protected-alias": protected_alias,
    "has-aliases": has_aliases,
    "consumed": consumed,
    "registry-linked": registry_linked,
    "in-flight": in_flight,
    "grace-period": grace_period,
    "referenced": referenced,
}
"""Per-version rules. ``last-version`` looks at a whole collection; the planner applies it. The
planner finds ``referenced``'s referrers over the whole plan (a referrer deleted too does not count)."""


_RULE_ORDER: tuple[Rule, ...] = tuple(RULES.values())


def evaluate(facts: Facts, policy: Policy) -> tuple[Reason, ...]:
    """Every per-version rule that blocks deleting this version, in :data:`RULES` order."""
    found: list[Reason] = []
    for rule in _RULE_ORDER:
        reason = rule(facts, policy)
        if reason is not None:
            found.append(reason)
    return tuple(found)


def last_version(collection: str) -> Reason:
    return _reason("last-version", collection=collection)


def _micros(d: timedelta) -> int:
    # Exact integer arithmetic: timedelta sums overflow, floats round.
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def outlives(v: Version, now: datetime, horizon: timedelta) -> bool:
    """Whether ``v`` still stands at ``now + horizon``: a collection's survivor.

    A ``PENDING`` version may never commit, and a version whose TTL runs out by
    then will be gone: neither holds a ``keep_last`` slot's promise nor
    satisfies ``last-version``.
    """
    if v.state is not VersionState.COMMITTED:
        return False
    if v.ttl is None:
        return True
    return _micros(v.ttl) > _micros(now - v.created_at) + _micros(horizon)


_ARTIFACT_SCHEMES = ("wandb-artifact://", "wandb-client-artifact://")


def reference_target(ref: str | None) -> tuple[str, str] | None:
    """The artifact a manifest entry's reference points at: ``("id", artifact id)`` or
    ``("client", client id)``; None for any other reference (``s3://...``) or none.

    W&B writes ``wandb-artifact://<hex of the id's bytes>/<path>``; an id given
    as it is (base64) is accepted too. ``wandb-client-artifact://<client id>/<path>``
    names an artifact by its client id, before it is committed.
    """
    if ref is None:
        return None
    for scheme in _ARTIFACT_SCHEMES:
        if ref.startswith(scheme):
            netloc = ref[len(scheme) :].split("/", 1)[0]
            if not netloc:
                return None
            if scheme == "wandb-client-artifact://":
                return ("client", netloc)
            try:
                return ("id", base64.b64encode(bytes.fromhex(netloc)).decode())
            except ValueError:
                return ("id", netloc)
    return None


def _dur(seconds: int) -> str:
    """A duration in words, the one style of every report: "30 days", "1.5 hours", "1 second"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds / size
            text = f"{n:.0f}" if seconds % size == 0 else f"{n:.1f}"
            return f"{text} {unit}{'' if text == '1' else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


_TEMPLATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "protected-alias": lambda a: (
        "holds protected alias "
        + ", ".join([*a["aliases"], *(f"{x} (registry)" for x in a["registry_aliases"])])
    ),
    "has-aliases": lambda a: "holds aliases " + ", ".join(a["aliases"]),
    "consumed": lambda a: (
        f"used by {len(a['runs'])} run(s): "
        + ", ".join(a["runs"][:3])
        + (" ..." if len(a["runs"]) > 3 else "")
    ),
    "registry-linked": lambda a: "linked into the registry as " + ", ".join(a["links"]),
    "in-flight": lambda a: (
        "still uploading (PENDING)" if "state" in a else f"logged by run {a['run']}, still {a['run_state']}"
    ),
    "grace-period": lambda a: f"only {_dur(a['age_s'])} old (grace period {_dur(a['grace_s'])})",
    "last-version": lambda a: f"last surviving version of {a['collection']}",
    "referenced": lambda a: (
        f"referenced by {len(a['by'])} version(s): "
        + ", ".join(a["by"][:3])
        + (" ..." if len(a["by"]) > 3 else "")
    ),
    "policy:keep-last": lambda a: f"among the newest {a['n']}",
    "policy:keep-within": lambda a: f"logged within {_dur(a['within_s'])}",
    "policy:older-than": lambda a: f"not older than {_dur(a['older_than_s'])}",
    "policy:aliases": lambda a: f"policy considers only {a['selector']} versions",
    "policy:not-selected": lambda a: f"{a['by']} not selected by the policy",
    "policy:selected": lambda a: (
        "selected by the policy" + (f" (#{a['rank'] + 1} newest)" if "rank" in a else "")
    ),
}


def describe(reason: Reason) -> str:
    """A reason in words."""
    template = _TEMPLATES.get(reason.rule)
    if template is None:
        return f"{reason.rule} {reason.args}"
    return template(reason.args)
