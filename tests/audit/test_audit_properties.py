"""Properties of the audit over generated projects (the public strategies drive them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard._audit import ChangeKind
from artifact_guard._rules import Facts, evaluate, reference_target
from artifact_guard.testing import strategies as ags
from fakes import FakeWandb


@given(fake=ags.project_states(), policy=ags.policies())
def test_applying_any_plan_passes_the_audit_and_frees_what_gc_frees(
    fake: FakeWandb, policy: ag.Policy
) -> None:
    fake.gc()
    before = ag.capture(fake.repository(), ags.PROJECT, dedupe=fake.dedupe, now=fake.now())
    the_plan = ag.plan(fake.repository(), ags.PROJECT, policy, now=fake.now(), dedupe=fake.dedupe)  # type: ignore[arg-type]
    ag.apply(the_plan, fake.repository())

    report = ag.audit(before, fake, policy)

    # The planner and the audit hold a change to the same rules.
    assert report.ok, report.explain()
    assert {c.version.id for c in report.deletions if c.version} == {d.version.id for d in the_plan.deletions}
    assert report.bytes_freed == the_plan.reclaimable_bytes == fake.gc()


@given(fake=ags.project_states(), data=st.data())
def test_arbitrary_deletions_are_all_listed_and_bytes_match_gc(fake: FakeWandb, data: st.DataObject) -> None:
    fake.gc()
    before = ag.capture(fake.repository(), ags.PROJECT, dedupe=fake.dedupe, now=fake.now())
    victims = data.draw(st.lists(st.sampled_from(before.versions), unique_by=lambda v: v.id))
    deleted = set()
    for v in victims:
        try:
            fake.delete_version(v.id, delete_aliases=True)
        except ag.ProtectedAliasError:
            continue  # W&B refuses it too: not a change
        deleted.add(v.id)

    report = ag.audit(before, fake, ag.Policy(keep_last=1))

    assert {c.version.id for c in report.deletions if c.version} == deleted
    assert report.bytes_freed == fake.gc()
    emptied = {c.collection.name for c in report.of_kind(ChangeKind.DELETE_COLLECTION)}
    assert emptied == {v.collection for v in before.versions} - {
        v.collection for v in fake.versions(scope=ags.PROJECT)
    }
    # Any version holding an alias before can only go with a has-aliases violation.
    for c in report.deletions:
        assert c.version is not None
        assert bool(c.version.aliases) == ("has-aliases" in {r.rule for r in c.reasons})


# ------------------------------------------------ issue 10: the audit in lockstep with the rules

_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(
            ["delete", "delete", "move-alias", "remove-alias", "use", "advance", "ttl", "finish"]
        ),
        st.integers(0, 50),
        st.sampled_from(["best", "production", "staging", "candidate"]),
    ),
    max_size=12,
)


def _referrers_now(fake: FakeWandb) -> dict[str, set[str]]:
    """Target id -> ids of live versions whose manifests reference it, read from the manifests."""
    found: dict[str, set[str]] = {}
    for v in fake.versions():
        for e in fake.manifest(v.id):
            target = reference_target(e.ref)
            if target is not None and target[0] == "id" and target[1] != v.id:
                found.setdefault(target[1], set()).add(v.id)
    return found


@given(fake=ags.project_states(), policy=ags.policies(), events=_EVENTS)
def test_audit_verdicts_equal_the_rules_on_the_state_before_each_event(
    fake: FakeWandb, policy: ag.Policy, events: list[tuple[str, int, str]]
) -> None:
    """For a random ordered script of mutations, each deletion's verdict (and each TTL's, judged at its
    expiry) is exactly the planner's rules on the state just before that event."""
    _lockstep(fake, policy, events)


def test_the_lockstep_property_catches_an_audit_that_judges_on_the_state_before_the_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planted bug: the audit ignores the fake's record of each deletion (the old behaviour)."""
    monkeypatch.setattr(ag._audit, "_deletion_records", lambda after, read="": lambda version_id: None)
    check = settings(max_examples=100, derandomize=True, database=None, phases=[Phase.generate])(
        given(fake=ags.project_states(), policy=ags.policies(), events=_EVENTS)(_lockstep)
    )
    with pytest.raises(AssertionError):
        check()


def _lockstep(fake: FakeWandb, policy: ag.Policy, events: list[tuple[str, int, str]]) -> None:
    repo = fake.repository()
    before = ag.capture(repo, ags.PROJECT, dedupe=fake.dedupe, now=fake.now())
    user = fake.create_run(ags.PROJECT, "auditor")
    expected: dict[tuple[str, str], Facts] = {}
    for kind, pick, alias in events:
        live = sorted(fake.versions(scope=ags.PROJECT), key=lambda v: (v.collection, v.index))
        if not live:
            break
        v = live[pick % len(live)]
        facts = Facts(v, repo.lineage(v.id), repo.links(v.id), fake.now(), frozenset(),
                      tuple(sorted(_referrers_now(fake).get(v.id, ()))))  # fmt: skip
        if kind == "delete":
            try:
                fake.delete_version(v.id, delete_aliases=True)
            except ag.ProtectedAliasError:
                continue  # refused by W&B: no change
            expected[("delete", v.id)] = facts
        elif kind == "ttl":
            ttl = timedelta(days=pick)
            if v.ttl is not None and ttl >= v.ttl:
                continue  # not shortened: no deferred deletion
            try:
                fake.set_ttl(v, ttl)
            except ag.ConflictError:
                continue  # linked: W&B refuses a TTL
            expected[("ttl", v.id)] = facts._replace(now=max(fake.now(), v.created_at + ttl))
        elif kind == "move-alias":
            fake.add_aliases(v, [alias])
        elif kind == "remove-alias":
            fake.remove_aliases(v, [alias])
        elif kind == "use":
            fake.use_artifact(user, v)
        elif kind == "advance":
            fake.advance(timedelta(hours=pick))
        elif kind == "finish" and v.producer is not None:
            fake.finish_run(v.producer)

    report = ag.audit(before, fake, policy)

    survivors = {v.id: v for v in fake.versions(scope=ags.PROJECT)}
    judged = {}
    for change in report.changes:
        if change.kind in (ChangeKind.DELETE_VERSION, ChangeKind.SET_TTL) and change.version is not None:
            judged[("delete" if change.kind is ChangeKind.DELETE_VERSION else "ttl", change.version.id)] = (
                change.reasons
            )
    # Only TTLs that stand at the end were changes; a version set a TTL and then deleted is a deletion.
    wanted = {k: f for k, f in expected.items() if k[0] == "delete" or (k[1] in survivors and
              survivors[k[1]].ttl is not None and ("delete", k[1]) not in expected)}  # fmt: skip
    assert set(judged) == set(wanted)
    for key, facts in wanted.items():
        # Removed together: a referrer deleted by the script too does not count.
        kept = tuple(sorted(survivors[r].qualified_name for r in facts.referrers if r in survivors))
        assert judged[key] == evaluate(facts._replace(referrers=kept), policy), key
