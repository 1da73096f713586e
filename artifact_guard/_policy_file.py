"""Policy files: TOML a team reviews in a pull request, turned into a :class:`Policy`.

Two places hold a policy:

- ``artifact-guard.toml``: the keys at the top level;
- ``pyproject.toml``: the keys under ``[tool.artifact-guard]``.

The keys (kebab-case, as TOML tools spell them)::

    types = ["model"]                       # artifact types to consider (default: all)
    collections = ["resnet50-*"]            # collection-name globs to consider (default: all)
    exclude-collections = ["*-golden"]      # collection-name globs never considered
    keep-last = 5                           # keep the newest N of each collection
    keep-within = "30d"                     # keep versions logged within this duration
    keep-aliases = true                     # never propose a version that holds an alias
    delete-unaliased-older-than = "90d"     # shorthand: keep-aliases + older-than
    older-than = "90d"                      # only versions older than this are candidates
    aliases = "any"                         # or "unaliased" / "aliased": which versions are candidates
    protected-aliases = ["production", "prod", "staging", "best"]   # replaces the default list
    grace-period = "24h"                    # versions younger than this are never deleted
    allow-empty = false                     # accept a policy that keeps nothing

    [permissions]                           # waive safety rules (all false by default)
    delete-aliases = false                  # has-aliases
    delete-consumed = false                 # consumed
    delete-registry-linked = false          # registry-linked
    delete-last-version = false             # last-version
    delete-referenced = false               # referenced (another version's manifest points at it)
    waive-rules = []                        # rule ids, e.g. ["grace-period"]

Durations are strings of numbers with units ``w``, ``d``, ``h``, ``m``, ``s``:
``"30d"``, ``"1d12h"``, ``"90m"``, ``"0s"``.

Every error is a :class:`PolicyError` whose message is one line,
``"<file>: <key>: expected ..."``. :func:`policy_to_dict` and
:func:`policy_from_dict` convert a policy to and from the same mapping (JSON- and
TOML-ready), so a plan or journal can store the policy it was made with.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ._errors import PolicyError
from ._policy import DEFAULT_PROTECTED_ALIASES, RULE_IDS, WAIVABLE_RULES, Policy

__all__ = [
    "PolicyFileError",
    "discover_policy",
    "duration_words",
    "explain_policy",
    "format_duration",
    "load_policy",
    "parse_duration",
    "parse_policy_toml",
    "policy_from_dict",
    "policy_to_dict",
]

PYPROJECT_TABLE = ("tool", "artifact-guard")

# TOML key -> Policy field, for the keys that map one to one.
_TOP_KEYS: dict[str, str] = {
    "types": "types",
    "collections": "collections",
    "exclude-collections": "exclude_collections",
    "aliases": "aliases",
    "keep-last": "keep_last",
    "keep-within": "keep_within",
    "older-than": "older_than",
    "protected-aliases": "protected_aliases",
    "grace-period": "grace_period",
    "allow-empty": "allow_empty",
}
_SUGAR_KEYS = ("keep-aliases", "delete-unaliased-older-than")
_PERMISSION_KEYS: dict[str, str] = {
    "delete-aliases": "allow_delete_aliases",
    "delete-consumed": "allow_consumed",
    "delete-registry-linked": "allow_registry_linked",
    "delete-last-version": "allow_empty_collection",
    "delete-referenced": "allow_referenced",
    "waive-rules": "waive",
}
_ALL_TOP = (*_TOP_KEYS, *_SUGAR_KEYS, "permissions")
_FIELD_TO_KEY: dict[str, str] = {
    **{f: k for k, f in _TOP_KEYS.items()},
    **{f: f"permissions.{k}" for k, f in _PERMISSION_KEYS.items()},
}

# One strict grammar: ASCII digits (an optional fraction), each unit at most once, largest first,
# no spaces. "5d5d", "5 d", "1h1d" and non-ASCII digits are refused, never read some other way.
_DURATION_UNITS = "wdhms"
_DURATION = re.compile(
    "".join(rf"(?:(?P<{u}>[0-9]{{1,15}}(?:\.[0-9]{{1,6}})?){u})?" for u in _DURATION_UNITS)
)
_UNIT_US = {"w": 7 * 86_400_000_000, "d": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000}
_MAX_US = int(timedelta.max.total_seconds()) * 1_000_000


class PolicyFileError(PolicyError):
    """A policy file or mapping is invalid: ``"<source>: <key>: <what was expected>"``, one line."""

    def __init__(self, source: str, key: str, message: str) -> None:
        # PolicyError formats "policy field ..."; a file error names the file and key instead.
        Exception.__init__(self, f"{source}: {key}: {_one_line(message)}")
        self.field = key
        self.source = source
        self.key = key


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    for t, name in names.items():
        if type(value) is t:
            return f"{name} ({_short(value)})" if t in (bool, int, float, str) else name
    return type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------ durations


def parse_duration(text: object, *, source: str = "policy", key: str = "duration") -> timedelta:
    """Parse ``"30d"``, ``"1d12h"``, ``"90m"``, ``"1.5h"``, ``"0s"``; raises :class:`PolicyFileError`.

    The grammar is strict: ASCII digits, units ``w d h m s`` each at most once and
    in that order, no spaces.
    """
    expected = (
        "expected a duration such as '30d', '12h', '1d12h' or '0s' "
        "(units w, d, h, m, s, each once, largest first, no spaces)"
    )
    if not isinstance(text, str):
        raise PolicyFileError(source, key, f"{expected}, got {_type_name(text)}")
    m = _DURATION.fullmatch(text)
    if m is None or not text:
        raise PolicyFileError(source, key, f"{expected}, got {_short(text)}")
    total = Fraction(0)
    for unit in _DURATION_UNITS:
        amount = m.group(unit)
        if amount is not None:
            total += Fraction(amount) * _UNIT_US[unit]
    micros = math.floor(total)
    if micros > _MAX_US:
        raise PolicyFileError(source, key, f"duration {_short(text)} is too long")
    return timedelta(microseconds=micros)


def format_duration(d: timedelta) -> str:
    """The shortest duration string :func:`parse_duration` reads back to exactly ``d``."""
    if d < timedelta(0):
        raise PolicyError("duration", f"expected a non-negative duration, got {d!r}")
    micros = (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    if micros == 0:
        return "0s"
    parts: list[str] = []
    whole_seconds, us = divmod(micros, 1_000_000)
    rest = whole_seconds
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    if rest or us:
        parts.append(f"{rest}.{us:06d}".rstrip("0").rstrip(".") + "s")
    return "".join(parts)


# ------------------------------------------------------------------ mapping <-> Policy


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The policy as a plain mapping (JSON- and TOML-ready); :func:`policy_from_dict` reads it back.

    Every field is written, defaults included, so the mapping means the same
    thing if a default changes later. ``None`` fields are left out (TOML has no null).
    """
    out: dict[str, Any] = {
        "types": list(policy.types),
        "collections": list(policy.collections),
        "exclude-collections": list(policy.exclude_collections),
        "aliases": policy.aliases,
    }
    if policy.keep_last is not None:
        out["keep-last"] = policy.keep_last
    if policy.keep_within is not None:
        out["keep-within"] = format_duration(policy.keep_within)
    if policy.older_than is not None:
        out["older-than"] = format_duration(policy.older_than)
    out["protected-aliases"] = sorted(policy.protected_aliases)
    out["grace-period"] = format_duration(policy.grace_period)
    out["allow-empty"] = policy.allow_empty
    out["permissions"] = {
        "delete-aliases": policy.allow_delete_aliases,
        "delete-consumed": policy.allow_consumed,
        "delete-registry-linked": policy.allow_registry_linked,
        "delete-last-version": policy.allow_empty_collection,
        "delete-referenced": policy.allow_referenced,
        "waive-rules": sorted(policy.waive),
    }
    return out


