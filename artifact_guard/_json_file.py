"""Reading the JSON files artifact-guard writes (plans, snapshots): bounded, and failing fast.

One layer for both formats: a file is read in chunks, gzip-decompressed
when it starts with gzip's magic bytes (incrementally, so a small file that
inflates without end is caught), and refused

- at once when it does not start as a JSON document does (``/dev/zero``, a
  binary file, a policy given where a plan was expected), and
- as soon as it (or its decompressed text) grows past ``limit`` bytes,

so any input ends in one line in bounded time and memory.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["read_bounded"]

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
