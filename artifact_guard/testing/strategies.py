"""Hypothesis strategies that generate W&B project states, for property-testing cleanup logic.

Every strategy is a function returning a strategy; bounds are keyword-only.
:func:`project_specs` draws a plain, printable :class:`ProjectSpec` (what
Hypothesis shows when it shrinks a failure); :func:`project_states` draws the
same spec already built into a fresh ``fakes.FakeWandb``. Generated projects
have several collections, versions sharing stored files, aliases (some
protected), pending versions, TTLs, runs that logged and consumed versions (some
still running), reference entries (``s3://`` and ``wandb-artifact://`` ones to
other versions), and registry links (some protected).

Example: check that a cleanup never breaks a safety rule nor frees a file a
survivor still needs (replace ``my_cleanup`` with your own code)::

    from hypothesis import given

    import artifact_guard as ag
    from artifact_guard.testing import strategies as ags


    def my_cleanup(repo):
        the_plan = ag.plan(repo, ags.PROJECT, ag.Policy(keep_last=2), now=ags.NOW)
        ag.apply(the_plan, repo)


    @given(ags.project_states(max_versions=5))
    def test_cleanup_is_safe(fake):
        before = ag.capture(fake.repository(), ags.PROJECT, dedupe=fake.dedupe, now=fake.now())
        my_cleanup(fake.repository())
        report = ag.audit(before, fake, ag.Policy(keep_last=2))
        assert report.ok, report.explain()
        assert fake.gc() == report.bytes_freed
"""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from .._policy import Policy

if TYPE_CHECKING:
    from fakes import FakeWandb

    from .._model import Version

__all__ = [
    "ENTITY",
    "NOW",
    "PROJECT",
    "CollectionSpec",
    "LinkSpec",
    "ProjectSpec",
    "RunSpec",
    "VersionSpec",
    "policies",
    "project_specs",
    "project_states",
]

ENTITY = "acme"
PROJECT = "acme/cleanup-test"
"""The ``entity/project`` generated states live in."""
NOW = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
"""The frozen clock of built fakes, so age rules are reproducible."""
REGISTRY_PROJECT = "wandb-registry-model"

_TYPES = ("model", "dataset")
_ALIASES = ("best", "production", "staging", "candidate", "exp")
_LINK_ALIASES = ("candidate", "baseline")
_RUN_STATES = ("finished", "finished", "crashed", "running")


@dataclass(frozen=True)
class RunSpec:
    """A run of the project: ``acme/cleanup-test/<id>`` in a W&B run state."""

    id: str
    state: str = "finished"


@dataclass(frozen=True)
class VersionSpec:
    """One version: its files (path -> ``(digest, size)``), aliases, state, age and lineage."""

    files: tuple[tuple[str, str, int], ...]
    age: timedelta
    producer: int
    """Index into :attr:`ProjectSpec.runs`."""
    aliases: tuple[str, ...] = ()
    pending: bool = False
    consumers: tuple[int, ...] = ()
    references: tuple[tuple[str, str, int], ...] = ()
    """``(path, uri, size)`` entries stored outside W&B."""
    depends_on: tuple[tuple[int, int], ...] = ()
    """Earlier versions this one references (``wandb-artifact://``), as (collection, version) indexes."""
    ttl: timedelta | None = None


@dataclass(frozen=True)
class CollectionSpec:
    """A source collection and its versions, oldest first."""

    name: str
    type: str
    versions: tuple[VersionSpec, ...]


