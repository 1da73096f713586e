"""The execution journal: what an apply set out to do, and how far it got.

It lives in the workspace SQLite database (tables ``journal_plans`` and
``journal_ops``) and is self-contained: ``resume`` needs only the journal and a
repository, not the plan object. Per plan it stores the scope, the policy (as
JSON), the plan's clock, the versions the plan keeps in each collection, and
the predicted bytes; per operation its kind, target, state, attempts, write
calls sent, outcome, last error and timestamps.

States: ``pending`` -> ``in-flight`` (committed *before* the write call goes
out) -> ``done`` | ``failed`` | ``skipped``. An operation found ``in-flight``
after a crash is settled by re-reading W&B, never by calling again blindly.

Every state change is one SQLite transaction (WAL mode), so a process killed
at any instant leaves the journal consistent.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from ._errors import JournalError, PolicyError
from ._policy import Policy
from ._rules import Reason
from ._workspace import connect, ensure_schema

__all__ = [
    "JOURNAL_FORMAT",
    "Journal",
    "JournalHeader",
    "OpKind",
    "OpRecord",
    "OpState",
    "PlanJournal",
    "policy_from_json",
    "policy_to_json",
]

JOURNAL_FORMAT = 2
"""Format of the journal tables; a journal written by a newer format is refused.

Format 2 added ``journal_ops.notes`` (events such as a write whose outcome was
unknown); a format-1 journal is upgraded in place when opened."""

_MAX_SQL_INT = 2**63 - 1

OpKind = Literal["delete_version", "delete_collection"]
OpState = Literal["pending", "in-flight", "done", "failed", "skipped"]
TERMINAL_STATES: frozenset[str] = frozenset({"done", "failed", "skipped"})

_DDL = """
CREATE TABLE journal_plans (
    plan_id           TEXT PRIMARY KEY,
    format            INTEGER NOT NULL,
    scope             TEXT NOT NULL,
    policy            TEXT NOT NULL,
    plan_created_at   TEXT NOT NULL,
    dedupe            TEXT NOT NULL,
    reclaimable_bytes INTEGER NOT NULL,
    kept              TEXT NOT NULL,
    options           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'finished', 'stopped')),
    stop_reason       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE TABLE journal_ops (
    plan_id       TEXT NOT NULL REFERENCES journal_plans(plan_id),
    op_id         INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('delete_version', 'delete_collection')),
    target        TEXT NOT NULL,
    collection    TEXT NOT NULL,
    label         TEXT NOT NULL,
    parent        INTEGER,
    planned       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'in-flight', 'done', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    calls         INTEGER NOT NULL DEFAULT 0,
    outcome       TEXT,
    error_class   TEXT,
    error_message TEXT,
    reasons       TEXT,
    notes         TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    PRIMARY KEY (plan_id, op_id)
);
CREATE INDEX journal_ops_state ON journal_ops (plan_id, state);
"""
_SCHEMA_PROBES = (
    "SELECT plan_id, format, scope, policy, plan_created_at, dedupe, reclaimable_bytes, kept, options,"
    " status, stop_reason, created_at, updated_at FROM journal_plans LIMIT 0",
    "SELECT plan_id, op_id, kind, target, collection, label, parent, planned, state, attempts, calls,"
    " outcome, error_class, error_message, reasons, notes, created_at, started_at, finished_at"
    " FROM journal_ops LIMIT 0",
)
"""Every column of the two journal tables, read once when a journal is opened."""


# ---------------------------------------------------------------------- policy as JSON


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """Every field of a policy as plain JSON: durations in seconds, sets as sorted lists."""
    out: dict[str, Any] = {}
    for f in fields(Policy):
        value = getattr(policy, f.name)
        if isinstance(value, timedelta):
            out[f.name] = value.total_seconds()
        elif isinstance(value, frozenset):
            out[f.name] = sorted(value)
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    return out


_DURATIONS = frozenset({"keep_within", "older_than", "grace_period"})
_SETS = frozenset({"protected_aliases", "waive"})
_TUPLES = frozenset({"types", "collections", "exclude_collections"})


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    """Rebuild a policy stored by :func:`policy_to_json`; :class:`JournalError` if it is not one."""
    known = {f.name: f for f in fields(Policy)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise JournalError(f"journal policy has unknown fields {unknown}: written by a newer artifact-guard?")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DURATIONS and value is not None:
            if not isinstance(value, int | float):
                raise JournalError(f"journal policy field {name!r} is not a duration: {value!r}")
            kwargs[name] = timedelta(seconds=value)
        elif name in _SETS:
            kwargs[name] = frozenset(value)
        elif name in _TUPLES:
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    missing = [n for n, f in known.items() if n not in kwargs and f.default is MISSING]
    if missing:
        raise JournalError(f"journal policy lacks fields {missing}")
    try:
        return Policy(**kwargs)
    except (PolicyError, TypeError) as exc:
        raise JournalError(f"journal policy is invalid: {exc}") from None


# ---------------------------------------------------------------------- records


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class JournalHeader:
    """One plan's journal: what it covers and how it ended."""

    plan_id: str
    format: int
    scope: str
    policy: Policy
    plan_created_at: datetime
    dedupe: str
    reclaimable_bytes: int
    kept: Mapping[str, tuple[str, ...]]
    """Per collection path: ids of the versions the plan keeps, newest first."""
    options: Mapping[str, Any]
    status: str
    stop_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One operation as the journal holds it."""

    op_id: int
    kind: OpKind
    target: str
    """A version id, or a collection path ``entity/project/name``."""
    collection: str
    label: str
    """For people: ``collection:vN``, or the collection path."""
    parent: int | None
    """For a version covered by a collection delete: that operation's id."""
    planned: Mapping[str, Any]
    """What the plan saw: ``aliases``, ``index``, ``created_at``; ``members`` for a collection."""
    state: OpState
    attempts: int
    calls: int
    outcome: str | None
    error_class: str | None
    error_message: str | None
    reasons: tuple[Reason, ...]
    created_at: str
    started_at: str | None
    finished_at: str | None
    notes: tuple[str, ...] = ()
    """Events worth keeping, e.g. ``attempt 1: outcome unknown (TransientError: ...)``."""


