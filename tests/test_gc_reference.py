"""FakeWandb's storage and GC accounting against a tiny, independent reference model.

The reference knows nothing of aliases, runs or links: only which versions exist, which are alive, what
each references, and the dedupe scope. Both are driven in lockstep by a hypothesis state machine; after
every step they must hold the same objects, and every GC must free the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from fakes import FakeWandb

PROJECTS = ["e/p", "e/q", "f/p"]
COLLECTIONS = ["a", "b"]
DIGESTS = {f"d{i}==": 10 * (i + 1) for i in range(8)}


@dataclass
class ReferenceStorage:
    """Storage as W&B describes it: each digest once per dedupe scope, freed when no live version uses it."""

    dedupe: str
    owner: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # vid -> entity, project, collection
    digests: dict[str, set[str]] = field(default_factory=dict)  # vid -> stored digests it references
    alive: set[str] = field(default_factory=set)
    stored: dict[tuple[str, str], int] = field(default_factory=dict)

    def scope_of(self, vid: str) -> str:
        entity, project, collection = self.owner[vid]
        return {"collection": f"{entity}/{project}/{collection}", "project": f"{entity}/{project}"}.get(
            self.dedupe, entity
        )

    def log(self, vid: str, owner: tuple[str, str, str], files: dict[str, int]) -> None:
        self.owner[vid] = owner
        self.digests[vid] = set(files)
        self.alive.add(vid)
        for digest, size in files.items():
            self.stored[(self.scope_of(vid), digest)] = size

    def delete(self, vid: str) -> None:
        self.alive.discard(vid)

    def gc(self) -> int:
        used = {(self.scope_of(v), d) for v in self.alive for d in self.digests[v]}
        garbage = [key for key in self.stored if key not in used]
        return sum(self.stored.pop(key) for key in garbage)


class StorageComparison(RuleBasedStateMachine):
    versions = Bundle("versions")

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeWandb()
        self.model = ReferenceStorage("collection")

    @initialize(dedupe=st.sampled_from(["collection", "project", "entity"]))
    def start(self, dedupe: str) -> None:
        self.fake = FakeWandb(dedupe=dedupe)  # type: ignore[arg-type]
        self.model = ReferenceStorage(dedupe)
        for project in PROJECTS:
            self.fake.create_run(project, "r")

    @rule(
        target=versions,
        project=st.sampled_from(PROJECTS),
        collection=st.sampled_from(COLLECTIONS),
        picks=st.lists(st.sampled_from(sorted(DIGESTS)), max_size=4),
        reference=st.booleans(),
    )
    def log(self, project: str, collection: str, picks: list[str], reference: bool) -> str:
        files = {f"f{i}": (d, DIGESTS[d]) for i, d in enumerate(picks)}
        refs = [("ref", "s3://bucket/x", 999)] if reference else []
        v = self.fake.log_artifact(f"{project}/r", collection, "model", files, references=refs)
        entity, proj = project.split("/")
        self.model.log(v.id, (entity, proj, collection), {d: DIGESTS[d] for d in picks})
        return v.id

    @rule(vid=versions)
    def delete(self, vid: str) -> None:
        if vid in self.model.alive:
            self.fake.delete_version(vid, delete_aliases=True)
            self.model.delete(vid)

    @rule(project=st.sampled_from(PROJECTS), collection=st.sampled_from(COLLECTIONS))
    def delete_collection(self, project: str, collection: str) -> None:
        entity, proj = project.split("/")
        members = [v for v in self.model.alive if self.model.owner[v] == (entity, proj, collection)]
        if not members:
            return
        self.fake.delete_collection(f"{project}/{collection}")  # this machine makes no links: never refused
        for v in members:
            self.model.delete(v)

    @rule()
    def gc(self) -> None:
        assert self.fake.gc() == self.model.gc()

    @invariant()
    def same_storage(self) -> None:
        assert self.fake.stored_objects() == self.model.stored
        assert self.fake.stored_bytes() == sum(self.model.stored.values())
        assert self.fake.stored_digests() == {d for _, d in self.model.stored}

    @invariant()
    def same_survivors(self) -> None:
        assert {v.id for v in self.fake.versions()} == self.model.alive


StorageComparison.TestCase.settings = settings(
    max_examples=max(settings.default.max_examples, 200), stateful_step_count=30
)
TestStorageComparison = StorageComparison.TestCase


def test_the_reference_model_itself_on_a_worked_example() -> None:
    # v0 and v1 share X; deleting v0 frees nothing, deleting v1 too frees X and Y.
    model = ReferenceStorage("collection")
    model.log("v0", ("e", "p", "a"), {"X": 100})
    model.log("v1", ("e", "p", "a"), {"X": 100, "Y": 30})
    model.delete("v0")
    assert model.gc() == 0
    model.delete("v1")
    assert model.gc() == 130


def test_an_artifact_reference_holds_no_bytes_so_gc_frees_a_deleted_target() -> None:
    """W&B semantics (issue 10, 3): a ``wandb-artifact://`` entry is a reference, not stored. Deleting
    its target frees the target's files (the referrer's download breaks), and the referrer's own entry
    frees nothing when the referrer goes: which is why the planner must block such deletions."""
    import base64

    fake = FakeWandb()
    run = fake.create_run("e/p", "r")
    target = fake.log_artifact(run, "a", "model", {"w.bin": ("d0==", 10)})
    uri = f"wandb-artifact://{base64.b64decode(target.id).hex()}/w.bin"
    referrer = fake.log_artifact(run, "b", "model", {}, references=[("w.bin", uri)])
    assert fake.stored_bytes() == 10 and fake.referrers(target) == (referrer.id,)
    fake.delete_version(target.id, delete_aliases=True)
    assert fake.gc() == 10  # the referrer survives, yet its file is gone
    fake.delete_version(referrer.id, delete_aliases=True)
    assert fake.gc() == 0
