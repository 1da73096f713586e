from __future__ import annotations

import artifact_guard as ag
from fakes.demo import seed_demo


def test_demo_plan_predicts_exactly_what_gc_frees() -> None:
    fake = seed_demo()
    fake.gc()
    plan = ag.plan(fake.repository(), "demo-team/vision", ag.Policy(keep_last=5), now=fake.now())
    assert plan.deletions
    result = ag.apply(plan, fake.repository())
    assert result.ok
    assert fake.gc() == plan.reclaimable_bytes
