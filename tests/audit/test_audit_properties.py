"""Properties of the audit over generated projects (the public strategies drive them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard._audit import ChangeKind
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
