"""Lockstep: FakeRepository and WandbRepository-over-the-fake-server agree after every operation.

In the manner of hypothesis' ``DatabaseComparison``: one state machine applies
every operation to two worlds that start identical, one read in memory, one
through the real wandb SDK, wandb-core and HTTP, and an ``@invariant`` checks
after every step that both repositories report the same state, and that every
operation either succeeded in both or failed in both with the same error type.

Examples are few in ``ci`` (each step costs real HTTP requests) and many in
``nightly``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from artifact_guard import ArtifactGuardError, CollectionKind, CollectionRef, Link, Scope
from fakes import FakeWandb

from .conftest import NOW, wandb_repository

SCOPE = Scope("team", "proj")
COLLECTIONS = ("model", "data", "preds")
TYPES = {"model": "model", "data": "dataset", "preds": "predictions"}
BLOBS = [f"blob-{i}".encode() for i in range(4)]
ALIASES = ("best", "prod", "keep")
REGISTRIES = ("team/wandb-registry-model/reg", "team/wandb-registry-model/other")


def _links(links: tuple[Link, ...]) -> list[tuple[str, int, frozenset[str], frozenset[str]]]:
    # Protected aliases are read from the wire too (Entity.protectedAliases), so both must agree on them.
    return [(str(lk.portfolio), lk.index, lk.aliases, lk.protected_aliases) for lk in links]


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except ArtifactGuardError as e:
        return ("error", type(e).__name__)
    except ValueError:
        return ("error", "ValueError")


class Lockstep(RuleBasedStateMachine):
    """Two worlds, one sequence of operations."""

    server: Any = None

    versions = Bundle("versions")

    def __init__(self) -> None:
        super().__init__()
        server = type(self).server
        server.reset()
        self.left = FakeWandb(now=NOW)
        self.right: FakeWandb = server.fake
        self.left_repo = self.left.repository()
        self.right_repo = wandb_repository(server, page_size=4, collections_per_page=2)
        self.ids: list[str] = []
        self.step = 0
        for fake in (self.left, self.right):
            fake.create_run("team/proj", "done")
            fake.create_run("team/proj", "live", state="running")

    def _both(self, action: Any) -> tuple[str, Any]:
        """Apply ``action(fake)`` to both backends; both must agree on success or error type."""
        a, b = _outcome(lambda: action(self.left)), _outcome(lambda: action(self.right))
        assert (a[0], a[1] if a[0] == "error" else None) == (b[0], b[1] if b[0] == "error" else None)
        return a

    def _through_repos(self, action: Any) -> None:
        a, b = _outcome(lambda: action(self.left_repo)), _outcome(lambda: action(self.right_repo))
        assert a == b, f"FakeRepository: {a}, WandbRepository: {b}"

    # ------------------------------------------------------------------ builder operations (ground truth)

    @rule(
        target=versions,
        collection=st.sampled_from(COLLECTIONS),
        blobs=st.sets(st.sampled_from(range(len(BLOBS))), max_size=3),
        aliases=st.sets(st.sampled_from(ALIASES), max_size=2),
        pending=st.booleans(),
        live=st.booleans(),
    )
    def log(self, collection: str, blobs: set[int], aliases: set[str], pending: bool, live: bool) -> str:
        self.step += 1
        run = "team/proj/live" if live else "team/proj/done"
        files = {f"f{i}.bin": BLOBS[i] for i in sorted(blobs)}
        outcome = self._both(
            lambda fake: (
                fake.log_artifact(
                    run,
                    collection,
                    TYPES[collection],
                    files,
                    aliases=sorted(aliases),
                    references=[("r.parquet", f"s3://b/{self.step}", 5)] if collection == "preds" else (),
                    state="PENDING" if pending else "COMMITTED",
                    created_at=NOW - timedelta(hours=100 - self.step),
                ).id
            )
        )
        vid = str(outcome[1])
        self.ids.append(vid)
        return vid

    @rule(version=versions, live=st.booleans())
    def use(self, version: str, live: bool) -> None:
        run = "team/proj/live" if live else "team/proj/done"
        self._both(lambda fake: fake.use_artifact(run, version))

    @rule(version=versions, alias=st.sampled_from(ALIASES))
    def add_alias(self, version: str, alias: str) -> None:
        self._both(lambda fake: fake.add_aliases(version, [alias]))

    @rule(version=versions, registry=st.sampled_from(REGISTRIES), protected=st.booleans())
    def link(self, version: str, registry: str, protected: bool) -> None:
        self._both(
            lambda fake: fake.link(
                version, registry, aliases=["cand"], protected=["gold"] if protected else []
            )
        )

    @rule(alias=st.sampled_from(("cand", "gold")), protect=st.booleans())
    def protect(self, alias: str, protect: bool) -> None:
        # An admin protects (or unprotects) an alias in the registries' entity, after links were made.
        if protect:
            self._both(lambda fake: fake.add_protected_aliases("team", [alias]))
        else:
            self._both(lambda fake: fake.remove_protected_aliases("team", [alias]))

    @rule(version=versions)
    def commit(self, version: str) -> None:
        self._both(lambda fake: fake.commit(version))

    # ------------------------------------------------------------------ repository operations (under test)

    @rule(version=consumes(versions), delete_aliases=st.booleans())
    def delete_version(self, version: str, delete_aliases: bool) -> None:
        self._through_repos(lambda repo: repo.delete_version(version, delete_aliases=delete_aliases))

    @rule(collection=st.sampled_from((*COLLECTIONS, "missing")))
    def delete_collection(self, collection: str) -> None:
        self._through_repos(lambda repo: repo.delete_collection(CollectionRef("team", "proj", collection)))

    @rule(registry=st.sampled_from(REGISTRIES))
    def delete_registry(self, registry: str) -> None:
        ref = CollectionRef.parse(registry, CollectionKind.PORTFOLIO)
        self._through_repos(lambda repo: repo.delete_collection(ref))

    @rule(version=versions, aliases=st.sets(st.sampled_from(ALIASES), min_size=1, max_size=2))
    def remove_aliases(self, version: str, aliases: set[str]) -> None:
        self._through_repos(lambda repo: repo.remove_aliases(version, sorted(aliases)))

    # ------------------------------------------------------------------ agreement

    @invariant()
    def both_repositories_report_the_same_state(self) -> None:
        left = sorted(self.left_repo.versions(SCOPE), key=lambda v: v.id)
        right = sorted(self.right_repo.versions(SCOPE), key=lambda v: v.id)
        assert left == right
        for v in left:
            assert self.left_repo.lineage(v.id) == self.right_repo.lineage(v.id)
            assert _links(self.left_repo.links(v.id)) == _links(self.right_repo.links(v.id))
            assert self.left_repo.manifest(v.id) == self.right_repo.manifest(v.id)
        for vid in self.ids:
            assert _outcome(lambda vid=vid: self.left_repo.version(vid)) == _outcome(
                lambda vid=vid: self.right_repo.version(vid)
            )


def _examples() -> int:
    # Each step costs real HTTP requests through wandb-core: a tenth of the profile's examples.
    return min(max(5, settings.default.max_examples // 10), 300)


@pytest.mark.server
@pytest.mark.timeout(600)
def test_fake_and_wandb_repositories_agree_in_lockstep(fake_server: Any) -> None:
    Lockstep.server = fake_server
    try:
        run_state_machine_as_test(
            Lockstep,
            settings=settings(
                max_examples=_examples(),
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        Lockstep.server = None
