"""--verbose traces each repository call in one short line, whatever the size of a batch."""

from __future__ import annotations

import pytest

from artifact_guard.cli import _Traced


class _Batches:
    def __init__(self) -> None:
        self.got: list[list[str]] = []

    def prefetch_manifests(self, version_ids: list[str]) -> None:
        self.got.append(version_ids)


def test_a_batch_of_ids_is_traced_in_brief_and_passed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    inner = _Batches()
    ids = [f"QXJ0aWZhY3Q6{i:06d}" for i in range(10_000)]
    _Traced(inner).prefetch_manifests(ids)
    (line,) = capsys.readouterr().err.splitlines()
    first = "'QXJ0aWZhY3Q6000000', 'QXJ0aWZhY3Q6000001', 'QXJ0aWZhY3Q6000002'"
    assert line == f"-> prefetch_manifests([{first}, ... 10,000 in all])"
    assert inner.got == [ids]


def test_a_short_argument_is_traced_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    inner = _Batches()
    _Traced(inner).prefetch_manifests(["a", "b"])
    assert capsys.readouterr().err == "-> prefetch_manifests(['a', 'b'])\n"