def _unknown(source: str, key: object, known: tuple[str, ...], where: str) -> PolicyFileError:
    if not isinstance(key, str):
        return PolicyFileError(source, where or "(top level)", f"keys must be strings, got {_short(key)}")
    hint = difflib.get_close_matches(key.replace("_", "-"), known, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
    name = f"{where}.{key}" if where else key
    return PolicyFileError(source, name, f"unknown key{suggestion}")


def _string_list(source: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyFileError(source, key, f"expected an array of strings, got {_type_name(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise PolicyFileError(source, key, f"expected non-empty strings, got {_type_name(item)}")
    return tuple(value)


def _boolean(source: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PolicyFileError(source, key, f"expected true or false, got {_type_name(value)}")
    return value


def policy_from_dict(mapping: object, *, source: str = "policy") -> Policy:
    """Build a :class:`Policy` from the mapping a policy file holds (or :func:`policy_to_dict` made).

    Raises :class:`PolicyFileError` (a :class:`PolicyError`) naming ``source``
    and the key for unknown keys, wrong types, invalid values and contradicting
    keys; never anything else.
    """
    if not isinstance(mapping, Mapping):
        raise PolicyFileError(
            source, "(top level)", f"expected a table of policy keys, got {_type_name(mapping)}"
        )
    for key in mapping:
        if key not in _ALL_TOP:
            raise _unknown(source, key, _ALL_TOP, "")
    kwargs: dict[str, Any] = {}
    for key, value in mapping.items():
        if key in _SUGAR_KEYS or key == "permissions":
            continue
        name = _TOP_KEYS[key]
        if name in ("types", "collections", "exclude_collections", "protected_aliases"):
            kwargs[name] = _string_list(source, key, value)
        elif name == "aliases":
            if value not in ("any", "unaliased", "aliased") or not isinstance(value, str):
                raise PolicyFileError(
                    source, key, f"expected 'any', 'unaliased' or 'aliased', got {_type_name(value)}"
                )
            kwargs[name] = value
        elif name == "keep_last":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PolicyFileError(source, key, f"expected an integer >= 0, got {_type_name(value)}")
            kwargs[name] = value
        elif name in ("keep_within", "older_than", "grace_period"):
            kwargs[name] = parse_duration(value, source=source, key=key)
        else:
            kwargs[name] = _boolean(source, key, value)

    permissions = mapping.get("permissions", {})
    if not isinstance(permissions, Mapping):
        raise PolicyFileError(source, "permissions", f"expected a table, got {_type_name(permissions)}")
    for key, value in permissions.items():
        if key not in _PERMISSION_KEYS:
            raise _unknown(source, key, tuple(_PERMISSION_KEYS), "permissions")
        name = _PERMISSION_KEYS[key]
        if name == "waive":
            rules = _string_list(source, f"permissions.{key}", value)
            for rule in rules:
                if rule not in RULE_IDS:
                    raise PolicyFileError(
                        source,
                        f"permissions.{key}",
                        f"unknown rule id {_short(rule)}; known: {', '.join(RULE_IDS)}",
                    )
                if rule not in WAIVABLE_RULES:
                    raise PolicyFileError(source, f"permissions.{key}", f"rule {rule!r} can never be waived")
            kwargs[name] = frozenset(rules)
        else:
            kwargs[name] = _boolean(source, f"permissions.{key}", value)

    _apply_sugar(source, mapping, kwargs)
    try:
        return Policy(**kwargs)
    except PolicyError as exc:
        key = _FIELD_TO_KEY.get(exc.field, exc.field)
        message = str(exc).split(": ", 1)[-1]
        raise PolicyFileError(source, key, message) from None


def _apply_sugar(source: str, mapping: Mapping[str, object], kwargs: dict[str, Any]) -> None:
    """``keep-aliases`` and ``delete-unaliased-older-than``: shorthands that must agree with the rest."""
    keep_aliases = mapping.get("keep-aliases")
    if keep_aliases is not None:
        keep = _boolean(source, "keep-aliases", keep_aliases)
        if keep:
            if kwargs.get("aliases", "unaliased") != "unaliased":
                raise PolicyFileError(
                    source,
                    "keep-aliases",
                    f"conflicts with aliases = {kwargs['aliases']!r}: keep-aliases = true means "
                    "aliases = 'unaliased'",
                )
            kwargs["aliases"] = "unaliased"
    if "delete-unaliased-older-than" in mapping:
        key = "delete-unaliased-older-than"
        age = parse_duration(mapping[key], source=source, key=key)
        if kwargs.get("aliases", "unaliased") != "unaliased":
            raise PolicyFileError(
                source,
                key,
                f"conflicts with aliases = {kwargs['aliases']!r}: it deletes only unaliased versions",
            )
        if keep_aliases is False:
            raise PolicyFileError(
                source, key, "conflicts with keep-aliases = false: it keeps every aliased version"
            )
        if kwargs.get("older_than", age) != age:
            raise PolicyFileError(
                source,
                key,
                f"conflicts with older-than = {mapping['older-than']!r}: give only one of the two",
            )
        kwargs["aliases"] = "unaliased"
        kwargs["older_than"] = age


def _check_conflicts(source: str, policy: Policy, mapping: Mapping[str, object]) -> None:
    """Contradictions a hand-written file may contain that a Policy value can still hold."""
    for glob in policy.collections:
        if glob in policy.exclude_collections:
            raise PolicyFileError(
                source, "exclude-collections", f"{glob!r} is also listed in collections: it cannot be both"
            )
    if policy.aliases == "aliased" and not policy.waived("has-aliases"):
        raise PolicyFileError(
            source,
            "aliases",
            "'aliased' selects only versions that hold aliases, but permissions.delete-aliases is false, "
            "so the has-aliases rule would block every one; set permissions.delete-aliases = true",
        )
    if policy.types and len(set(policy.types)) != len(policy.types):
        raise PolicyFileError(source, "types", "lists a type twice")
    permissions = mapping.get("permissions")
    if (
        isinstance(permissions, Mapping)
        and permissions.get("delete-aliases") is False
        and ("has-aliases" in policy.waive)
    ):
        raise PolicyFileError(
            source, "permissions.waive-rules", "waives has-aliases but permissions.delete-aliases = false"
        )


# ------------------------------------------------------------------ files


def parse_policy_toml(text: str, *, source: str = "policy.toml", pyproject: bool = False) -> Policy:
    """Parse policy TOML text. With ``pyproject``, the keys live under ``[tool.artifact-guard]``."""
    try:
        document: Mapping[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(source, "(syntax)", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise PolicyFileError(source, "(syntax)", "invalid TOML: nested too deeply") from None
    if pyproject:
        table: object = document
        for part in PYPROJECT_TABLE:
            if not isinstance(table, Mapping) or part not in table:
                raise PolicyFileError(
                    source, "tool.artifact-guard", "no [tool.artifact-guard] table in this file"
                )
            table = table[part]
        if not isinstance(table, Mapping):
            raise PolicyFileError(source, "tool.artifact-guard", f"expected a table, got {_type_name(table)}")
        document = table
    policy = policy_from_dict(document, source=source)
    _check_conflicts(source, policy, document)
    return policy


MAX_POLICY_BYTES = 1024 * 1024
"""A policy file is a few hundred bytes; anything past 1 MiB is not one."""


def load_policy(path: str | Path) -> Policy:
    """Read a policy file: ``pyproject.toml`` (``[tool.artifact-guard]``) or any other TOML file.

    A directory means its ``artifact-guard.toml``, else its ``pyproject.toml``.
    Unreadable files raise :class:`PolicyFileError` too: callers handle one error type.
    """
    p = Path(path)
    if p.is_dir():
        candidates = [p / "artifact-guard.toml", p / "pyproject.toml"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise PolicyFileError(
                str(p), "(file)", "no artifact-guard.toml or pyproject.toml in this directory"
            )
        p = found
    try:
        # Bounded: /dev/zero or a multi-gigabyte file given by mistake is refused, never read whole.
        with p.open("rb") as fh:
            raw = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyFileError(str(p), "(file)", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyFileError(
            str(p), "(file)", f"larger than {MAX_POLICY_BYTES // 1024} KiB: not a policy file"
        )
    try:
        text = raw.decode("utf-8-sig")  # a BOM (Windows editors write one) is not part of the TOML
    except UnicodeDecodeError:
        raise PolicyFileError(str(p), "(file)", "not UTF-8 text: TOML files must be UTF-8") from None
    return parse_policy_toml(text, source=str(p), pyproject=p.name == "pyproject.toml")


# ------------------------------------------------------------------ words


def duration_words(d: timedelta) -> str:
    """A duration in words, the style of every report: ``"30 days"``, ``"1 day 12 hours"``."""
    return _words(d)


def _words(d: timedelta) -> str:
    text = format_duration(d)
    units = {"w": "week", "d": "day", "h": "hour", "m": "minute", "s": "second"}
    pieces = []
    for number, unit in re.findall(r"([\d.]+)([wdhms])", text):
        plural = "" if number == "1" else "s"
        pieces.append(f"{number} {units[unit]}{plural}")
    return " ".join(pieces)


def explain_policy(policy: Policy) -> list[str]:
    """The policy in words, one sentence per line: what ``artifact-guard policy explain`` prints."""
    lines: list[str] = []
    lines.append("Considers versions " + (policy.scope_words() or "of every collection and type") + ".")
    keeps = []
    if policy.keep_last is not None:
        keeps.append(f"the newest {policy.keep_last} of each collection")
    if policy.keep_within is not None:
        keeps.append(f"every version logged within the last {_words(policy.keep_within)}")
    if policy.older_than is not None:
        keeps.append(f"every version not older than {_words(policy.older_than)}")
    if policy.aliases == "unaliased":
        keeps.append("every version that holds an alias")
    elif policy.aliases == "aliased":
        keeps.append("every version without an alias")
    if keeps:
        lines.append("Keeps " + "; ".join(keeps) + ".")
        lines.append("Proposes every other considered version for deletion, unless a safety rule blocks it.")
    elif policy.allow_empty:
        lines.append("Keeps nothing by policy (allow-empty = true): every considered version is proposed.")
    else:
        lines.append("Keeps nothing by policy: planning will refuse it (set allow-empty = true to mean it).")
    protected = ", ".join(sorted(policy.protected_aliases)) or "(none)"
    default = " (the default list)" if policy.protected_aliases == DEFAULT_PROTECTED_ALIASES else ""
    lines.append(
        f"Never deletes a version holding a protected alias: {protected}{default}, "
        "or a registry-protected one."
    )
    lines.append("Never deletes a version still uploading, or logged by a run still running.")
    rule_words = {
        "has-aliases": "a version holding any alias",
        "consumed": "a version used by another run",
        "registry-linked": "a version linked into the registry",
        "last-version": "the last surviving version of a collection",
        "referenced": "a version another version's manifest references",
    }
    for rule, words in rule_words.items():
        verb = "May delete" if policy.waived(rule) else "Never deletes"
        lines.append(f"{verb} {words} ({rule}).")
    if policy.waived("grace-period"):
        lines.append("No grace period: even versions logged moments ago may be deleted.")
    else:
        lines.append(f"Never deletes a version younger than {_words(policy.grace_period)} (grace-period).")
    changed = policy.changed_defaults()
    if changed:
        lines.append(
            "Changed from the defaults: " + ", ".join(_FIELD_TO_KEY.get(k, k) for k in sorted(changed)) + "."
        )
    return lines


# ------------------------------------------------------------------ discovery

POLICY_FILE_NAME = "artifact-guard.toml"


def _has_tool_table(pyproject: Path) -> bool:
    """Whether ``pyproject`` holds ``[tool.artifact-guard]``.

    A file that does not parse but mentions the table counts: loading it then
    says what is wrong, rather than a policy further up being used in silence.
    """
    try:
        raw = pyproject.read_bytes()
    except OSError:
        return False
    try:
        document = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return b"tool.artifact-guard" in raw
    tool = document.get("tool")
    return isinstance(tool, Mapping) and PYPROJECT_TABLE[1] in tool


def discover_policy(start: str | Path | None = None) -> Path | None:
    """The policy file for ``start`` (default: the working directory), found as ruff and pytest find theirs.

    From ``start`` up to the filesystem root, the first directory that holds
    ``artifact-guard.toml``, or a ``pyproject.toml`` with a ``[tool.artifact-guard]``
    table, wins; within one directory ``artifact-guard.toml`` comes first. A
    ``pyproject.toml`` without the table is passed over (it belongs to the
    Python project, not to us). Returns None when no directory has one.
    """
    here = Path(start if start is not None else Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / POLICY_FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None
