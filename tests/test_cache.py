"""The metadata cache: immutable facts only, kept per server, shared safely between threads."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from artifact_guard import JournalError, ManifestEntry, VersionState
from artifact_guard._cache import MetadataCache
from artifact_guard._workspace import connect
from fakes import FakeWandb
from fakes.demo import DEMO_NOW

ENTRIES = (ManifestEntry("a.bin", "AAA==", 4), ManifestEntry("p.parquet", "RRR==", 7, "s3://bucket/p"))


def test_given_a_stored_manifest_when_read_back_then_it_is_equal_and_counted(tmp_path: Path) -> None:
    with MetadataCache(tmp_path / "ws.sqlite3", namespace="http://w") as cache:
        assert cache.manifest("v1") is None
        cache.put_manifests({"v1": ENTRIES}, now=DEMO_NOW)
        assert cache.manifest("v1") == ENTRIES
        assert cache.stats.manifest_hits == 1
        assert cache.stats.manifest_misses == 1
    # Persisted: a new process (a new connection) sees it.
    with MetadataCache(tmp_path / "ws.sqlite3", namespace="http://w") as cache:
        assert cache.manifests(["v1", "v2"]) == {"v1": ENTRIES}


def test_namespaces_never_mix(tmp_path: Path) -> None:
    conn = connect(tmp_path / "ws.sqlite3")
    real = MetadataCache(conn, namespace="https://api.wandb.ai")
    fake = MetadataCache(conn, namespace="http://127.0.0.1:5555")
    real.put_manifests({"same-id": ENTRIES}, now=DEMO_NOW)
    assert fake.manifest("same-id") is None
    fake.clear()
    assert real.manifest("same-id") == ENTRIES


def test_only_committed_versions_are_recorded(tmp_path: Path) -> None:
    fake = FakeWandb(now=DEMO_NOW)
    run = fake.create_run("e/p", "r")
    done = fake.log_artifact(run, "c", "model", {"a": b"a"})
    pending = fake.log_artifact(run, "c", "model", {"b": b"b"}, state="PENDING")
    with MetadataCache(tmp_path / "ws.sqlite3", namespace="n") as cache:
        cache.put_versions([done, pending])
        cached = cache.version(done.id)
        assert cached is not None
        assert (cached.collection, cached.index, cached.producer, cached.created_at) == (
            "c",
            0,
            "e/p/r",
            done.created_at,
        )
        assert cache.version(pending.id) is None
        # Mutable facts are not part of the record: a later state does not matter.
        cache.put_versions([replace(done, state=VersionState.COMMITTED, aliases=frozenset({"x"}))])
        assert cache.counts() == (0, 1)


def test_a_corrupt_row_is_dropped_and_reported_as_a_miss(tmp_path: Path) -> None:
    conn = connect(tmp_path / "ws.sqlite3")
    cache = MetadataCache(conn, namespace="n")
    cache.put_manifests({"v1": ENTRIES}, now=DEMO_NOW)
    conn.execute("UPDATE cache_manifests SET entries = 'not json'")
    assert cache.manifest("v1") is None
    assert cache.counts() == (0, 0)


def test_a_newer_cache_schema_is_refused(tmp_path: Path) -> None:
    conn = connect(tmp_path / "ws.sqlite3")
    MetadataCache(conn, namespace="n")
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'cache'")
    with pytest.raises(JournalError, match="newer"):
        MetadataCache(conn, namespace="n")


def test_concurrent_writers_and_readers_share_one_connection(tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path / "ws.sqlite3", namespace="n")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(50):
                cache.put_manifests({f"v{k}-{i}": ENTRIES}, now=DEMO_NOW)
                assert cache.manifest(f"v{k}-{i}") == ENTRIES
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.counts() == (200, 0)


def test_tables_are_prefixed(tmp_path: Path) -> None:
    MetadataCache(tmp_path / "ws.sqlite3", namespace="n").close()
    conn = sqlite3.connect(tmp_path / "ws.sqlite3")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"cache_manifests", "cache_versions"} <= names
    assert all(n.startswith("cache_") or n == "schema_versions" for n in names)