@dataclass(frozen=True)
class LinkSpec:
    """A registry link of version ``index`` of collection ``collection`` (indexes into the spec)."""

    collection: int
    index: int
    portfolio: str
    aliases: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectSpec:
    """A whole generated project; :meth:`build` makes it a fresh ``FakeWandb``."""

    runs: tuple[RunSpec, ...]
    collections: tuple[CollectionSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    dedupe: str = "collection"
    now: datetime = NOW
    project: str = PROJECT

    def build(self) -> FakeWandb:
        """A new ``fakes.FakeWandb`` holding this project (clock frozen at :attr:`now`)."""
        from fakes import FakeWandb

        fake = FakeWandb(dedupe=self.dedupe, now=self.now)  # type: ignore[arg-type]
        runs = [fake.create_run(self.project, r.id) for r in self.runs]
        logged: list[list[Version]] = []
        for coll in self.collections:
            versions: list[Version] = []
            for spec in coll.versions:
                deps = []
                for k, (c, i) in enumerate(spec.depends_on):
                    target = (versions if c == len(logged) else logged[c])[i]
                    deps.append((f"dep-{k}.bin", f"wandb-artifact://{b64decode(target.id).hex()}/a"))
                v = fake.log_artifact(
                    runs[spec.producer],
                    coll.name,
                    coll.type,
                    {path: (digest, size) for path, digest, size in spec.files},
                    aliases=spec.aliases,
                    references=[*spec.references, *deps],
                    state="PENDING" if spec.pending else "COMMITTED",
                    created_at=self.now - spec.age,
                    ttl=spec.ttl,
                )
                for consumer in spec.consumers:
                    fake.use_artifact(runs[consumer], v)
                versions.append(v)
            logged.append(versions)
        for link in self.links:
            fake.link(
                logged[link.collection][link.index],
                link.portfolio,
                aliases=link.aliases,
                protected=link.protected,
            )
        # Run states last: a run still running is one whose versions are in flight.
        for r, run in zip(self.runs, runs, strict=True):
            if r.state != "finished":
                fake.finish_run(run, r.state)
        return fake


_ttls = st.integers(1, 24 * 120).map(lambda h: timedelta(hours=h))


def _blob_pool(max_files: int) -> st.SearchStrategy[list[tuple[str, int]]]:
    digest = st.integers(min_value=0, max_value=2**64 - 1).map(lambda n: f"{n:016x}AAAAAAAA==")
    size = st.integers(min_value=1, max_value=10_000_000)
    return st.lists(
        st.tuples(digest, size), min_size=1, max_size=max(2, max_files * 2), unique_by=lambda b: b[0]
    )


@st.composite
def _project_spec(
    draw: st.DrawFn,
    *,
    max_collections: int,
    max_versions: int,
    max_files: int,
    max_runs: int,
    max_links: int,
    dedupe: Sequence[str],
    now: datetime,
) -> ProjectSpec:
    runs = draw(
        st.lists(st.sampled_from(_RUN_STATES), min_size=1, max_size=max_runs).map(
            lambda states: tuple(RunSpec(f"run-{i}", s) for i, s in enumerate(states))
        )
    )
    pool = draw(_blob_pool(max_files))
    names = draw(
        st.lists(
            st.sampled_from(("ckpt", "data", "eval", "embed", "tok", "cfg")),
            min_size=1,
            max_size=max_collections,
            unique=True,
        )
    )
    run_index = st.integers(min_value=0, max_value=len(runs) - 1)
    collections: list[CollectionSpec] = []
    for name in names:
        n = draw(st.integers(min_value=1, max_value=max_versions))
        # Older versions first: ages strictly decrease with the index, as logging order implies.
        hours = draw(st.lists(st.integers(0, 24 * 90), min_size=n, max_size=n, unique=True))
        hours.sort(reverse=True)
        versions: list[VersionSpec] = []
        for age in hours:
            # A reference to a version logged earlier: an earlier collection's, or this one's.
            earlier = [(c, i) for c, cs in enumerate(collections) for i in range(len(cs.versions))]
            earlier += [(len(collections), i) for i in range(len(versions))]
            depends_on = tuple(draw(st.lists(st.sampled_from(earlier), max_size=1))) if earlier else ()
            picked = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_files, unique=True))
            files = tuple((f"file-{i}.bin", d, s) for i, (d, s) in enumerate(picked))
            refs = draw(
                st.lists(
                    st.integers(0, 99).map(
                        lambda k: (f"ref-{k}.parquet", f"s3://bucket/{k}", 1000 * (k + 1))
                    ),
                    max_size=1,
                    unique_by=lambda r: r[0],
                )
            )
            versions.append(
                VersionSpec(
                    files=files,
                    age=timedelta(hours=age, minutes=draw(st.integers(0, 59))),
                    producer=draw(run_index),
                    aliases=tuple(draw(st.lists(st.sampled_from(_ALIASES), max_size=2, unique=True))),
                    pending=draw(st.integers(0, 4)) == 0,
                    consumers=tuple(draw(st.lists(run_index, max_size=2, unique=True))),
                    references=tuple(refs),
                    depends_on=depends_on,
                    ttl=draw(st.sampled_from((None, None, None, None)) | _ttls),
                )
            )
        collections.append(
            CollectionSpec(name, draw(st.sampled_from(_TYPES)), tuple(versions)),
        )
    links: list[LinkSpec] = []
    portfolios_with_protected: set[str] = set()
    linked: set[tuple[int, int, str]] = set()
    for _ in range(draw(st.integers(0, max_links))):
        ci = draw(st.integers(0, len(collections) - 1))
        vi = draw(st.integers(0, len(collections[ci].versions) - 1))
        portfolio = f"{ENTITY}/{REGISTRY_PROJECT}/{draw(st.sampled_from(('detector', 'encoder')))}"
        if (ci, vi, portfolio) in linked:
            continue
        linked.add((ci, vi, portfolio))
        # A protected alias can only be held by one link per portfolio: W&B
        # refuses to move it, so a second one would make an unbuildable spec.
        protected: tuple[str, ...] = ()
        if portfolio not in portfolios_with_protected and draw(st.booleans()):
            protected = ("production",)
            portfolios_with_protected.add(portfolio)
        aliases = tuple(draw(st.lists(st.sampled_from(_LINK_ALIASES), max_size=1)))
        links.append(LinkSpec(ci, vi, portfolio, aliases, protected))
    return ProjectSpec(
        runs=runs,
        collections=tuple(collections),
        links=tuple(links),
        dedupe=draw(st.sampled_from(tuple(dedupe))),
        now=now,
    )


