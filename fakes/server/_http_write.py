"""The write path's HTTP routes: the run file stream, uploads (PUT) and file downloads.

- ``POST /files/<entity>/<project>/<run>/file_stream``: history, summary, events and
  console lines, and the run's end (needs the API key, like ``/graphql``).
- ``PUT /_storage/artifacts/<storage path>[?part=N]``: an artifact file's bytes (or one
  part of a multipart upload), checked against the MD5 announced in ``createArtifactFiles``;
  streamed to storage in chunks, never held twice. Upload URLs are presigned in W&B, so no key.
- ``PUT /_storage/manifests/<artifact id>``: a pending version's ``wandb_manifest.json``.
- ``PUT /_storage/runs/<entity/project/run>/<name>``: a run file (its size is recorded).
- ``GET /_storage/wandb_artifacts/<hex MD5>/<path>`` (the ``directUrl`` of a file) and
  ``GET /artifactsV2/...`` (the SDK's fallback URL): a stored file's bytes, found by the hex MD5
  in the URL; a file the fake holds only as ``(digest, size)`` answers 404 saying so.

Each route reads its input, calls one :class:`fakes.FakeWandb` method, and answers.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from artifact_guard._errors import ArtifactGuardError, NotFoundError

from .._backend_write import DigestMismatchError

if TYPE_CHECKING:
    from ._http import _Handler

__all__ = ["download", "file_stream", "is_download", "is_file_stream", "put"]

_FILE_STREAM = re.compile(r"^/files/([^/]+)/([^/]+)/([^/]+)/file_stream$")
_MAX_JSON = 64 * 1024 * 1024
_HEX_MD5 = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1024 * 1024


def is_file_stream(path: str) -> bool:
    """Whether ``path`` is a run's file stream endpoint."""
    return _FILE_STREAM.match(path) is not None


def is_download(path: str) -> bool:
    """Whether ``path`` asks for a stored file's bytes."""
    return path.startswith(("/artifactsV2/", "/artifacts/", "/_storage/wandb_artifacts/"))


def _record(
    handler: _Handler,
    operation: str,
    status: int,
    started: float,
    errors: tuple[str, ...] = (),
    variables: dict[str, Any] | None = None,
) -> None:
    from ._http import RequestRecord

    handler._record(
        RequestRecord(
            operation,
            variables or {},
            status,
            handler.path,
            handler.command,
            errors=errors,
            duration_ms=(time.perf_counter() - started) * 1e3,
        )
    )


def _fail(handler: _Handler, operation: str, status: int, message: str, started: float) -> None:
    handler._send(status, {"errors": [{"message": message}]})
    _record(handler, operation, status, started, (message,))


