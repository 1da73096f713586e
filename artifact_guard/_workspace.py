"""The workspace database: one SQLite file (WAL mode) per workspace.

It holds cached metadata and manifests, saved plans and the execution journal.
Each component owns its tables and creates them itself through
:func:`ensure_schema`; this module only opens connections the same way for all.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["DEFAULT_WORKSPACE", "connect", "ensure_schema"]

DEFAULT_WORKSPACE = Path(os.environ.get("ARTIFACT_GUARD_WORKSPACE", ".artifact-guard")) / "workspace.sqlite3"


def connect(path: str | os.PathLike[str] = DEFAULT_WORKSPACE) -> sqlite3.Connection:
    """Open (creating if needed) a workspace database in WAL mode.

    ``check_same_thread=False``: callers that share a connection across threads
    serialise access themselves (the executor and the cache each hold a lock).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(p, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    return conn


def ensure_schema(conn: sqlite3.Connection, component: str, version: int, ddl: str) -> None:
    """Create a component's tables once; refuse a database written by a newer version of it."""
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    if row is not None:
        if row[0] > version:
            from ._errors import JournalError

            raise JournalError(
                f"workspace table set {component!r} has format {row[0]}, newer than this "
                f"artifact-guard understands ({version}); upgrade artifact-guard"
            )
        return
    conn.executescript(
        f"BEGIN;\n{ddl}\nINSERT INTO schema_versions VALUES ('{component}', {int(version)});\nCOMMIT;"
    )
