"""``responses`` mode: serve (or fail) the SDK's python-``requests`` downloads in-process.

In wandb 0.31 GraphQL goes through the wandb-core sidecar (so only the loopback
:class:`fakes.FakeWandbServer` can answer it), but a manifest's ``directUrl``
is still fetched by python ``requests`` in the calling process. This module
answers those GETs from a :class:`fakes.FakeWandb` with a ``responses`` mock,
and lets a test make chosen downloads fail::

    with fakes.FakeDownloads(fake, base_url=server.url) as downloads:
        downloads.fail(version.id, status=503, times=2)
        ...  # code under test fetches manifests with requests
        assert downloads.calls[0].status == 503

Use it when the code under test runs in the test's own process and you want
download failures without touching the server; use the server alone when the
code runs in a subprocess (``responses`` patches only the current process).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import responses
from requests import PreparedRequest

from artifact_guard._errors import NotFoundError

from ._backend import FakeWandb
from .server._handlers import manifest_json

__all__ = ["DownloadCall", "FakeDownloads", "manifest_url"]

_MANIFEST_PATH = "/artifactsV2/manifests/{id}/wandb_manifest.json"


def manifest_url(base_url: str, version_id: str) -> str:
    """The ``directUrl`` the fake server gives a version's manifest."""
    return base_url.rstrip("/") + _MANIFEST_PATH.format(id=version_id)


@dataclass(frozen=True)
class DownloadCall:
    """One download the mock answered."""

    url: str
    version_id: str
    status: int


@dataclass
class _Failure:
    version_id: str | None
    status: int
    times: int | None
    fired: int = 0


class FakeDownloads:
    """A ``responses`` mock answering manifest downloads from a :class:`FakeWandb`.

    ``base_url`` is the origin the manifest ``directUrl``\\s use (the fake
    server's ``url``). With ``passthru=True`` (default) every other request to
    that origin goes through to the real server, so GraphQL-free helpers of
    the code under test keep working; other hosts are refused, as ``responses``
    does, so a test never reaches the internet by accident.
    """

    def __init__(
        self,
        fake: FakeWandb,
        *,
        base_url: str = "http://fake-wandb.invalid",
        passthru: bool = True,
        mock: responses.RequestsMock | None = None,
    ) -> None:
        self.fake = fake
        self.base_url = base_url.rstrip("/")
        self._passthru = passthru
        self._mock = mock or responses.RequestsMock(assert_all_requests_are_fired=False)
        self._owns_mock = mock is None
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._calls: list[DownloadCall] = []
        pattern = re.escape(self.base_url) + r"/artifactsV2/manifests/([^/?]+)/wandb_manifest\.json"
        self._pattern = re.compile(pattern)

    def __enter__(self) -> FakeDownloads:
        if self._owns_mock:
            self._mock.start()
        self._mock.add_callback(responses.GET, self._pattern, callback=self._answer)
        if self._passthru:
            self._mock.add_passthru(self.base_url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_mock:
            self._mock.stop()
            self._mock.reset()

    def fail(self, version_id: str | None = None, *, status: int = 500, times: int | None = 1) -> None:
        """Answer the next ``times`` downloads (of ``version_id``, or of any version) with ``status``."""
        if not 400 <= status <= 599:
            raise ValueError(f"a failing download needs a 4xx/5xx status, not {status}")
        with self._lock:
            self._failures.append(_Failure(version_id, status, times))

    @property
    def calls(self) -> list[DownloadCall]:
        """Every download answered, oldest first."""
        with self._lock:
            return list(self._calls)

    def url(self, version_id: str) -> str:
        """The manifest URL of a version under this mock's ``base_url``."""
        return manifest_url(self.base_url, version_id)

    def _answer(self, request: PreparedRequest) -> tuple[int, Mapping[str, str], str]:
        url = request.url or ""
        match = self._pattern.match(url)
        vid = match.group(1) if match else ""
        with self._lock:
            for failure in self._failures:
                if failure.version_id not in (None, vid):
                    continue
                if failure.times is not None and failure.fired >= failure.times:
                    continue
                failure.fired += 1
                self._calls.append(DownloadCall(url, vid, failure.status))
                return failure.status, {"Content-Type": "text/plain"}, "injected download failure"
            try:
                body = json.dumps(manifest_json(self.fake, vid))
                status = 200
            except NotFoundError:
                body, status = "manifest not found", 404
            self._calls.append(DownloadCall(url, vid, status))
        return status, {"Content-Type": "application/json"}, body
