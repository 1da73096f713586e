"""A loopback RPC repository for crash tests: the state lives in the parent, the apply in a child.

A child killed with SIGKILL loses its memory; the FakeWandb it was deleting
from must survive it. :class:`RpcServer` (in the test process) serves a
repository over ``multiprocessing.connection`` on 127.0.0.1; the child uses
:class:`RpcRepository`. The server can kill the child at a chosen write
call, before or after carrying it out, so every gap between "journal says
in-flight" and "W&B did it" gets hit.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, Literal

from artifact_guard import CollectionRef, Lineage, Link, ManifestEntry, Scope, Version
from fakes import FakeRepository

AUTHKEY = b"artifact-guard-crash-test"
WRITES = ("delete_version", "delete_collection", "remove_aliases")
KillWhen = Literal["before", "after"]


class RpcServer:
    """Serves ``repository`` to one child at a time; counts the writes it carried out."""

    def __init__(self, repository: FakeRepository, *, latency: float = 0.0) -> None:
        self.repository = repository
        self.latency = latency
        self.listener = Listener(("127.0.0.1", 0), authkey=AUTHKEY)
        self.attempted: Counter[tuple[str, str]] = Counter()
        """Write calls handed to the fake, by (method, target)."""
        self.applied: Counter[tuple[str, str]] = Counter()
        """Write calls the fake carried out without error, by (method, target)."""
        self.writes_seen = 0
        self.kill_at: tuple[int, KillWhen] | None = None
        self.child_pid: int | None = None
        self.first_call = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="rpc-server", daemon=True)
        self._stop = False
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.listener.address
        return str(host), int(port)

    def arm(self, pid: int, kill_at: tuple[int, KillWhen] | None) -> None:
        with self._lock:
            self.child_pid = pid
            self.kill_at = kill_at
            self.writes_seen = 0
            self.first_call.clear()

    def _kill(self) -> None:
        if self.child_pid is not None:
            os.kill(self.child_pid, signal.SIGKILL)
            self.child_pid = None

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: Connection) -> None:
        with conn:
            while True:
                try:
                    method, args, kwargs = conn.recv()
                except (EOFError, OSError):
                    return
                self.first_call.set()
                if self.latency:
                    time.sleep(self.latency)
                kill_after = False
                if method in WRITES:
                    with self._lock:
                        self.writes_seen += 1
                        if self.kill_at is not None and self.kill_at[0] == self.writes_seen:
                            if self.kill_at[1] == "before":
                                self._kill()
                                return
                            kill_after = True
                if method in WRITES:
                    with self._lock:
                        self.attempted[(method, str(args[0]))] += 1
                try:
                    value = getattr(self.repository, method)(*args, **kwargs)
                    if isinstance(value, Iterator):
                        value = list(value)
                    reply: tuple[str, Any] = ("ok", value)
                    if method in WRITES:
                        with self._lock:
                            self.applied[(method, str(args[0]))] += 1
                except Exception as exc:  # sent back to the child, which re-raises it
                    reply = ("err", exc)
                if kill_after:
                    with self._lock:
                        self._kill()
                    return
                try:
                    conn.send(reply)
                except OSError:
                    return

    def close(self) -> None:
        self._stop = True
        self.listener.close()


class RpcRepository:
    """The child's side: every Protocol call goes to the parent; one call at a time."""

    default_rate = None

    def __init__(self, address: tuple[str, int]) -> None:
        self._conn = Client(address, authkey=AUTHKEY)
        self._lock = threading.Lock()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._conn.send((method, args, kwargs))
            status, value = self._conn.recv()
        if status == "err":
            raise value
        return value

    def versions(self, scope: Scope) -> Iterator[Version]:
        return iter(self._call("versions", scope))

    def version(self, version_id: str) -> Version:
        return self._call("version", version_id)  # type: ignore[no-any-return]

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        return self._call("manifest", version_id)  # type: ignore[no-any-return]

    def lineage(self, version_id: str) -> Lineage:
        return self._call("lineage", version_id)  # type: ignore[no-any-return]

    def links(self, version_id: str) -> tuple[Link, ...]:
        return self._call("links", version_id)  # type: ignore[no-any-return]

    def now(self) -> datetime:
        return self._call("now")  # type: ignore[no-any-return]

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        self._call("delete_version", version_id, delete_aliases=delete_aliases)

    def delete_collection(self, collection: CollectionRef) -> None:
        self._call("delete_collection", collection)

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        self._call("remove_aliases", version_id, list(aliases))
