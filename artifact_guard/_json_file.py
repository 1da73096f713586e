"""The JSON files artifact-guard writes (plans, snapshots): one layer for both formats.

Writing: :func:`write_lines` lays a JSON object out for streaming, its one
large array (a plan's ``decisions``, a snapshot's ``versions``) one item per
line, so that neither writer nor reader ever holds more than one item's text.
:class:`LineReader` reads that layout back one item at a time.

Reading anything else (an older layout, a hand-formatted file):

One layer for both formats: a file is read in chunks, gzip-decompressed
when it starts with gzip's magic bytes (incrementally, so a small file that
inflates without end is caught), and refused

- at once when it does not start as a JSON document does (``/dev/zero``, a
  binary file, a policy given where a plan was expected), and
- as soon as it (or its decompressed text) grows past ``limit`` bytes,

so any input ends in one line in bounded time and memory.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._model import Version

__all__ = ["LineReader", "read_bounded", "write_lines"]

_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_WHITESPACE = b" \t\r\n"


def read_bounded(
    path: str | os.PathLike[str],
    *,
    limit: int,
    what: str,
    error: Callable[[str], Exception],
) -> bytearray:
    """The bytes of a JSON-object file (gunzipped when gzip), at most ``limit`` of them.

    ``error(message)`` builds the exception raised, with a one-line message
    that names the file (``what`` says what kind of file was expected).
    """
    p = Path(path)
    try:
        handle = p.open("rb")
    except OSError as exc:
        raise error(f"cannot read {what} {str(p)!r}: {exc.strerror or exc}") from None
    out = bytearray()
    started = False
    inflate: Any = None  # zlib.decompressobj(), once the file shows gzip's magic bytes

    def take(data: bytes) -> None:
        nonlocal started
        if not started:
            head = data.lstrip(_WHITESPACE)
            if head:
                started = True
                if not head.startswith((b"{", b"[", b"\xef\xbb\xbf")):
                    raise error(f"{p}: not a {what}: it does not start as a JSON document does")
        out.extend(data)
        if len(out) > limit:
            raise error(f"{p}: not a {what}: larger than {limit:,} bytes (the bound artifact-guard reads)")

    with handle:
        first = True
        while True:
            try:
                chunk = handle.read(_CHUNK)
            except OSError as exc:
                raise error(f"cannot read {what} {str(p)!r}: {exc.strerror or exc}") from None
            if first and chunk[:2] == _GZIP_MAGIC:
                inflate = zlib.decompressobj(wbits=31)
            first = False
            if not chunk:
                break
            if inflate is None:
                take(chunk)
                continue
            try:
                data = inflate.decompress(chunk, limit + 1 - len(out))
                take(data)
                while inflate.unconsumed_tail:
                    take(inflate.decompress(inflate.unconsumed_tail, limit + 1 - len(out)))
            except zlib.error as exc:
                raise error(f"{p}: {what} is truncated or corrupt (gzip: {exc})") from None
        if inflate is not None and not inflate.eof:
            raise error(f"{p}: {what} is truncated or corrupt (gzip: the stream ends early)")
    return out


# ---------------------------------------------------------------------- the line layout

_HEAD_PROBE = 1 << 16
MAX_LINE = 64 << 20
"""One item's line: far larger than any version or decision artifact-guard writes."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def list_opening(key: str) -> bytes:
    """What ends the first line: ``,"<key>":[`` and a newline."""
    return f",{_canonical(key)}:[\n".encode()


class Sink(Protocol):
    """Where :func:`write_lines` writes: a binary file, or a gzip stream over one."""

    def write(self, data: bytes, /) -> int: ...


class Source(Protocol):
    """What :class:`LineReader` reads: a binary file, or a gzip stream over one."""

    def readline(self, size: int = -1, /) -> bytes: ...

    def read(self, size: int = -1, /) -> bytes: ...


def write_lines(
    out: Sink,
    head: Mapping[str, Any],
    key: str,
    items: Iterable[bytes],
    tail: Callable[[], Mapping[str, Any]] | None = None,
) -> None:
    """Write one JSON object laid out for streaming: ``head``'s members on the first line,
    then the array ``key`` one (already serialised) item per line, then the members
    ``tail()`` returns once every item is written (a checksum over them, say).

    The result is ordinary JSON; readers that do not know the layout read it whole.
    """
    out.write(("{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in head.items())).encode())
    out.write(list_opening(key))
    pending: bytes | None = None
    for item in items:
        if pending is not None:
            out.write(pending)
            out.write(b",\n")
        pending = item
    if pending is not None:
        out.write(pending)
        out.write(b"\n")
    closing = "".join(f",{_canonical(k)}:{_canonical(v)}" for k, v in (tail() if tail else {}).items())
    out.write(("]" + closing + "}\n").encode())


class LineReader:
    """Reads a file written by :func:`write_lines` one item at a time, in bounded memory.

    :meth:`open` returns None when the file is not laid out that way (the
    caller then reads it whole). ``error(message)`` builds the exception for
    a file that starts like one but goes wrong; ``limit`` bounds the bytes read.
    """

    def __init__(self, stream: Source, head: dict[str, Any], source: str, limit: int, error: Any) -> None:
        self._stream = stream
        self.head = head
        self.tail: dict[str, Any] = {}
        self._source = source
        self._limit = limit
        self._error = error
        self.read = 0

    @classmethod
    def open(
        cls, stream: Source, *, key: str, first_key: str, source: str, limit: int, error: Any
    ) -> LineReader | None:
        first = stream.readline(_HEAD_PROBE)
        if not first.startswith(b"{" + _canonical(first_key).encode() + b":"):
            return None
        if not first.endswith(b"\n"):
            first += stream.readline(limit)
        opening = list_opening(key)
        if not first.endswith(opening):
            return None
        try:
            head = json.loads(first[: -len(opening)] + b"}")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(head, dict):
            return None
        reader = cls(stream, head, source, limit, error)
        reader.read = len(first)
        return reader

    def items(self) -> Iterator[bytes]:
        """Each item's JSON text (without its separator); then :attr:`tail` holds what followed."""
        while True:
            line = self._stream.readline(MAX_LINE)
            self.read += len(line)
            if self.read > self._limit:
                raise self._error(
                    f"{self._source}: larger than {self._limit:,} bytes (the bound artifact-guard reads)"
                )
            if not line:
                raise self._error(f"{self._source}: truncated: the file ends in the middle of its items")
            if line.startswith(b"]"):
                break
            yield line[:-2] if line.endswith(b",\n") else line.rstrip(b"\n")
        rest = line[1:].rstrip(b"\n")
        try:
            tail = json.loads(b"{" + rest[1:] if rest.startswith(b",") else b"{" + rest)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            tail = None
        if not isinstance(tail, dict) or self._stream.read(1).strip():
            raise self._error(f"{self._source}: unexpected text after the items")
        self.tail = tail


def version_fields(v: Version) -> dict[str, Any]:
    """A version's own fields, after its ``id``, as plan and snapshot files both write them."""
    return {
        "collection": v.collection,
        "type": v.type,
        "index": v.index,
        "created_at": v.created_at.isoformat(),
        "state": v.state.value,
        "aliases": sorted(v.aliases),
        "size": v.size,
        "ttl_seconds": v.ttl.total_seconds() if v.ttl is not None else None,
        "producer": v.producer,
        "digest": v.digest,
    }
