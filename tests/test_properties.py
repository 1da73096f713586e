"""Property tests: the five invariants of DESIGN.md over random histories and random policies.

A hypothesis state machine builds a random W&B project in a :class:`FakeWandb` (runs log and use
versions whose files are shared between versions and collections, aliases are added, moved and
removed, versions are linked into the registry with and without protected aliases, runs finish,
pending versions commit (or never do), versions reference other versions' files with
``wandb-artifact://`` / ``wandb-client-artifact://`` entries (same collection, other collection, other
project), TTLs are set and cleared and the clock advances past them, versions, collections and runs
are deleted), and at any step plans a random policy, applies it through :class:`FakeRepository` and
garbage-collects. After every step:

1. every file of every surviving version is still stored;
2. bytes freed by GC equal the plan's predicted reclaimable bytes;
3. no version blocked by a rule was deleted; every version deleted was in the plan;
4. re-planning with the same policy (and clock) deletes nothing more;
5. a dry run makes no write call: planning through ``FakeRepository`` records none, and applying
   through ``ReadOnlyRepository`` raises :class:`ReadOnlyViolation` and changes nothing;

and the rules of issue 10: the newest ``keep_last`` *committed* versions stay; a collection that had a
survivor (committed, its TTL outlasting the grace period) keeps one unless ``last-version`` is waived;
no surviving version of the project references a version the plan deleted (unless ``referenced`` is
waived); a collection named literally and emptied earlier plans as empty. ``PLANTED_BUGS`` puts each
class of defect back into the planner and checks that these examples catch it.

Every dedupe scope is exercised (the fake's and the plan's agree; ``entity`` reads the other
project). The fake keeps W&B's behaviour of not moving ``latest`` on delete: idempotence is defined
under that assumption (see ``plan``'s docstring and
``test_idempotence_assumes_deleting_does_not_move_aliases``).
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import artifact_guard as ag
from artifact_guard import (
    AliasedVersionError,
    ConflictError,
    EmptyPolicyError,
    NotFoundError,
    Policy,
    ProtectedAliasError,
    ReadOnlyRepository,
    ReadOnlyViolation,
    Run,
    VersionState,
)
from artifact_guard._rules import outlives, reference_target
from fakes import FakeWandb

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PROJECT = "e/p"
OTHER_PROJECT = "e/q"
# Collection name -> type: a collection keeps one type for its whole life.
COLLECTIONS = {"ckpt-a": "model", "ckpt-b": "model", "data": "dataset"}
# A small pool of digests, each with one fixed size (a digest is the hash of the content).
DIGESTS = [(f"digest-{i:02d}==", 100 * (i + 1)) for i in range(14)]
ALIASES = ["best", "candidate", "production", "exp"]
PORTFOLIOS = ["e/wandb-registry-model/champion", "e/wandb-registry-model/archive"]

hours = st.integers(min_value=0, max_value=96).map(lambda h: timedelta(hours=h))
optional_hours = st.none() | hours


@st.composite
def file_sets(draw: st.DrawFn) -> dict[str, tuple[str, int]]:
    """Up to four files; two paths may share one digest."""
    picks = draw(st.lists(st.sampled_from(DIGESTS), min_size=0, max_size=4))
    return {f"file-{i}.bin": pick for i, pick in enumerate(picks)}


policies = st.builds(
    Policy,
    types=st.sampled_from([(), ("model",), ("dataset",), ("model", "dataset")]),
    collections=st.sampled_from([(), ("ckpt-*",), ("data",), ("ckpt-[ab]", "data")]),
    exclude_collections=st.sampled_from([(), ("ckpt-b",)]),
    aliases=st.sampled_from(["any", "unaliased", "aliased"]),
    keep_last=st.none() | st.integers(min_value=0, max_value=4),
    keep_within=optional_hours,
    older_than=optional_hours,
    protected_aliases=st.sampled_from([ag.DEFAULT_PROTECTED_ALIASES, frozenset(), frozenset({"candidate"})]),
    allow_delete_aliases=st.booleans(),
    allow_consumed=st.booleans(),
    allow_registry_linked=st.booleans(),
    allow_empty_collection=st.booleans(),
    allow_referenced=st.booleans(),
    grace_period=st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(hours=24)]),
    waive=st.sampled_from(
        [frozenset(), frozenset({"consumed"}), frozenset({"last-version", "grace-period"})]
    ),
    allow_empty=st.booleans(),
)


def check_survivors(
    policy: Policy, now: datetime, before: dict[str, ag.Version], after: dict[str, ag.Version]
) -> None:
    """keep_last's newest committed versions stay; a collection that had a survivor (committed, TTL
    outlasting the grace period) keeps one unless last-version is waived."""
    horizon = timedelta(0) if policy.waived("grace-period") else policy.grace_period
    by_collection: dict[str, list[ag.Version]] = {}
    for v in before.values():
        by_collection.setdefault(v.collection, []).append(v)
    for name, vs in by_collection.items():
        if not policy.selects_collection(vs[0].type, name):
            assert all(v.id in after for v in vs), f"{name}: not selected, yet changed"
            continue
        committed = sorted((v for v in vs if v.state is VersionState.COMMITTED), key=lambda v: -v.index)
        newest = committed[: policy.keep_last or 0]
        assert all(v.id in after for v in newest), f"{name}: one of the newest {policy.keep_last} deleted"
        if policy.waived("last-version"):
            continue
        had = any(outlives(v, now, horizon) for v in vs)
        has = any(outlives(v, now, horizon) for v in after.values() if v.collection == name)
        assert has or not had, f"{name}: left without a survivor (PENDING or expiring versions only)"


def check_no_reference_broken(fake: FakeWandb, deleted: set[str]) -> None:
    """No surviving version, of this project or the other, points (``wandb-artifact://``) at a version
    the plan deleted. (The other project's referrers are seen through the fake's optional
    ``referenced`` read; through the Protocol alone they are not, as documented.)"""
    clients = {v.client_id: v.id for v in fake.versions(True) if v.client_id}
    for v in fake.versions():
        for e in fake.manifest(v.id):
            target = reference_target(e.ref)
            if target is None:
                continue
            tid = target[1] if target[0] == "id" else clients.get(target[1])
            assert tid not in deleted, f"{v.qualified_name} references deleted {tid}"


# A routine clean-up (keep the newest few, no age clauses): what most real policies are, and what
# reaches the rules that look across versions (last-version, referenced) most often.
routine_policies = st.builds(
    Policy,
    keep_last=st.sampled_from([0, 1, 1, 1, 2, 3]),
    allow_empty=st.just(True),
    protected_aliases=st.sampled_from([ag.DEFAULT_PROTECTED_ALIASES, frozenset()]),
    allow_delete_aliases=st.booleans(),
    allow_consumed=st.booleans(),
    allow_referenced=st.booleans(),
    grace_period=st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(hours=24)]),
)
any_policies = policies | routine_policies


class ProjectHistory(RuleBasedStateMachine):
    """Random W&B histories, with plan -> apply -> GC at any step."""

    runs = Bundle("runs")
    versions = Bundle("versions")
    links = Bundle("links")

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeWandb(now=NOW)
        self.dedupe: ag._planner.PlanDedupe = "collection"
        self.plans_checked = 0
        self.applies = 0
        # The executor journals every apply in SQLite; on tmpfs that costs ~7 ms instead of ~60 ms of
        # fsyncs, which is what keeps hundreds of examples inside the CI budget.
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.journals = tempfile.mkdtemp(prefix="ag-props-", dir=shm)

    def teardown(self) -> None:
        shutil.rmtree(self.journals, ignore_errors=True)

    def _journal(self) -> str:
        self.applies += 1
        return os.path.join(self.journals, f"journal-{self.applies}.db")

    @initialize(
        target=runs,
        dedupe=st.sampled_from(["collection", "project", "entity"]),
        seed_counts=st.lists(st.integers(min_value=0, max_value=6), min_size=3, max_size=3),
        seed_ttl=st.none() | st.tuples(st.sampled_from(sorted(COLLECTIONS)), st.integers(-12, 30)),
        seed_pending=st.none() | st.sampled_from(sorted(COLLECTIONS)),
    )
    def start(
        self,
        dedupe: ag._planner.PlanDedupe,
        seed_counts: list[int],
        seed_ttl: tuple[str, int] | None,
        seed_pending: str | None,
    ) -> Run:
        self.fake = FakeWandb(now=NOW, dedupe=dedupe)
        self.dedupe = dedupe
        # The project exists from the start; a second project shares digests but never the plan.
        neighbour = self.fake.create_run(OTHER_PROJECT, "neighbour")
        self.fake.log_artifact(neighbour, "ckpt-a", "model", {"shared.bin": DIGESTS[0]}, created_at=NOW)
        first = self.fake.create_run(PROJECT, "first")
        # A history to start from, so that most examples plan over something.
        for n, (collection, count) in enumerate(zip(sorted(COLLECTIONS), seed_counts, strict=True)):
            self.log_series(first, collection, count, start=3 * n, oldest=24 + 8 * count)
        if seed_ttl is not None:
            # The newest version (the one keep_last keeps) runs out soon: is it still a survivor?
            self.set_ttl(seed_ttl[0], 0, timedelta(hours=seed_ttl[1]))
        if seed_pending is not None:
            # An upload still in progress on top: it must take no keep slot and be no survivor.
            self.fake.log_artifact(
                first,
                seed_pending,
                COLLECTIONS[seed_pending],
                {"upload.bin": DIGESTS[-1]},
                state="PENDING",
                created_at=NOW - timedelta(hours=30),
            )
        return first

    # ------------------------------------------------------------------ history

    @rule(target=runs, running=st.booleans(), other=st.booleans())
    def create_run(self, running: bool, other: bool) -> Run:
        return self.fake.create_run(
            OTHER_PROJECT if other else PROJECT, state="running" if running else "finished"
        )

    @rule(run=runs)
    def finish_run(self, run: Run) -> None:
        if run.path in {r.path for r in self.fake.runs()}:
            self.fake.finish_run(run)

    @rule(
        target=versions,
        run=runs,
        collection=st.sampled_from(sorted(COLLECTIONS)),
        files=file_sets(),
        aliases=st.sets(st.sampled_from(ALIASES), max_size=2),
        pending=st.booleans(),
        age=hours,
        reference=st.booleans(),
    )
    def log(
        self,
        run: Run,
        collection: str,
        files: dict[str, tuple[str, int]],
        aliases: set[str],
        pending: bool,
        age: timedelta,
        reference: bool,
    ) -> str:
        if run.path not in {r.path for r in self.fake.runs()}:
            return "unknown-version-id"
        refs = [("ref.parquet", f"s3://bucket/{len(self.fake.versions(True))}", 5_000)] if reference else []
        v = self.fake.log_artifact(
            run,
            collection,
            COLLECTIONS[collection],
            files,
            aliases=sorted(aliases),
            references=refs,
            state="PENDING" if pending else "COMMITTED",
            created_at=self.fake.now() - age,
            client_id=f"client-{len(self.fake.versions(True))}",
        )
        return v.id

    @rule(
        target=versions,
        run=runs,
        collection=st.sampled_from(sorted(COLLECTIONS)),
        count=st.integers(min_value=1, max_value=8),
        start=st.integers(min_value=0, max_value=len(DIGESTS) - 1),
        oldest=st.integers(min_value=0, max_value=96),
    )
    def log_series(self, run: Run, collection: str, count: int, start: int, oldest: int) -> str:
        """A run logs several versions in a row, each sharing half its files with the one before."""
        vid = "unknown-version-id"
        if run.path not in {r.path for r in self.fake.runs()}:
            return vid
        for i in range(count):
            picks = [DIGESTS[(start + i + k) % len(DIGESTS)] for k in range(2)]
            files = {f"shard-{k}": pick for k, pick in enumerate(picks)}
            age = timedelta(hours=max(0, oldest - 6 * i))
            vid = self.fake.log_artifact(
                run, collection, COLLECTIONS[collection], files, created_at=self.fake.now() - age
            ).id
        return vid

    def _live(self, vid: str) -> bool:
        try:
            return self.fake.version(vid).state is not VersionState.DELETED
        except NotFoundError:
            return False

    @rule(run=runs, vid=versions)
    def use(self, run: Run, vid: str) -> None:
        """A run consumes a version (runs of both projects do)."""
        if self._live(vid) and run.path in {r.path for r in self.fake.runs()}:
            self.fake.use_artifact(run, vid)

    def _pick(self, collection: str, position: int, project: str = PROJECT) -> str | None:
        """A live version of a collection by position, newest first (wrapping): reaches the seeded
        history too, which no bundle holds."""
        live = sorted(
            (v for v in self.fake.versions(scope=project) if v.collection == collection),
            key=lambda v: -v.index,
        )
        return live[position % len(live)].id if live else None

    @rule(
        target=versions,
        run=runs,
        collection=st.sampled_from(sorted(COLLECTIONS)),
        points_at=st.lists(
            st.tuples(st.sampled_from(sorted(COLLECTIONS)), st.integers(0, 8), st.booleans()),
            min_size=1,
            max_size=2,
        ),
        form=st.sampled_from(["hex", "id", "client"]),
        pending=st.booleans(),
        age=hours,
    )
    def log_referrer(
        self,
        run: Run,
        collection: str,
        points_at: list[tuple[str, int, bool]],
        form: str,
        pending: bool,
        age: timedelta,
    ) -> str:
        """A version whose manifest points at other versions' files (``wandb-artifact://``): in the same
        collection or another, in this project or the other (and logged by a run of either)."""
        if run.path not in {r.path for r in self.fake.runs()}:
            return "unknown-version-id"
        refs = []
        for i, (target_collection, position, other) in enumerate(points_at):
            tid = self._pick(target_collection, position, OTHER_PROJECT if other else PROJECT)
            if tid is None:
                continue
            target = self.fake.version(tid)
            if form == "client" and target.client_id:
                uri = f"wandb-client-artifact://{target.client_id}/file-0.bin"
            elif form == "id":
                uri = f"wandb-artifact://{tid}/file-0.bin"
            else:
                uri = f"wandb-artifact://{base64.b64decode(tid).hex()}/file-0.bin"
            refs.append((f"dep-{i}.bin", uri))
        v = self.fake.log_artifact(
            run,
            collection,
            COLLECTIONS[collection],
            {"own.bin": DIGESTS[len(refs) % len(DIGESTS)]},
            references=refs,
            state="PENDING" if pending else "COMMITTED",
            created_at=self.fake.now() - age,
        )
        return v.id

    @rule(
        collection=st.sampled_from(sorted(COLLECTIONS)),
        position=st.just(0) | st.integers(0, 8),
        remaining=st.none() | st.integers(min_value=-12, max_value=48).map(lambda h: timedelta(hours=h)),
    )
    def set_ttl(self, collection: str, position: int, remaining: timedelta | None) -> None:
        """Set (to run out ``remaining`` from now) or clear a TTL: a deferred deletion (refused on a
        registry-linked version). Position 0, the newest, is the one keep_last keeps."""
        vid = self._pick(collection, position)
        if vid is None:
            return
        ttl = None
        if remaining is not None:
            ttl = max(timedelta(0), self.fake.now() - self.fake.version(vid).created_at + remaining)
        try:
            self.fake.set_ttl(vid, ttl)
        except ConflictError:
            assert ttl is not None and self.fake.links(vid)
        else:
            assert self.fake.version(vid).ttl == ttl

    @rule(delta=st.integers(min_value=1, max_value=48).map(lambda h: timedelta(hours=h)))
    def advance_time(self, delta: timedelta) -> None:
        before = self.fake.now()
        self.fake.advance(delta)
        assert self.fake.now() == before + delta

    @rule()
    def expire_ttl(self) -> None:
        now = self.fake.now()
        due = {
            v.id
            for v in self.fake.versions()
            if v.ttl is not None
            and now - v.created_at >= v.ttl
            and not any(link.protected_aliases for link in self.fake.links(v.id))
        }
        assert {v.id for v in self.fake.expire_ttl()} == due
        assert not due & {v.id for v in self.fake.versions()}

    @rule(vid=versions)
    def commit(self, vid: str) -> None:
        if self._live(vid):
            self.fake.commit(vid)

    @rule(vid=versions, alias=st.sampled_from(ALIASES))
    def move_alias(self, vid: str, alias: str) -> None:
        if self._live(vid):
            self.fake.add_aliases(vid, [alias])
            assert alias in self.fake.version(vid).aliases

    @rule(vid=versions, alias=st.sampled_from([*ALIASES, "latest"]))
    def remove_alias(self, vid: str, alias: str) -> None:
        if self._live(vid):
            self.fake.remove_aliases(vid, [alias])
            assert alias not in self.fake.version(vid).aliases

    @rule(
        target=links,
        vid=versions,
        portfolio=st.sampled_from(PORTFOLIOS),
        protected=st.booleans(),
        alias=st.sampled_from(["staging", "candidate", "v-next"]),
    )
    def link(self, vid: str, portfolio: str, protected: bool, alias: str) -> ag.Link | None:
        if not self._live(vid):
            return None
        try:
            return self.fake.link(vid, portfolio, aliases=[alias], protected=["locked"] if protected else [])
        except (ConflictError, ProtectedAliasError):
            return None

    @rule(link=consumes(links))
    def unlink(self, link: ag.Link | None) -> None:
        if link is None:
            return
        try:
            self.fake.unlink(link)
        except ProtectedAliasError:
            assert link.protected_aliases
        except NotFoundError:
            pass  # already gone with its portfolio

    @rule(vid=versions, delete_aliases=st.booleans())
    def delete_version(self, vid: str, delete_aliases: bool) -> None:
        if not self._live(vid):
            return
        before = self.fake.version(vid)
        try:
            self.fake.delete_version(vid, delete_aliases=delete_aliases)
        except AliasedVersionError:
            assert before.aliases and not delete_aliases
        except ProtectedAliasError:
            assert any(link.protected_aliases for link in self.fake.links(vid))
        else:
            assert self.fake.version(vid).state is VersionState.DELETED

    @rule(collection=st.sampled_from(sorted(COLLECTIONS)))
    def delete_collection(self, collection: str) -> None:
        before = self.fake.versions(scope=PROJECT)
        try:
            self.fake.delete_collection(f"{PROJECT}/{collection}")
        except ProtectedAliasError:
            assert self.fake.versions(scope=PROJECT) == before  # refused whole: nothing deleted
        except NotFoundError:
            assert not any(v.collection == collection for v in before)
        else:
            assert not any(v.collection == collection for v in self.fake.versions(scope=PROJECT))

    @rule(run=runs, delete_artifacts=st.booleans())
    def delete_run(self, run: Run, delete_artifacts: bool) -> None:
        before = self.fake.versions()
        try:
            self.fake.delete_run(run, delete_artifacts=delete_artifacts)
        except ProtectedAliasError:
            assert delete_artifacts
            assert self.fake.versions() == before  # refused whole: nothing deleted
        except NotFoundError:
            pass  # deleted earlier
        else:
            survivors = self.fake.versions()
            if delete_artifacts:
                assert not any(v.producer == run.path for v in survivors)
            else:
                assert survivors == before

    @rule()
    def gc(self) -> None:
        self.fake.gc()

    # ------------------------------------------------------------------ plan, apply, GC

    def _has_versions(self) -> bool:
        return bool(self.fake.versions(scope=PROJECT))

    @precondition(_has_versions)
    @rule(policy=any_policies, through_read_only=st.booleans(), neighbours_removed=st.booleans())
    def plan_apply_gc(self, policy: Policy, through_read_only: bool, neighbours_removed: bool) -> None:
        fake = self.fake
        # Sometimes the caller says it removes the other project's runs: their use does not block.
        removed = (
            [r.path for r in fake.runs() if r.path.startswith(f"{OTHER_PROJECT}/")]
            if neighbours_removed
            else []
        )
        fake.gc()  # garbage left by earlier deletes is not this plan's to predict
        repo = fake.repository()
        survivors_before = {v.id: v for v in fake.versions(scope=PROJECT)}
        stored_before = fake.stored_objects()
        planned_through = ReadOnlyRepository(repo) if through_read_only else repo
        now = fake.now()
        try:
            the_plan = ag.plan(
                planned_through, PROJECT, policy, now=now, dedupe=self.dedupe, removed_runs=removed
            )
        except EmptyPolicyError:
            assert not policy.keeps_something and not policy.allow_empty
            assert repo.write_calls == []
            return
        except NotFoundError as exc:
            # A literal collection name that names no surviving collection is refused, by name.
            literal = [c for c in policy.collections if not any(ch in c for ch in "*?[")]
            assert literal and any(repr(c) in str(exc) for c in literal)
            # ... and only one that never existed: an emptied collection still does (issue 10, 9).
            assert not any(c in {ref.name for ref in fake.collections(PROJECT)} for c in literal)
            assert repo.write_calls == []
            return
        # Invariant 5: planning wrote nothing; a dry-run apply is refused at the boundary.
        assert repo.write_calls == []
        if the_plan.deletions:
            with pytest.raises(ReadOnlyViolation):
                ag.apply(the_plan, ReadOnlyRepository(repo), journal=self._journal(), concurrency=1)
        assert repo.write_calls == []
        assert {v.id: v for v in fake.versions(scope=PROJECT)} == survivors_before
        assert fake.stored_objects() == stored_before

        assert {d.version.id for d in the_plan.decisions} == set(survivors_before)
        # One worker: the same example must replay the same way for hypothesis to shrink it.
        result = ag.apply(the_plan, repo, journal=self._journal(), concurrency=1, removed_runs=removed)
        assert result.ok, result.failed
        freed = fake.gc()

        # Invariant 2: the prediction is exact.
        assert freed == the_plan.reclaimable_bytes
        # Invariant 3: exactly the planned deletions happened; nothing blocked went.
        survivors_after = {v.id for v in fake.versions(scope=PROJECT)}
        deleted = set(survivors_before) - survivors_after
        assert deleted == {d.version.id for d in the_plan.deletions}
        assert not deleted & {d.version.id for d in the_plan.decisions if d.action is ag.Action.KEEP}
        check_survivors(policy, now, survivors_before, {v.id: v for v in fake.versions(scope=PROJECT)})
        if not policy.waived("referenced"):
            check_no_reference_broken(fake, deleted)
        # Invariant 4: idempotence. Same policy, same clock: nothing more to delete.
        # (A collection the plan emptied, named literally by the policy, plans as empty: no NotFoundError.)
        again = ag.plan(repo, PROJECT, policy, now=now, dedupe=self.dedupe, removed_runs=removed)
        assert again.deletions == (), [str(r) for d in again.deletions for r in d.reasons]
        assert again.reclaimable_bytes == 0
        self.plans_checked += 1
        event(f"plan over {min(len(survivors_before) // 5 * 5, 20)}+ versions")
        event("plan deleted versions" if the_plan.deletions else "plan deleted nothing")
        event("plan freed bytes" if freed else "plan freed no bytes")
        for rule_id in sorted({r.rule for d in the_plan.blocked for r in d.reasons if r.blocks}):
            event(f"blocked by {rule_id}")
        horizon = timedelta(0) if policy.waived("grace-period") else policy.grace_period
        if any(v.ttl is not None and not outlives(v, now, horizon) for v in survivors_before.values()):
            event("planned over a version whose TTL runs out within the grace period")
        if any(v.state is VersionState.PENDING for v in survivors_before.values()):
            event("planned over a PENDING version")
        if any(r.rule == "last-version" for d in the_plan.decisions for r in d.reasons):
            event("last-version kept a survivor")
        if any(
            e.ref and e.ref.startswith("wandb-")
            for v in survivors_before.values()
            for e in fake.manifest(v.id)
        ):
            event("planned over an artifact reference")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def surviving_files_are_stored(self) -> None:
        # Invariant 1, after every step (the history rules as well as plan/apply/GC).
        stored = self.fake.stored_objects()
        for v in self.fake.versions():
            key = self.fake._dedupe_key(v)
            for e in self.fake.manifest(v.id):
                if e.ref is None:
                    assert (key, e.digest) in stored, (v.qualified_name, e.path)

    @invariant()
    def aliases_are_unique_per_collection(self) -> None:
        seen: dict[tuple[str, str], str] = {}
        for v in self.fake.versions():
            assert v.state is not VersionState.DELETED
            for alias in v.aliases:
                key = (f"{v.entity}/{v.project}/{v.collection}", alias)
                assert key not in seen, f"{alias} on {seen.get(key)} and {v.id}"
                seen[key] = v.id


ProjectHistory.TestCase.settings = settings(
    # Each example is cheap (a few ms): at least 500 even in the quick profiles, 10,000 nightly.
    max_examples=max(settings.default.max_examples, 500),
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestProjectHistory = ProjectHistory.TestCase


class TestLongProjectHistory(ProjectHistory.TestCase):  # type: ignore[name-defined,misc]
    """Long histories (up to 200 steps): nightly only."""

    pytestmark = pytest.mark.slow
    settings = settings(
        max_examples=max(settings.default.max_examples // 10, 20),
        stateful_step_count=200,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# ------------------------------------------------------------------ planted bugs

_COMMITTED = VersionState.COMMITTED


def _ignores_ttl(v: ag.Version, now: datetime, horizon: timedelta) -> bool:
    return v.state is _COMMITTED


def _not_deleted(v: ag.Version, now: datetime, horizon: timedelta) -> bool:
    return v.state is not ag.VersionState.DELETED


def _pending_survives(v: ag.Version, now: datetime, horizon: timedelta) -> bool:
    return outlives(replace(v, state=_COMMITTED), now, horizon)


PLANTED_BUGS = {
    # name: (attribute of artifact_guard._planner, replacement, what the failure says)
    "ignores references": ("_block_referenced", lambda repo, per_collection: None, "references deleted"),
    "counts PENDING towards keep_last": ("_holds_slot", lambda v: True, "newest"),
    # The executor re-checks survivors with the real rules, so apply may refuse what the buggy plan
    # deleted: then the plan's predicted bytes are what fails first. Either failure is the bug's.
    "counts PENDING as a survivor": ("outlives", _pending_survives, "without a survivor|reclaimable_bytes"),
    "ignores TTL": ("outlives", _ignores_ttl, "without a survivor|reclaimable_bytes"),
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("bug", sorted(PLANTED_BUGS))
def test_the_state_machine_catches_a_planted_bug(monkeypatch: pytest.MonkeyPatch, bug: str) -> None:
    """Each class of defect of issue 10, planted back into the planner, fails an invariant within the
    examples the ci profile runs (derandomized: the same examples every time)."""
    attribute, replacement, says = PLANTED_BUGS[bug]
    monkeypatch.setattr(ag._planner, attribute, replacement)
    if attribute == "outlives":
        # apply's re-validation has its own survivor test, which would refuse what the planner got
        # wrong: take it away (any version not deleted survives), so the planner's bug shows.
        monkeypatch.setattr(ag._revalidate, "outlives", _not_deleted)
    with pytest.raises(AssertionError, match=says):
        run_state_machine_as_test(
            ProjectHistory,
            settings=settings(
                max_examples=1000,
                stateful_step_count=40,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck),
            ),
        )
