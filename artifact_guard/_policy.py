"""Policy: which versions to propose for deletion, and what the safety rules allow.

A flat value object, restic-style: ``str(policy)`` says it in words.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import MISSING, dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Literal

from ._errors import PolicyError

__all__ = ["DEFAULT_PROTECTED_ALIASES", "RULE_IDS", "WAIVABLE_RULES", "Policy"]

DEFAULT_PROTECTED_ALIASES = frozenset({"production", "prod", "staging", "best"})

RULE_IDS = (
    "protected-alias",
    "has-aliases",
    "consumed",
    "registry-linked",
    "in-flight",
    "grace-period",
    "last-version",
    "referenced",
)
WAIVABLE_RULES = frozenset(RULE_IDS) - {"protected-alias", "in-flight"}
"""Rules a policy may switch off. Protected aliases and in-flight versions never are."""

_ALIAS_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_VERSION_ALIAS_RE = re.compile(r"^v\d+$")

AliasSelector = Literal["any", "unaliased", "aliased"]


def _duration_words(d: timedelta) -> str:
    secs = int(d.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs and secs % size == 0:
            n = secs // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{secs} seconds"


@dataclass(frozen=True, kw_only=True)
class Policy:
    """What to propose for deletion, and what the safety rules allow.

    Selection (a version is a candidate when every given criterion selects it):

    - ``types``: artifact types to consider (empty: all);
    - ``collections``: collection-name globs to consider (empty: all); ``exclude_collections``;
    - ``aliases``: ``"any"``, ``"unaliased"`` (only versions without aliases) or ``"aliased"``;
    - ``keep_last``: keep the newest N versions of each collection;
    - ``keep_within``: keep versions younger than this;
    - ``older_than``: only versions older than this are candidates.

    Safety (the rules of DESIGN.md; see :data:`RULE_IDS`):

    - ``protected_aliases``: aliases that block deletion (registry-protected aliases always do);
    - ``allow_delete_aliases``, ``allow_consumed``, ``allow_registry_linked``,
      ``allow_empty_collection``, ``allow_referenced``: waive has-aliases, consumed,
      registry-linked, last-version, referenced;
    - ``grace_period``: versions younger than this are never deleted (default 24 h);
    - ``waive``: rule ids to switch off by id (not protected-alias nor in-flight);
    - ``allow_empty``: accept a policy that keeps nothing.
    """

    types: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    exclude_collections: tuple[str, ...] = ()
    aliases: AliasSelector = "any"
    keep_last: int | None = None
    keep_within: timedelta | None = None
    older_than: timedelta | None = None
    protected_aliases: frozenset[str] = DEFAULT_PROTECTED_ALIASES
    allow_delete_aliases: bool = False
    allow_consumed: bool = False
    allow_registry_linked: bool = False
    allow_empty_collection: bool = False
    allow_referenced: bool = False
    grace_period: timedelta = timedelta(hours=24)
    waive: frozenset[str] = field(default_factory=frozenset)
    allow_empty: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable of strings but store immutable, validated values.
        for name in ("types", "collections", "exclude_collections"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise PolicyError(name, f"expected a list of strings, got the string {value!r}")
            items = tuple(value)
            for item in items:
                if not isinstance(item, str) or not item:
                    raise PolicyError(name, f"expected non-empty strings, got {item!r}")
            object.__setattr__(self, name, items)
        if self.aliases not in ("any", "unaliased", "aliased"):
            raise PolicyError("aliases", f"expected 'any', 'unaliased' or 'aliased', got {self.aliases!r}")
        if self.keep_last is not None and (
            isinstance(self.keep_last, bool) or not isinstance(self.keep_last, int) or self.keep_last < 0
        ):
            raise PolicyError("keep_last", f"expected a count >= 0, got {self.keep_last!r}")
        for name in ("keep_within", "older_than", "grace_period"):
            value = getattr(self, name)
            if value is None and name != "grace_period":
                continue
            if not isinstance(value, timedelta) or value < timedelta(0):
                raise PolicyError(name, f"expected a non-negative duration, got {value!r}")
        protected = self.protected_aliases
        if isinstance(protected, str):
            raise PolicyError(
                "protected_aliases", f"expected a list of aliases, got the string {protected!r}"
            )
        protected = frozenset(protected)
        for alias in protected:
            if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or _VERSION_ALIAS_RE.match(alias):
                raise PolicyError("protected_aliases", f"invalid alias {alias!r}")
        object.__setattr__(self, "protected_aliases", protected)
        waive = self.waive
        if isinstance(waive, str):
            raise PolicyError("waive", f"expected a list of rule ids, got the string {waive!r}")
        waive = frozenset(waive)
        for rule in waive:
            if rule not in RULE_IDS:
                raise PolicyError("waive", f"unknown rule id {rule!r}; known: {', '.join(RULE_IDS)}")
            if rule not in WAIVABLE_RULES:
                raise PolicyError("waive", f"rule {rule!r} cannot be waived")
        object.__setattr__(self, "waive", waive)
        for name in (
            "allow_delete_aliases",
            "allow_consumed",
            "allow_registry_linked",
            "allow_empty_collection",
            "allow_referenced",
            "allow_empty",
        ):
            if not isinstance(getattr(self, name), bool):
                raise PolicyError(name, f"expected true or false, got {getattr(self, name)!r}")

    # ------------------------------------------------------------------ queries

    @property
    def keeps_something(self) -> bool:
        """Whether the policy, before safety rules, keeps any version of a selected collection."""
        return (
            bool(self.keep_last) or bool(self.keep_within) or bool(self.older_than) or self.aliases != "any"
        )

    def waived(self, rule: str) -> bool:
        """Whether the policy switches a rule off."""
        return rule in self.waived_rules

    @cached_property
    def waived_rules(self) -> frozenset[str]:
        """Every rule id the policy switches off, by ``waive`` or by an ``allow_*`` flag.

        Computed once per policy: the planner asks for every version.
        """
        by_flag = {
            "has-aliases": self.allow_delete_aliases,
            "consumed": self.allow_consumed,
            "registry-linked": self.allow_registry_linked,
            "last-version": self.allow_empty_collection,
            "referenced": self.allow_referenced,
            "grace-period": self.grace_period == timedelta(0),
        }
        return self.waive | {rule for rule, waived in by_flag.items() if waived}

    def selects_collection(self, type_: str, collection: str) -> bool:
        """Whether versions of this collection are considered at all."""
        if self.types and type_ not in self.types:
            return False
        if self.collections and not any(fnmatch.fnmatchcase(collection, g) for g in self.collections):
            return False
        return not any(fnmatch.fnmatchcase(collection, g) for g in self.exclude_collections)

    def fingerprint(self) -> str:
        """A canonical text of every field, the same in every process.

        ``repr`` is not: it prints frozensets in hash order, which Python
        randomises per process, and plan ids must be reproducible.
        """
        parts = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, timedelta):
                value = value.total_seconds()
            parts.append(f"{name}={value!r}")
        return ";".join(parts)

    def changed_defaults(self) -> dict[str, object]:
        """Fields whose value differs from the default: what the plan says was changed."""
        default = Policy.__dataclass_fields__
        changed: dict[str, object] = {}
        for name, f in default.items():
            value = getattr(self, name)
            dflt = f.default if f.default_factory is MISSING else f.default_factory()
            if value != dflt:
                changed[name] = value
        return changed

    def scope_words(self) -> str:
        """Which versions the policy considers, in words (empty when it considers all)."""
        clauses = []
        if self.types:
            clauses.append(f"of type {', '.join(self.types)}")
        if self.collections:
            clauses.append(f"in collections matching {', '.join(self.collections)}")
        if self.exclude_collections:
            clauses.append(f"except collections matching {', '.join(self.exclude_collections)}")
        return " ".join(clauses)

    def __str__(self) -> str:
        parts: list[str] = []
        scope = self.scope_words()
        parts.append("consider versions " + (scope or "of every collection"))
        if self.aliases == "unaliased":
            parts.append("only versions without aliases")
        elif self.aliases == "aliased":
            parts.append("only versions with aliases")
        if self.keep_last is not None:
            parts.append(f"keep the newest {self.keep_last} of each collection")
        if self.keep_within is not None:
            parts.append(f"keep versions logged within {_duration_words(self.keep_within)}")
        if self.older_than is not None:
            parts.append(f"delete only versions older than {_duration_words(self.older_than)}")
        parts.append(f"never delete aliases {', '.join(sorted(self.protected_aliases)) or '(none)'}")
        parts.append(f"grace period {_duration_words(self.grace_period)}")
        allowed = [
            label
            for flag, label in (
                (self.allow_delete_aliases, "aliased versions"),
                (self.allow_consumed, "consumed versions"),
                (self.allow_registry_linked, "registry-linked versions"),
                (self.allow_empty_collection, "the last version of a collection"),
                (self.allow_referenced, "versions other versions reference"),
            )
            if flag
        ]
        if allowed:
            parts.append("may delete " + ", ".join(allowed))
        if self.waive:
            parts.append("waive rules " + ", ".join(sorted(self.waive)))
        return "; ".join(parts)