def project_specs(
    *,
    max_collections: int = 3,
    max_versions: int = 6,
    max_files: int = 3,
    max_runs: int = 3,
    max_links: int = 2,
    dedupe: Sequence[str] = ("collection", "project"),
    now: datetime = NOW,
) -> st.SearchStrategy[ProjectSpec]:
    """Project descriptions (:class:`ProjectSpec`), printable and shrinkable; ``.build()`` each.

    ``dedupe`` lists the storage-sharing scopes to draw from (``collection``,
    ``project``, ``entity``).
    """
    for name, bound in (
        ("max_collections", max_collections),
        ("max_versions", max_versions),
        ("max_files", max_files),
        ("max_runs", max_runs),
    ):
        if bound < 1:
            raise ValueError(f"{name} must be at least 1, got {bound}")
    if max_links < 0:
        raise ValueError(f"max_links must be at least 0, got {max_links}")
    if not dedupe or any(d not in ("collection", "project", "entity") for d in dedupe):
        raise ValueError(f"dedupe must list collection, project or entity, got {list(dedupe)}")
    return _project_spec(
        max_collections=max_collections,
        max_versions=max_versions,
        max_files=max_files,
        max_runs=max_runs,
        max_links=max_links,
        dedupe=tuple(dedupe),
        now=now,
    )


def project_states(
    *,
    max_collections: int = 3,
    max_versions: int = 6,
    max_files: int = 3,
    max_runs: int = 3,
    max_links: int = 2,
    dedupe: Sequence[str] = ("collection", "project"),
    now: datetime = NOW,
) -> st.SearchStrategy[FakeWandb]:
    """Fresh ``fakes.FakeWandb`` objects holding a generated project in :data:`PROJECT`.

    Same bounds as :func:`project_specs`; each example is a new fake, so tests
    may change it freely.
    """
    return project_specs(
        max_collections=max_collections,
        max_versions=max_versions,
        max_files=max_files,
        max_runs=max_runs,
        max_links=max_links,
        dedupe=dedupe,
        now=now,
    ).map(lambda spec: spec.build())


def policies(*, max_keep_last: int = 5) -> st.SearchStrategy[Policy]:
    """Valid retention policies that keep something (so :func:`artifact_guard.plan` accepts them)."""
    days = st.integers(0, 60).map(lambda d: timedelta(days=d))
    return st.builds(
        Policy,
        keep_last=st.integers(1, max_keep_last),
        older_than=st.none() | days,
        aliases=st.sampled_from(("any", "unaliased")),
        allow_delete_aliases=st.booleans(),
        allow_consumed=st.booleans(),
        allow_registry_linked=st.booleans(),
        allow_referenced=st.booleans(),
        grace_period=st.sampled_from((timedelta(0), timedelta(hours=24), timedelta(days=7))),
    )