def _reader(handler: _Handler) -> tuple[Callable[[int], bytes], int | None]:
    """A ``read(n)`` over the request body (plain or chunked) and its length if declared."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        buffer = bytearray()
        done = False

        def read_chunked(n: int) -> bytes:
            nonlocal done
            while len(buffer) < n and not done:
                line = handler.rfile.readline(1024)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    done = True
                    break
                buffer.extend(handler.rfile.read(size))
                handler.rfile.readline(8)
            out = bytes(buffer[:n])
            del buffer[:n]
            return out

        return read_chunked, None
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    return handler.rfile.read, length


def _read_all(handler: _Handler, limit: int) -> bytes:
    read, length = _reader(handler)
    if length is not None:
        if not 0 <= length <= limit:
            raise ValueError(f"Content-Length must be between 0 and {limit}")
        return read(length) if length else b""
    data = bytearray()
    while chunk := read(_CHUNK):
        data.extend(chunk)
        if len(data) > limit:
            raise ValueError(f"body larger than {limit} bytes")
    return bytes(data)


# ---------------------------------------------------------------------- file stream


def file_stream(handler: _Handler, path: str, started: float) -> None:
    """``POST /files/<entity>/<project>/<run>/file_stream``."""
    match = _FILE_STREAM.match(path)
    assert match is not None
    run_path = "/".join(unquote(p) for p in match.groups())
    raw = _read_all(handler, _MAX_JSON)
    if not handler._authorized():
        handler._unauthorized(started, "file_stream")
        return
    try:
        if handler.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        files: dict[str, list[str]] = {}
        for name, item in (body.get("files") or {}).items():
            content = item.get("content") if isinstance(item, dict) else None
            if not isinstance(content, list):
                raise ValueError(f"files.{name}.content must be a list of lines")
            files[str(name)] = [str(line) for line in content]
        exit_code = body.get("exitcode")
        handler.server.state.ctx.fake.stream_run(
            run_path,
            files,
            complete=bool(body.get("complete")),
            exit_code=int(exit_code) if exit_code is not None else None,
        )
    except NotFoundError as e:
        _fail(handler, "file_stream", 404, str(e), started)
        return
    except (ValueError, TypeError, OSError, RecursionError) as e:
        _fail(handler, "file_stream", 400, f"malformed file_stream request: {e}", started)
        return
    handler._send(200, {"exitcode": None, "limits": {}})
    summary = {"run": run_path, "files": sorted(files), "complete": bool(body.get("complete"))}
    _record(handler, "file_stream", 200, started, variables={**summary, "exitcode": exit_code})


# ---------------------------------------------------------------------- uploads


def put(handler: _Handler, path: str, started: float) -> None:
    """``PUT /_storage/...``: artifact files and parts, manifests, run files."""
    fake = handler.server.state.ctx.fake
    kind, _, rest = path.removeprefix("/_storage/").partition("/")
    query = parse_qs(handler.path.partition("?")[2])
    operation = f"PUT {kind}"
    try:
        if kind == "artifacts":
            storage_path = unquote(rest)
            slot = fake.upload_slot(storage_path)
            read, length = _reader(handler)
            if length is not None and length < 0:
                raise ValueError("Content-Length is not a number")
            if "part" in query:
                hexmd5 = fake.store_part(storage_path, int(query["part"][0]), read, length)
                handler._send(200, b"", {"ETag": f'"{hexmd5}"'})  # S3 answers a part's MD5 as its ETag
                _record(handler, "PUT artifact part", 200, started)
                return
            fake.blobs.put_stream(read, length, expect=slot.digest)
            etag = '"' + base64.b64decode(slot.digest).hex() + '"'
            handler._send(200, b"", {"ETag": etag})
        elif kind == "manifests":
            fake.set_manifest(unquote(rest), _read_all(handler, _MAX_JSON))
            handler._send(200, b"")
        elif kind == "runs":
            run_path, _, name = unquote(rest).rpartition("/")
            read, length = _reader(handler)
            size = 0
            if length is None:
                while chunk := read(_CHUNK):
                    size += len(chunk)
            else:
                left = max(length, 0)
                while left:
                    chunk = read(min(_CHUNK, left))
                    if not chunk:
                        break
                    size += len(chunk)
                    left -= len(chunk)
            fake.record_run_file(unquote(run_path), name, size)
            handler._send(200, b"")
        else:
            handler.close_connection = True
            _fail(handler, f"PUT {path}", 404, f"no such route: PUT {path}", started)
            return
    except DigestMismatchError as e:
        # What S3/GCS answer for a body that does not match its Content-MD5: 400 BadDigest.
        handler.close_connection = True
        _fail(handler, operation, 400, f"BadDigest: {e}", started)
        return
    except NotFoundError as e:
        handler.close_connection = True
        _fail(handler, operation, 404, str(e), started)
        return
    except (ArtifactGuardError, ValueError) as e:
        handler.close_connection = True
        _fail(handler, operation, 400, str(e), started)
        return
    _record(handler, operation, 200, started)


# ---------------------------------------------------------------------- downloads


def download(handler: _Handler, path: str, started: float) -> None:
    """``GET /artifactsV2/...``: the bytes of the file whose hex MD5 is in the path."""
    fake = handler.server.state.ctx.fake
    digest: str | None = None
    if path.startswith("/artifactsV2/files/"):
        # /artifactsV2/files/<artifact id>/<path>: the entry's digest from the manifest.
        vid, _, name = path.removeprefix("/artifactsV2/files/").partition("/")
        try:
            digest = fake.file_bytes_digest(unquote(vid), unquote(name)).digest
        except NotFoundError as e:
            _fail(handler, "GET file", 404, str(e), started)
            return
    for segment in path.split("/")[2:] if digest is None else ():
        if _HEX_MD5.match(segment):
            digest = base64.b64encode(bytes.fromhex(segment)).decode()
            break
    if digest is None:
        _fail(handler, "GET file", 404, f"no file digest in {path}", started)
        return
    digest = fake.bytes_key(digest)
    size = fake.blobs.size(digest)
    if size is None:
        message = (
            f"the fake W&B server holds no bytes for digest {digest}: the file was logged as "
            "(digest, size) metadata only, or its bytes were garbage-collected"
        )
        _fail(handler, "GET file", 404, message, started)
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    for chunk in fake.blobs.chunks(digest):
        handler.wfile.write(chunk)
    _record(handler, "GET file", 200, started)
