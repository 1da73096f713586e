"""Plan files: a plan as versioned JSON, written for review and read back to apply.

The schema is documented in ``docs/plan-schema.md``. In short::

    {
      "format": "artifact-guard-plan",
      "format_version": 1,
      "id": "<plan id>",
      "scope": "entity/project",
      "created_at": "2026-11-27T12:00:00+00:00",
      "dedupe": "collection",
      "policy": { ...policy_to_dict()... },
      "reclaimable_bytes": 123,
      "summary": {"versions": 10, "delete": 4, "keep": 6, "blocked": 1},
      "collections": [{"name": "...", "type": "model", "kept": 6, "deleted": 4, "blocked": 1,
                       "reclaimable_bytes": 123}],
      "decisions": [{"id": "...", "collection": "...", "type": "model", "index": 3,
                     "created_at": "...", "state": "COMMITTED", "aliases": [], "size": 10,
                     "ttl_seconds": null, "producer": "entity/project/run" | null, "digest": "...",
                     "action": "delete" | "keep", "blocked": false,
                     "reasons": [{"rule": "policy:selected", "params": {"rank": 3}, "blocks": false,
                                  "text": "selected by the policy (#4 newest)"}]}],
      "checksum": "sha256:<hex>"
    }

``checksum`` covers every other key: reading refuses a file whose content was
edited after it was written, because a plan is what a person reviewed and
approved. Reading is strict in the same way for everything else: a newer
format version, unknown or missing keys, wrong types, and inconsistencies (a
deletion a safety rule blocks, totals that do not add up, a version listed
twice, a version of another scope) each raise :class:`PlanError` naming the
problem.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ._errors import NotFoundError, PlanError, PolicyError
from ._json_file import LineReader, read_bounded, version_fields, write_lines
from ._model import CollectionRef, Scope, Version, VersionState
from ._planner import Action, CollectionSummary, Decision, Plan, PlanDedupe
from ._policy import Policy
from ._policy_file import policy_from_dict, policy_to_dict
from ._review import reason_text
from ._rules import Reason

__all__ = [
    "PLAN_FORMAT",
    "PLAN_FORMAT_VERSION",
    "dump_plan",
    "load_plan",
    "plan_from_json",
    "plan_to_json",
]

PLAN_FORMAT = "artifact-guard-plan"
PLAN_FORMAT_VERSION = 1

_TOP = (
    "format",
    "format_version",
    "id",
    "scope",
    "created_at",
    "dedupe",
    "policy",
    "reclaimable_bytes",
    "summary",
    "collections",
    "decisions",
    "checksum",
)
_DECISION = (
    "id",
    "name",
    "collection",
    "type",
    "index",
    "created_at",
    "state",
    "aliases",
    "size",
    "ttl_seconds",
    "producer",
    "digest",
    "action",
    "blocked",
    "reasons",
)
_HEAD = tuple(k for k in _TOP if k not in ("decisions", "checksum"))
_COLLECTION = ("name", "type", "kept", "deleted", "blocked", "reclaimable_bytes")
_SUMMARY = ("versions", "delete", "keep", "blocked")
_REASON = ("rule", "params", "blocks", "text")
_DECISION_UNNAMED = tuple(k for k in _DECISION if k != "name")
"""Decisions of plan files written before ``name`` was added (still format version 1)."""
_KEYSETS: dict[tuple[str, ...], frozenset[str]] = {
    keys: frozenset(keys)
    for keys in (_TOP, _HEAD, _DECISION, _DECISION_UNNAMED, _COLLECTION, _SUMMARY, _REASON)
}
_MAX_SECONDS = timedelta.max.total_seconds() - 86_400  # what a timedelta can hold, with room to spare
MAX_PLAN_BYTES = 4 << 30
"""Plan files larger than this (4 GiB; a 2-million-version plan is about 1.5 GiB) are refused unread."""
DELETE_REASONS = frozenset({"policy:selected", "policy:included"})
"""The only reasons a deletion may carry: selected by the policy, or included by a reviewer."""


# ------------------------------------------------------------------ writing


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [_jsonable(v) for v in items]
    return value


def _reason_json(r: Reason) -> dict[str, Any]:
    return {
        "rule": r.rule,
        "params": {k: _jsonable(v) for k, v in r.params},
        "blocks": r.blocks,
        "text": reason_text(r),
    }


def _decision_json(d: Decision) -> dict[str, Any]:
    v = d.version
    return {
        "id": v.id,
        "name": v.name,
        **version_fields(v),
        "action": d.action.value,
        "blocked": d.blocked,
        "reasons": [_reason_json(r) for r in d.reasons],
    }


def _checksum(body: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _has_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) is list:
        return any(map(_has_float, value))
    if type(value) is dict:
        return any(map(_has_float, value.values()))
    return False


def _canonical_bytes(value: Any) -> bytes:
    """``_canonical(value)`` as UTF-8, by orjson (~5x faster) where its text is the same: it sorts
    keys and escapes strings alike, and refuses what it cannot write alike (integers beyond 64 bits,
    invalid strings); only floats are written differently (``1e16`` for Python's ``1e+16``)."""
    if not _has_float(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    return _canonical(value).encode()


def _header_json(plan: Plan) -> dict[str, Any]:
    """Every top-level key but ``decisions`` and ``checksum``, in the documented order."""
    deleted = sum(c.deleted for c in plan.collections)
    return {
        "format": PLAN_FORMAT,
        "format_version": PLAN_FORMAT_VERSION,
        "id": plan.id,
        "scope": str(plan.scope),
        "created_at": plan.created_at.isoformat(),
        "dedupe": plan.dedupe,
        "policy": policy_to_dict(plan.policy),
        "reclaimable_bytes": plan.reclaimable_bytes,
        "summary": {
            "versions": len(plan.decisions),
            "delete": deleted,
            "keep": len(plan.decisions) - deleted,
            "blocked": sum(c.blocked for c in plan.collections),
        },
        "collections": [
            {
                "name": c.collection.name,
                "type": c.type,
                "kept": c.kept,
                "deleted": c.deleted,
                "blocked": c.blocked,
                "reclaimable_bytes": c.reclaimable_bytes,
            }
            for c in plan.collections
        ],
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as the JSON document of ``docs/plan-schema.md`` (checksum included)."""
    body = _header_json(plan)
    body["decisions"] = [_decision_json(d) for d in plan.decisions]
    body["checksum"] = _checksum(body)
    return body


class _Checksum:
    """The checksum of the canonical body, fed in pieces: header keys before ``decisions``
    (in sorted order), the decisions one by one, then the keys after it."""

    def __init__(self, header: Mapping[str, Any]) -> None:
        keys = sorted(header)
        self._after = "".join(f",{_canonical(k)}:{_canonical(header[k])}" for k in keys if k > "decisions")
        before = ",".join(f"{_canonical(k)}:{_canonical(header[k])}" for k in keys if k < "decisions")
        self._hash = hashlib.sha256(("{" + before + ("," if before else "") + '"decisions":[').encode())
        self._first = True

    def decision(self, canonical: bytes) -> None:
        if not self._first:
            self._hash.update(b",")
        self._first = False
        self._hash.update(canonical)

    def hexdigest(self) -> str:
        self._hash.update(("]" + self._after + "}").encode())
        return "sha256:" + self._hash.hexdigest()


def dump_plan(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Write the plan to ``path`` as JSON, streaming, one decision per line (see ``docs/plan-schema.md``).

    Nothing but one decision at a time is held besides the plan: a plan of
    millions of versions is written in bounded extra memory. The file goes to a
    temporary name first, then is renamed into place.
    """
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    header = _header_json(plan)
    check = _Checksum(header)

    def lines() -> Iterator[bytes]:
        for d in plan.decisions:
            line = _canonical_bytes(_decision_json(d))
            check.decision(line)
            yield line

    try:
        with tmp.open("wb", buffering=1 << 20) as f:
            write_lines(f, header, "decisions", lines(), lambda: {"checksum": check.hexdigest()})
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlanError(f"cannot write plan file {str(p)!r}: {exc.strerror or exc}") from None
    return p


# ------------------------------------------------------------------ reading


class _Reader:
    """Typed access to decoded JSON that raises PlanError naming the place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> PlanError:
        return PlanError(f"{self.source}: {where}: {message}")

    def keys(self, obj: object, where: str, expected: tuple[str, ...]) -> Mapping[str, Any]:
        if type(obj) is dict and obj.keys() == _KEYSETS[expected]:
            return obj  # the common case, checked in one comparison
        if not isinstance(obj, Mapping):
            raise self.fail(where, f"expected an object, got {type(obj).__name__}")
        unknown = [k for k in obj if k not in expected]
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r}")
        missing = [k for k in expected if k not in obj]
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")
        return obj

    def str_(self, obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = obj[key]
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected a string, got {_kind(value)}")
        return value

    def int_(self, obj: Mapping[str, Any], key: str, where: str, *, total: bool = False) -> int:
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(f"{where}.{key}", f"expected an integer >= 0, got {_kind(value)}")
        # One value is at most Int64, like W&B's sizes; a total of many may be larger (the sums are checked).
        if not total and value > 2**63 - 1:
            raise self.fail(f"{where}.{key}", f"expected an integer >= 0 and < 2**63, got {_kind(value)}")
        return value

    def time(self, obj: Mapping[str, Any], key: str, where: str) -> datetime:
        text = self.str_(obj, key, where)
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{where}.{key}", f"expected an ISO-8601 time, got {text!r}") from None
        if t.tzinfo is None:
            raise self.fail(f"{where}.{key}", "expected a time with a UTC offset")
        return t

    def list_(self, obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = obj[key]
        if not isinstance(value, list):
            raise self.fail(f"{where}.{key}", f"expected an array, got {_kind(value)}")
        return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def _read_reason(rd: _Reader, obj: object, where: str) -> Reason:
    m = rd.keys(obj, where, _REASON)
    rule = rd.str_(m, "rule", where)
    params = m["params"]
    if not isinstance(params, Mapping):
        raise rd.fail(f"{where}.params", f"expected an object, got {_kind(params)}")
    reason = Reason(rule, tuple(sorted((str(k), _tuplify(v)) for k, v in params.items())))
    if m["blocks"] is not reason.blocks:
        raise rd.fail(f"{where}.blocks", f"says {m['blocks']!r}, but rule {rule!r} blocks={reason.blocks}")
    return reason


_STATES = {"COMMITTED": VersionState.COMMITTED, "PENDING": VersionState.PENDING}
_ACTIONS = {"delete": Action.DELETE, "keep": Action.KEEP}
_INT64 = 2**63 - 1
_DECISION_KEYS = frozenset(_DECISION)
_REASON_KEYS = frozenset(_REASON)


_HUGE = float(2**64)


def _exact(value: Any) -> bool:
    """Whether a fast decoder's value is what the standard library's would be: orjson reads an
    integer beyond 64 bits as a float (the standard library keeps it an int)."""
    if type(value) is float:
        return abs(value) < _HUGE
    if type(value) is list:
        return all(map(_exact, value))
    if type(value) is dict:
        return all(map(_exact, value.values()))
    return True


def _quick_reasons(action: Action, reasons_in: list[Any]) -> tuple[tuple[Reason, ...], bool] | None:
    """A well-formed decision's reasons and whether they block, or None ("look closer")."""
    if not reasons_in:
        return None
    reasons = []
    for r in reasons_in:
        if type(r) is not dict or r.keys() != _REASON_KEYS:
            return None
        rule, params = r["rule"], r["params"]
        if type(rule) is not str or type(params) is not dict or not _exact(params):
            return None
        reason = Reason(rule, tuple(sorted((k, _tuplify(v)) for k, v in params.items())))
        if r["blocks"] is not reason.blocks:
            return None
        reasons.append(reason)
    out = tuple(reasons)
    if action is Action.DELETE:
        if any(r.blocks or r.rule not in DELETE_REASONS for r in out):
            return None
    elif all(r.rule == "policy:selected" for r in out):
        return None
    return out, action is Action.KEEP and any(r.blocks for r in out)


class _Quick:
    """Reads the common case in few steps: a well-formed decision of a plan this tool wrote.

    :meth:`decision` returns None to mean "look closer": :func:`_read_decision`
    then names what is wrong. Repeated strings (collection, type, producer)
    are shared, not held once per version, and so are identical reason lists:
    a plan of a million versions has a few hundred distinct ones, validated
    once each (keyed by their exact JSON text, so only equal values share).
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.shared: dict[str, str] = {}
        self._reasons: dict[tuple[Action, bytes], tuple[tuple[Reason, ...], bool] | None] = {}

    def decision(self, obj: Any, *, fast: bool = False) -> Decision | None:
        """``fast``: ``obj`` came from orjson, whose values re-encode one way only (the standard
        library's can hold NaN, which orjson would encode as null), so its reasons may be shared."""
        if type(obj) is not dict or obj.keys() != _DECISION_KEYS:
            return None
        vid, coll, typ, digest, created = (
            obj["id"],
            obj["collection"],
            obj["type"],
            obj["digest"],
            obj["created_at"],
        )
        index, size, ttl, producer = obj["index"], obj["size"], obj["ttl_seconds"], obj["producer"]
        aliases, reasons_in = obj["aliases"], obj["reasons"]
        st, act = obj["state"], obj["action"]
        state = _STATES.get(st) if type(st) is str else None
        action = _ACTIONS.get(act) if type(act) is str else None
        if (
            state is None
            or action is None
            or ttl is not None
            or type(vid) is not str
            or type(coll) is not str
            or type(typ) is not str
            or type(digest) is not str
            or type(created) is not str
            or type(index) is not int
            or type(size) is not int
            or not (0 <= index <= _INT64 and 0 <= size <= _INT64)
            or (producer is not None and type(producer) is not str)
            or type(aliases) is not list
            or type(reasons_in) is not list
        ):
            return None
        if any(type(a) is not str for a in aliases):
            return None
        if fast:
            key = (action, orjson.dumps(reasons_in))
            try:
                judged = self._reasons[key]
            except KeyError:
                judged = self._reasons[key] = _quick_reasons(action, reasons_in)
        else:
            judged = _quick_reasons(action, reasons_in)
        if judged is None or obj["blocked"] is not judged[1]:
            return None
        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            return None
        if when.tzinfo is None:
            return None
        shared = self.shared
        coll = shared.setdefault(coll, coll)
        version = Version(
            id=vid,
            entity=self.scope.entity,
            project=self.scope.project,
            collection=coll,
            type=shared.setdefault(typ, typ),
            index=index,
            created_at=when,
            state=state,
            aliases=frozenset(aliases),
            size=size,
            ttl=None,
            producer=None if producer is None else shared.setdefault(producer, producer),
            digest=digest,
        )
        if obj["name"] != version.name:
            return None  # the slow path names the mismatch
        return Decision(version, action, judged[0])


def _read_decision(rd: _Reader, obj: object, where: str, scope: Scope) -> Decision:
    """One decision, checked key by key: :class:`PlanError` names the first thing wrong."""
    m = rd.keys(obj, where, _DECISION if isinstance(obj, Mapping) and "name" in obj else _DECISION_UNNAMED)
    try:
        state = VersionState(m["state"])
    except ValueError:
        raise rd.fail(f"{where}.state", f"expected PENDING or COMMITTED, got {_kind(m['state'])}") from None
    if state is VersionState.DELETED:
        raise rd.fail(f"{where}.state", "a plan lists surviving versions only, not DELETED ones")
    aliases = rd.list_(m, "aliases", where)
    if not all(isinstance(a, str) for a in aliases):
        raise rd.fail(f"{where}.aliases", "expected an array of strings")
    ttl = m["ttl_seconds"]
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 <= ttl <= _MAX_SECONDS
    ):
        raise rd.fail(f"{where}.ttl_seconds", f"expected null or seconds >= 0, got {_kind(ttl)}")
    version = Version(
        id=rd.str_(m, "id", where),
        entity=scope.entity,
        project=scope.project,
        collection=rd.str_(m, "collection", where),
        type=rd.str_(m, "type", where),
        index=rd.int_(m, "index", where),
        created_at=rd.time(m, "created_at", where),
        state=state,
        aliases=frozenset(aliases),
        size=rd.int_(m, "size", where),
        ttl=timedelta(seconds=ttl) if ttl is not None else None,
        producer=rd.str_(m, "producer", where, optional=True),
        digest=rd.str_(m, "digest", where),
    )
    if "name" in m and rd.str_(m, "name", where) != version.name:
        raise rd.fail(f"{where}.name", f"says {m['name']!r}, but collection and index say {version.name!r}")
    try:
        action = Action(m["action"])
    except ValueError:
        raise rd.fail(f"{where}.action", f"expected 'delete' or 'keep', got {_kind(m['action'])}") from None
    reasons = tuple(
        _read_reason(rd, r, f"{where}.reasons[{i}]") for i, r in enumerate(rd.list_(m, "reasons", where))
    )
    decision = Decision(version, action, reasons)
    label = f"{where} ({version.name})"
    if not reasons:
        raise rd.fail(label, "a decision without reasons: every decision says why")
    if action is Action.DELETE:
        blocking = [r.rule for r in reasons if r.blocks]
        if blocking:
            raise rd.fail(label, f"marked delete, but safety rule {blocking[0]!r} blocks it")
        if any(r.rule not in DELETE_REASONS for r in reasons):
            raise rd.fail(label, "marked delete, but a policy clause keeps it")
    elif reasons == tuple(r for r in reasons if r.rule == "policy:selected"):
        raise rd.fail(label, "marked keep, but no rule or policy clause keeps it")
    if m["blocked"] is not decision.blocked:
        raise rd.fail(f"{where}.blocked", f"says {m['blocked']!r}, but its reasons say {decision.blocked}")
    return decision


def plan_from_json(data: object, *, source: str = "plan") -> Plan:
    """Rebuild a :class:`Plan` from :func:`plan_to_json`'s document; :class:`PlanError` names any problem."""
    rd = _Reader(source)
    m = _read_top(rd, data)
    head = _read_head(rd, m)
    quick = _Quick(head.scope)
    decisions = tuple(
        quick.decision(d) or _read_decision(rd, d, f"decisions[{i}]", head.scope)
        for i, d in enumerate(rd.list_(m, "decisions", "plan"))
    )
    body = {k: v for k, v in m.items() if k != "checksum"}
    return _complete(rd, m, head, decisions, _checksum(body))


@dataclass(frozen=True)
class _Head:
    scope: Scope
    created_at: datetime
    dedupe: PlanDedupe
    policy: Policy


def _read_top(rd: _Reader, data: object, *, keys: tuple[str, ...] = _TOP) -> Mapping[str, Any]:
    """The top-level object: format, version, and exactly the documented keys."""
    if not isinstance(data, Mapping):
        raise rd.fail("(top level)", f"expected a plan object, got {_kind(data)}")
    if data.get("format") != PLAN_FORMAT:
        raise rd.fail("format", f"not an artifact-guard plan file (format {data.get('format')!r})")
    fv = data.get("format_version")
    if isinstance(fv, bool) or not isinstance(fv, int):
        raise rd.fail("format_version", f"expected an integer, got {_kind(fv)}")
    if fv > PLAN_FORMAT_VERSION:
        raise rd.fail(
            "format_version",
            f"written by a newer artifact-guard (format {fv}; this version reads up to "
            f"{PLAN_FORMAT_VERSION}): upgrade artifact-guard",
        )
    if fv < 1:
        raise rd.fail("format_version", f"unknown format version {fv}")
    return rd.keys(data, "(top level)", keys)


def _read_head(rd: _Reader, m: Mapping[str, Any]) -> _Head:
    try:
        scope = Scope.parse(rd.str_(m, "scope", "plan"))
    except NotFoundError as exc:  # Scope.parse's error for a malformed path
        raise rd.fail("scope", str(exc)) from None
    created_at = rd.time(m, "created_at", "plan")
    dedupe = m["dedupe"]
    if dedupe not in ("collection", "project", "entity"):
        raise rd.fail("dedupe", f"expected 'collection', 'project' or 'entity', got {_kind(dedupe)}")
    try:
        policy = policy_from_dict(m["policy"], source=f"{rd.source}: policy")
    except PolicyError as exc:
        # One line, whatever a hand-edited key holds (a key may contain a newline).
        raise PlanError(str(exc).replace("\r", "\\r").replace("\n", "\\n")) from None
    return _Head(scope, created_at, dedupe, policy)


def _complete(
    rd: _Reader, m: Mapping[str, Any], head: _Head, decisions: tuple[Decision, ...], actual_checksum: str
) -> Plan:
    """The checks that need every decision, then the plan."""
    tallies = _tally(rd, decisions)
    collections = _read_collections(rd, m, tallies, head.scope)
    reclaimable = rd.int_(m, "reclaimable_bytes", "plan", total=True)
    if reclaimable != sum(c.reclaimable_bytes for c in collections):
        raise rd.fail("reclaimable_bytes", "does not equal the sum of the collections' reclaimable_bytes")
    _check_summary(rd, m, len(decisions), tallies)
    plan_id = rd.str_(m, "id", "plan")
    checksum = rd.str_(m, "checksum", "plan")
    if actual_checksum != checksum:
        raise rd.fail(
            "checksum",
            "the file was changed after it was written (checksum mismatch); make a new plan with "
            "`artifact-guard plan` (or `plan --interactive` to exclude versions) instead of editing it",
        )
    return Plan(
        scope=head.scope,
        policy=head.policy,
        created_at=head.created_at,
        dedupe=head.dedupe,
        decisions=decisions,
        reclaimable_bytes=reclaimable,
        collections=collections,
        id=plan_id,
    )


class _Tally:
    """One collection's decisions, counted: kept, deleted, blocked, and their type (None: mixed)."""

    __slots__ = ("blocked", "deleted", "kept", "type")

    def __init__(self, type_: str) -> None:
        self.kept = self.deleted = self.blocked = 0
        self.type: str | None = type_


def _tally(rd: _Reader, decisions: tuple[Decision, ...]) -> dict[str, _Tally]:
    """Every decision once: no version listed twice, and each collection's counts."""
    seen: set[str] = set()
    slots: set[tuple[str, int]] = set()
    tallies: dict[str, _Tally] = {}
    delete = Action.DELETE
    for i, d in enumerate(decisions):
        v = d.version
        vid, name, slot = v.id, v.collection, (v.collection, v.index)
        if vid in seen:
            raise rd.fail(f"decisions[{i}]", f"version id {vid!r} is listed twice")
        if slot in slots:
            raise rd.fail(f"decisions[{i}]", f"{v.name} is listed twice")
        seen.add(vid)
        slots.add(slot)
        t = tallies.get(name)
        if t is None:
            t = tallies[name] = _Tally(v.type)
        elif t.type != v.type:
            t.type = None
        if d.action is delete:
            t.deleted += 1
        else:
            t.kept += 1
            if d.blocked:
                t.blocked += 1
    return tallies


def _read_collections(
    rd: _Reader, m: Mapping[str, Any], tallies: Mapping[str, _Tally], scope: Scope
) -> tuple[CollectionSummary, ...]:
    out: list[CollectionSummary] = []
    names: set[str] = set()
    for i, obj in enumerate(rd.list_(m, "collections", "plan")):
        where = f"collections[{i}]"
        c = rd.keys(obj, where, _COLLECTION)
        name = rd.str_(c, "name", where)
        if name in names:
            raise rd.fail(where, f"collection {name!r} is listed twice")
        names.add(name)
        t = tallies.get(name)
        if t is None:
            raise rd.fail(where, f"collection {name!r} has no decisions")
        summary = CollectionSummary(
            collection=CollectionRef(scope.entity, scope.project, name),
            type=rd.str_(c, "type", where),
            kept=rd.int_(c, "kept", where),
            deleted=rd.int_(c, "deleted", where),
            blocked=rd.int_(c, "blocked", where),
            reclaimable_bytes=rd.int_(c, "reclaimable_bytes", where, total=True),
        )
        actual = (t.kept, t.deleted, t.blocked)
        if (summary.kept, summary.deleted, summary.blocked) != actual:
            raise rd.fail(
                where,
                f"totals of {name!r} (kept {summary.kept}, deleted {summary.deleted}, blocked "
                f"{summary.blocked}) do not match its decisions (kept {actual[0]}, deleted {actual[1]}, "
                f"blocked {actual[2]})",
            )
        if t.type != summary.type:
            raise rd.fail(where, f"type {summary.type!r} differs from its versions' type")
        if summary.reclaimable_bytes and not actual[1]:
            raise rd.fail(where, f"{name!r} frees bytes but deletes nothing")
        out.append(summary)
    missing = sorted(set(tallies) - names)
    if missing:
        raise rd.fail("collections", f"collection {missing[0]!r} has decisions but no summary")
    return tuple(out)


def _check_summary(rd: _Reader, m: Mapping[str, Any], versions: int, tallies: Mapping[str, _Tally]) -> None:
    s = rd.keys(m["summary"], "summary", _SUMMARY)
    deleted = sum(t.deleted for t in tallies.values())
    actual = {
        "versions": versions,
        "delete": deleted,
        "keep": versions - deleted,
        "blocked": sum(t.blocked for t in tallies.values()),
    }
    for key, value in actual.items():
        if s[key] != value:
            raise rd.fail(f"summary.{key}", f"says {s[key]!r}, but the decisions count {value}")


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan file written by :func:`dump_plan`; :class:`PlanError` for anything wrong with it.

    A file laid out as :func:`dump_plan` writes it (one decision per line) is
    read streaming, one decision at a time; any other layout of the same JSON
    document (an older artifact-guard's, or reformatted) is read whole, up to
    :data:`MAX_PLAN_BYTES`.
    """
    p = Path(path)
    # Millions of small, acyclic objects: the cyclic collector would rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        streamed = _load_streaming(p)
    except RecursionError:
        raise PlanError(f"{p}: not a plan file: JSON nested too deeply") from None
    finally:
        if collecting:
            gc.enable()
    if streamed is not None:
        return streamed
    raw = read_bounded(p, limit=MAX_PLAN_BYTES, what="plan file", error=PlanError)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PlanError(f"{p}: not a plan file: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{p}: not a plan file: invalid JSON at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise PlanError(f"{p}: not a plan file: JSON nested too deeply") from None
    del raw
    try:
        return plan_from_json(data, source=str(p))
    except RecursionError:  # a deep value where a plan has a flat one (reason params, say)
        raise PlanError(f"{p}: not a plan file: JSON nested too deeply") from None


_DECODER = json.JSONDecoder()


def _load_streaming(p: Path) -> Plan | None:
    """The plan, read one decision line at a time; None when the file is not laid out that way."""
    try:
        f = p.open("rb")
    except OSError as exc:
        raise PlanError(f"cannot read plan file {str(p)!r}: {exc.strerror or exc}") from None
    with f:
        try:
            lines = LineReader.open(
                f,
                key="decisions",
                first_key="format",
                source=f"{p}: not a plan file",
                limit=MAX_PLAN_BYTES,
                error=PlanError,
            )
            if lines is None:
                return None
            rd = _Reader(str(p))
            m = dict(_read_top(rd, lines.head, keys=_HEAD))
            head = _read_head(rd, m)
            check = _Checksum(m)
            decisions: list[Decision] = []
            quick = _Quick(head.scope)
            # orjson decodes ~3x faster than the standard library; its answer is trusted only when the
            # quick path accepts it, otherwise the line is decoded again the standard way.
            fast = orjson.loads
            decode = _DECODER.decode  # json.loads' per-call checks cost ~9% of reading a large plan
            for raw in lines.items():
                try:
                    d = quick.decision(fast(raw), fast=True)
                except orjson.JSONDecodeError:
                    d = None
                if d is None:
                    where = f"decisions[{len(decisions)}]"
                    try:
                        obj = decode(raw.decode())
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        raise rd.fail(where, "not a JSON object on its line (edited by hand?)") from None
                    d = quick.decision(obj) or _read_decision(rd, obj, where, head.scope)
                decisions.append(d)
                check.decision(raw)
            if set(lines.tail) != {"checksum"}:
                raise rd.fail("checksum", "expected the checksum, and nothing else, after the decisions")
            m["checksum"] = lines.tail["checksum"]
            return _complete(rd, m, head, tuple(decisions), check.hexdigest())
        except OSError as exc:
            raise PlanError(f"cannot read plan file {str(p)!r}: {exc.strerror or exc}") from None