@dataclass(frozen=True, slots=True)
class NewOp:
    """An operation to record when a journal is created."""

    op_id: int
    kind: OpKind
    target: str
    collection: str
    label: str
    parent: int | None
    planned: Mapping[str, Any]


def _reasons_to_json(reasons: Iterable[Reason]) -> str:
    return json.dumps([[r.rule, [[k, _jsonable(v)] for k, v in r.params]] for r in reasons])


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | frozenset | set):
        return [_jsonable(v) for v in (sorted(value) if isinstance(value, frozenset | set) else value)]
    return value


def _integer(value: object) -> int:
    """``value``, or ValueError: SQLite keeps text in an INTEGER column if that is what was written."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected an integer, found {value!r}")
    return value


def _reasons_from_json(text: str | None) -> tuple[Reason, ...]:
    if not text:
        return ()
    out = []
    for rule, params in json.loads(text):
        out.append(Reason(rule, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in params)))
    return tuple(out)


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a format-1 journal to format 2 (one added column), in one transaction."""
    row = conn.execute("SELECT version FROM schema_versions WHERE component = 'journal'").fetchone()
    if row is None or row[0] >= JOURNAL_FORMAT:
        return
    columns = {r[1] for r in conn.execute("PRAGMA table_info(journal_ops)")}
    conn.execute("BEGIN IMMEDIATE")
    try:
        if "notes" not in columns:
            conn.execute("ALTER TABLE journal_ops ADD COLUMN notes TEXT")
        conn.execute("UPDATE schema_versions SET version = ? WHERE component = 'journal'", (JOURNAL_FORMAT,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _exact_bytes(total: int) -> dict[str, str]:
    return {"reclaimable_bytes": str(total)} if total > _MAX_SQL_INT else {}


def _has_journal(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM schema_versions WHERE component = 'journal'").fetchone()
    return row is not None


class Journal:
    """One workspace database's journal tables. Thread-safe: one connection, one lock."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self._claim: IO[bytes] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Journal:
        """Open the journal tables of a workspace database, creating them if needed.

        With ``create=False`` a missing file is a :class:`JournalError`, not a new journal.
        """
        p = Path(path)
        if not create and not p.is_file():
            raise JournalError(f"no journal at {p}")
        try:
            conn = connect(p)
            if not create and not _has_journal(conn):
                # Reading (status, resume) must not turn a cache-only workspace into a journal.
                conn.close()
                raise JournalError(f"no apply is recorded in {p}")
            ensure_schema(conn, "journal", JOURNAL_FORMAT, _DDL)
            _upgrade(conn)
            # A file that claims the journal schema but lacks its tables or columns (a hand-edited or
            # half-copied database) is refused here, in one line, not by a query halfway through a command.
            for probe in _SCHEMA_PROBES:
                conn.execute(probe)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{p} is not a readable workspace database: {exc}") from None
        except OSError as exc:
            raise JournalError(f"cannot open journal {p}: {exc}") from None
        return cls(conn, p)

    @classmethod
    def memory(cls) -> Journal:
        """A journal held in memory: for applies given no journal path (see :meth:`save_to`)."""
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        ensure_schema(conn, "journal", JOURNAL_FORMAT, _DDL)
        return cls(conn, Path(":memory:"))

    def save_to(self, path: str | os.PathLike[str]) -> None:
        """Copy this journal, consistently, into a new workspace database at ``path``."""
        target = connect(path)
        try:
            with self._lock:
                self._conn.backup(target)
        finally:
            target.close()
        self.path = Path(path)

    def claim(self) -> None:
        """Hold this journal for one apply or resume at a time (until :meth:`close`).

        Two applies sharing a journal would overwrite each other's outcomes and
        send duplicate write calls. An advisory lock on the database file (not
        SQLite's own byte-range locks: flock is separate) refuses the second.
        """
        if self._claim is not None or str(self.path) == ":memory:":
            return
        try:
            import fcntl
        except ImportError:  # Windows: no advisory file locks
            return
        handle = self.path.open("rb")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise JournalError(
                f"journal {self.path} is in use by another apply or resume; wait for it to finish "
                "(artifact-guard status shows its progress)"
            ) from None
        self._claim = handle

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._claim is not None:
                self._claim.close()  # releases the flock
                self._claim = None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ plans

    def create(
        self,
        *,
        plan_id: str,
        scope: str,
        policy: Policy,
        plan_created_at: datetime,
        dedupe: str,
        reclaimable_bytes: int,
        kept: Mapping[str, Sequence[str]],
        options: Mapping[str, Any],
        ops: Sequence[NewOp],
    ) -> None:
        """Record a new plan and all its operations, pending, in one transaction."""
        now = _now()
        with self._tx() as c:
            c.execute(
                "INSERT INTO journal_plans VALUES (?,?,?,?,?,?,?,?,?,'open',NULL,?,?)",
                (
                    plan_id,
                    JOURNAL_FORMAT,
                    scope,
                    json.dumps(policy_to_json(policy), sort_keys=True),
                    plan_created_at.isoformat(),
                    dedupe,
                    # SQLite integers stop at 2**63 - 1: a larger total is kept exactly in the options.
                    min(reclaimable_bytes, _MAX_SQL_INT),
                    json.dumps({k: list(v) for k, v in kept.items()}, sort_keys=True),
                    json.dumps(
                        {**options, **_exact_bytes(reclaimable_bytes)},
                        sort_keys=True,
                    ),
                    now,
                    now,
                ),
            )
            c.executemany(
                "INSERT INTO journal_ops (plan_id, op_id, kind, target, collection, label, parent, planned,"
                " state, created_at) VALUES (?,?,?,?,?,?,?,?,'pending',?)",
                [
                    (
                        plan_id,
                        op.op_id,
                        op.kind,
                        op.target,
                        op.collection,
                        op.label,
                        op.parent,
                        json.dumps(dict(op.planned), sort_keys=True),
                        now,
                    )
                    for op in ops
                ],
            )

    def plan_ids(self) -> list[tuple[str, str]]:
        """``(plan_id, status)`` of every journal in this workspace, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT plan_id, status FROM journal_plans ORDER BY created_at, plan_id"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def header(self, plan_id: str) -> JournalHeader:
        """The journal of one plan; :class:`JournalError` if absent, too new or broken."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM journal_plans WHERE plan_id = ?", (plan_id,)).fetchone()
        if row is None:
            raise JournalError(f"journal {self.path} has no record of plan {plan_id[:12]}")
        (pid, fmt, scope, policy, plan_at, dedupe, freed, kept, options, status, why, created, updated) = row
        if not isinstance(fmt, int):  # SQLite keeps whatever was written, whatever the column type
            raise JournalError(f"journal of plan {str(pid)[:12]} is broken: format is {fmt!r}")
        if fmt > JOURNAL_FORMAT:
            raise JournalError(
                f"journal of plan {pid[:12]} has format {fmt}, newer than this artifact-guard "
                f"understands ({JOURNAL_FORMAT}); upgrade artifact-guard"
            )
        try:
            opts = json.loads(options)
            exact = opts.get("reclaimable_bytes") if isinstance(opts, dict) else None
            return JournalHeader(
                plan_id=pid,
                format=fmt,
                scope=scope,
                policy=policy_from_json(json.loads(policy)),
                plan_created_at=datetime.fromisoformat(plan_at),
                dedupe=dedupe,
                reclaimable_bytes=int(exact) if isinstance(exact, str) else _integer(freed),
                kept={k: tuple(v) for k, v in json.loads(kept).items()},
                options=opts,
                status=status,
                stop_reason=why,
                created_at=datetime.fromisoformat(created),
                updated_at=datetime.fromisoformat(updated),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise JournalError(f"journal of plan {pid[:12]} is broken: {exc}") from None

    def set_status(self, plan_id: str, status: str, reason: str | None = None) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE journal_plans SET status = ?, stop_reason = ?, updated_at = ? WHERE plan_id = ?",
                (status, reason, _now(), plan_id),
            )

    # ------------------------------------------------------------------ operations

    def ops(self, plan_id: str) -> list[OpRecord]:
        """Every operation of a plan, in order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT op_id, kind, target, collection, label, parent, planned, state, attempts, calls,"
                " outcome, error_class, error_message, reasons, created_at, started_at, finished_at, notes"
                " FROM journal_ops WHERE plan_id = ? ORDER BY op_id",
                (plan_id,),
            ).fetchall()
        try:
            return [
                OpRecord(
                    op_id=_integer(r[0]),
                    kind=r[1],
                    target=r[2],
                    collection=r[3],
                    label=r[4],
                    parent=None if r[5] is None else _integer(r[5]),
                    planned=json.loads(r[6]),
                    state=r[7],
                    attempts=_integer(r[8]),
                    calls=_integer(r[9]),
                    outcome=r[10],
                    error_class=r[11],
                    error_message=r[12],
                    reasons=_reasons_from_json(r[13]),
                    created_at=r[14],
                    started_at=r[15],
                    finished_at=r[16],
                    notes=tuple(json.loads(r[17])) if r[17] else (),
                )
                for r in rows
            ]
        except (ValueError, TypeError) as exc:
            raise JournalError(f"journal of plan {plan_id[:12]} has a broken operation: {exc}") from None

    def reopen(self, plan_id: str, *, retry_failed: bool) -> int:
        """Before resuming: in-flight operations (and failed ones if asked) go back to pending.

        An in-flight operation may or may not have reached W&B; the executor
        settles it by re-reading the target before any new write call.
        """
        states = ("in-flight", "failed") if retry_failed else ("in-flight",)
        marks = ",".join("?" * len(states))
        with self._tx() as c:
            cur = c.execute(
                f"UPDATE journal_ops SET state = 'pending' WHERE plan_id = ? AND state IN ({marks})",  # noqa: S608 - placeholders only
                (plan_id, *states),
            )
            c.execute(
                "UPDATE journal_plans SET status = 'open', stop_reason = NULL, updated_at = ?"
                " WHERE plan_id = ?",
                (_now(), plan_id),
            )
            return cur.rowcount

    def start(self, plan_id: str, op_ids: Sequence[int], *, write: bool) -> None:
        """Mark operations in-flight, counting an attempt (and a write call when one is about to go)."""
        now = _now()
        with self._tx() as c:
            c.executemany(
                "UPDATE journal_ops SET state = 'in-flight', attempts = attempts + 1,"
                " calls = calls + ?, started_at = ? WHERE plan_id = ? AND op_id = ?",
                [(1 if write else 0, now, plan_id, op_id) for op_id in op_ids],
            )

    def note(self, plan_id: str, op_id: int, text: str) -> None:
        """Append one event to an operation's notes (kept whatever state it ends in)."""
        with self._tx() as c:
            row = c.execute(
                "SELECT notes FROM journal_ops WHERE plan_id = ? AND op_id = ?", (plan_id, op_id)
            ).fetchone()
            notes = json.loads(row[0]) if row is not None and row[0] else []
            notes.append(text)
            c.execute(
                "UPDATE journal_ops SET notes = ? WHERE plan_id = ? AND op_id = ?",
                (json.dumps(notes), plan_id, op_id),
            )

    def set_option(self, plan_id: str, key: str, value: Any) -> None:
        """Record one run-time option of a plan's apply (e.g. the rate reached, for ``resume``)."""
        with self._tx() as c:
            row = c.execute("SELECT options FROM journal_plans WHERE plan_id = ?", (plan_id,)).fetchone()
            if row is None:
                return
            opts = json.loads(row[0])
            opts[key] = value
            c.execute(
                "UPDATE journal_plans SET options = ?, updated_at = ? WHERE plan_id = ?",
                (json.dumps(opts, sort_keys=True), _now(), plan_id),
            )

    def bind(self, plan_id: str) -> PlanJournal:
        """This journal seen through one plan: the executor's view, no plan id to pass around."""
        return PlanJournal(self, plan_id)

    def count_call(self, plan_id: str, op_id: int) -> None:
        """One more write call for an operation already in flight (a retry)."""
        with self._tx() as c:
            c.execute(
                "UPDATE journal_ops SET calls = calls + 1 WHERE plan_id = ? AND op_id = ?", (plan_id, op_id)
            )

    def finish(
        self,
        plan_id: str,
        op_ids: Sequence[int],
        state: OpState,
        *,
        outcome: str | None = None,
        error: BaseException | None = None,
        reasons: Iterable[Reason] = (),
    ) -> None:
        """Settle operations: done, failed (with the error) or skipped (with the reasons)."""
        if state not in TERMINAL_STATES:
            raise ValueError(f"finish() needs a terminal state, not {state!r}")
        now = _now()
        reasons_json = _reasons_to_json(reasons)
        err_class = type(error).__name__ if error is not None else None
        err_msg = str(error) if error is not None else None
        with self._tx() as c:
            c.executemany(
                "UPDATE journal_ops SET state = ?, outcome = ?, error_class = ?, error_message = ?,"
                " reasons = ?, finished_at = ? WHERE plan_id = ? AND op_id = ?",
                [(state, outcome, err_class, err_msg, reasons_json, now, plan_id, i) for i in op_ids],
            )


class PlanJournal:
    """One plan's journal: the calls the executor makes, bound to that plan."""

    def __init__(self, journal: Journal, plan_id: str) -> None:
        self.journal = journal
        self.plan_id = plan_id

    def header(self) -> JournalHeader:
        return self.journal.header(self.plan_id)

    def ops(self) -> list[OpRecord]:
        return self.journal.ops(self.plan_id)

    def start(self, op_ids: Sequence[int], *, write: bool) -> None:
        self.journal.start(self.plan_id, op_ids, write=write)

    def count_call(self, op_id: int) -> None:
        self.journal.count_call(self.plan_id, op_id)

    def note(self, op_id: int, text: str) -> None:
        self.journal.note(self.plan_id, op_id, text)

    def finish(
        self,
        op_ids: Sequence[int],
        state: OpState,
        *,
        outcome: str | None = None,
        error: BaseException | None = None,
        reasons: Iterable[Reason] = (),
    ) -> None:
        if op_ids:
            self.journal.finish(self.plan_id, op_ids, state, outcome=outcome, error=error, reasons=reasons)

    def set_status(self, status: str, reason: str | None = None) -> None:
        self.journal.set_status(self.plan_id, status, reason)

    def set_option(self, key: str, value: Any) -> None:
        self.journal.set_option(self.plan_id, key, value)
