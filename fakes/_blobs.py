"""Content-addressed file bytes for :class:`fakes.FakeWandb`: in memory up to a bound, then on disk.

W&B stores each file once per digest; so does the fake, once it is given the
bytes (an SDK upload, or a builder that logs ``bytes``). Files given only as
``(digest, size)`` have no bytes here. Bytes are keyed by their base64 MD5,
the digest the SDK puts in manifests. Past ``memory_limit`` bytes held in
memory, new blobs go to a temporary folder the store creates on first use and
removes in :meth:`BlobStore.close` (and when garbage-collected).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["BlobStore", "DigestMismatchError"]

_CHUNK = 1024 * 1024


class DigestMismatchError(ValueError):
    """Uploaded bytes do not have the digest (or size) they were announced with."""


def _hex(digest: str) -> str:
    return base64.b64decode(digest).hex()


class BlobStore:
    """File bytes by digest (base64 MD5). Thread-safe."""

    def __init__(self, *, memory_limit: int = 64 * 1024 * 1024) -> None:
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._memory: dict[str, bytes] = {}
        self._memory_bytes = 0
        self._on_disk: dict[str, int] = {}
        self._folder: str | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # ------------------------------------------------------------------ writes

    def _dir(self) -> str:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="fake-wandb-blobs-")
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder

    def put(self, data: bytes, *, expect: str | None = None) -> str:
        """Store ``data``; returns its digest. ``expect``: refuse bytes with another digest."""
        digest = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - W&B's digest
        if expect is not None and expect != digest:
            raise DigestMismatchError(f"content has MD5 {digest}, not the announced {expect}")
        with self._lock:
            if digest in self._memory or digest in self._on_disk:
                return digest
            if self._memory_bytes + len(data) <= self.memory_limit:
                self._memory[digest] = data
                self._memory_bytes += len(data)
                return digest
        path = os.path.join(self._dir(), _hex(digest))
        with open(path, "wb") as f:
            f.write(data)
        with self._lock:
            self._on_disk[digest] = len(data)
        return digest

    def put_stream(
        self, read: Callable[[int], bytes], length: int | None, *, expect: str | None = None
    ) -> tuple[str, int]:
        """Store ``length`` bytes (None: until ``read`` returns ``b""``) read in chunks.

        Never holds a large body in memory: past one chunk it goes to a file.
        Returns ``(digest, size)``. A body shorter than ``length`` or with
        another digest than ``expect`` is refused and nothing is kept.
        """
        if length is not None and length <= min(_CHUNK, self.memory_limit):
            data = read(length) if length else b""
            if len(data) != length:
                raise DigestMismatchError(f"body ended after {len(data)} of {length} bytes")
            return self.put(data, expect=expect), length
        md5 = hashlib.md5()  # noqa: S324 - W&B's digest
        fd, tmp = tempfile.mkstemp(dir=self._dir(), suffix=".part")
        size = 0
        try:
            with os.fdopen(fd, "wb") as f:
                while length is None or size < length:
                    chunk = read(_CHUNK if length is None else min(_CHUNK, length - size))
                    if not chunk:
                        if length is None:
                            break
                        raise DigestMismatchError(f"body ended after {size} of {length} bytes")
                    md5.update(chunk)
                    f.write(chunk)
                    size += len(chunk)
            length = size
            digest = base64.b64encode(md5.digest()).decode()
            if expect is not None and expect != digest:
                raise DigestMismatchError(f"content has MD5 {digest}, not the announced {expect}")
            with self._lock:
                if digest in self._memory or digest in self._on_disk:
                    os.unlink(tmp)
                    return digest, length
                os.replace(tmp, os.path.join(self._dir(), _hex(digest)))
                self._on_disk[digest] = length
            return digest, length
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------------ reads

    def __contains__(self, digest: object) -> bool:
        with self._lock:
            return digest in self._memory or digest in self._on_disk

    def size(self, digest: str) -> int | None:
        """Bytes held for ``digest``, None if none."""
        with self._lock:
            if digest in self._memory:
                return len(self._memory[digest])
            return self._on_disk.get(digest)

    def chunks(self, digest: str) -> Iterator[bytes]:
        """The bytes of ``digest`` in chunks; KeyError if not held."""
        with self._lock:
            data = self._memory.get(digest)
            on_disk = digest in self._on_disk
        if data is not None:
            yield data
            return
        if not on_disk:
            raise KeyError(digest)
        with open(os.path.join(self._dir(), _hex(digest)), "rb") as f:
            while chunk := f.read(_CHUNK):
                yield chunk

    def get(self, digest: str) -> bytes:
        """The bytes of ``digest``; KeyError if not held."""
        return b"".join(self.chunks(digest))

    def digests(self) -> frozenset[str]:
        """Every digest held."""
        with self._lock:
            return frozenset(self._memory) | frozenset(self._on_disk)

    # ------------------------------------------------------------------ removal

    def discard(self, digest: str) -> None:
        """Drop the bytes of ``digest`` (no error if not held)."""
        with self._lock:
            data = self._memory.pop(digest, None)
            if data is not None:
                self._memory_bytes -= len(data)
            on_disk = self._on_disk.pop(digest, None) is not None
        if on_disk and self._folder is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self._folder, _hex(digest)))

    def close(self) -> None:
        """Drop everything and remove the temporary folder."""
        with self._lock:
            self._memory.clear()
            self._memory_bytes = 0
            self._on_disk.clear()
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
            self._folder = None
