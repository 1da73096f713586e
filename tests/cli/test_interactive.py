"""``plan --interactive``: exclude and include versions, every change re-checked by the rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import artifact_guard as ag
from artifact_guard._plan_io import load_plan
from artifact_guard._review import revise
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import NOW, Invoke


def _by_name(plan: ag.Plan, collection: str, index: int) -> ag.Decision:
    return next(d for d in plan.decisions if d.version.collection == collection and d.version.index == index)


def test_review_excludes_includes_and_refuses_what_a_rule_blocks(cli: Invoke, model_policy: Path) -> None:
    # resnet50-000 comes first (the dataset and predictions collections are not selected):
    # exclude v0-v2, include v36 (kept only by keep-last), try v27 (holds `best`), then done.
    result = cli(
        "plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-i", "-o", "reviewed.json",
        input="x v0-v2\ni v36\ni v27\nd\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "refused: resnet50-000:v27 stays kept (protected-alias" in result.stdout
    assert "reviewed: 3 excluded, 1 included" in result.stdout

    reviewed = load_plan("reviewed.json")
    for index in (0, 1, 2):
        d = _by_name(reviewed, "resnet50-000", index)
        assert d.action is ag.Action.KEEP and "policy:excluded" in d.rules
    assert _by_name(reviewed, "resnet50-000", 36).action is ag.Action.DELETE
    assert _by_name(reviewed, "resnet50-000", 27).action is ag.Action.KEEP

    # The reviewed plan keeps the invariants: applied to the same project, GC frees exactly its bytes.
    fake = seed_demo()
    result_apply = ag.apply(reviewed, fake.repository(), now=fake.now())
    assert result_apply.ok
    assert fake.gc() == reviewed.reclaimable_bytes


def test_quitting_the_review_saves_nothing(cli: Invoke, model_policy: Path, tmp_path: Path) -> None:
    result = cli(
        "plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-i", "-o", "reviewed.json",
        input="x v3\nq\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert not (tmp_path / "reviewed.json").exists()


def test_unknown_versions_and_commands_are_answered_not_fatal(cli: Invoke, model_policy: Path) -> None:
    result = cli(
        "plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-i", "-o", "r.json",
        input="x v999\nwhat\nb\n\n\nd\n",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "no such version in resnet50-000: v999" in result.stdout
    assert "x VERSIONS: exclude" in result.stdout


def test_revise_refuses_an_inclusion_that_empties_a_collection() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    versions = [
        fake.log_artifact(run, "c", "model", {"f": bytes([i]) * 10}, created_at=NOW - timedelta(days=9 - i))
        for i in range(3)
    ]
    fake.remove_aliases(versions[-1], ["latest"])
    plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
    assert [d.action for d in plan.decisions] == [ag.Action.KEEP, ag.Action.DELETE, ag.Action.DELETE]

    revision = revise(plan, fake.repository(), include=[versions[-1].id])
    assert [(r.version_id, r.reasons[0].rule) for r in revision.refused] == [
        (versions[-1].id, "last-version")
    ]
    assert [d.action for d in revision.plan.decisions] == [ag.Action.KEEP, ag.Action.DELETE, ag.Action.DELETE]
    assert revision.plan == plan  # a refused change changes nothing

    # Keeping the oldest instead makes the same inclusion safe.
    swapped = revise(plan, fake.repository(), include=[versions[-1].id], exclude=[versions[0].id])
    assert swapped.refused == ()
    assert [d.action for d in swapped.plan.decisions] == [ag.Action.DELETE, ag.Action.DELETE, ag.Action.KEEP]
    assert swapped.plan.reclaimable_bytes == 20 and swapped.plan.id != plan.id


def test_revise_without_changes_is_the_plan() -> None:
    fake = seed_demo()
    plan = ag.plan(fake.repository(), DEMO_PROJECT, ag.Policy(keep_last=3), now=fake.now())
    revision = revise(plan, fake.repository())
    assert revision.plan == plan and revision.refused == ()


def test_a_huge_version_range_is_answered_at_once(cli: Invoke, model_policy: Path) -> None:
    # Issue 10 (8): the range is matched against the collection's versions, not counted out.
    result = cli(
        "plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-i", "-o", "r.json",
        input="x v0-v999999999999\nx v" + "9" * 5000 + "\nd\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "no such version in resnet50-000:" in result.stdout
    assert "reviewed: 40 excluded, 0 included" in result.stdout
    reviewed = load_plan("r.json")
    assert all(
        d.action is ag.Action.KEEP for d in reviewed.decisions if d.version.collection == "resnet50-000"
    )


def test_revise_keeps_what_a_kept_version_references() -> None:
    import base64

    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    old = NOW - timedelta(days=9)
    target = fake.log_artifact(run, "c", "model", {"f": b"t" * 10}, created_at=old)
    fake.log_artifact(run, "c", "model", {"f": b"u" * 10}, created_at=old)
    uri = f"wandb-artifact://{base64.b64decode(target.id).hex()}/f"
    referrer = fake.log_artifact(run, "r", "model", {}, references=[("f", uri)], created_at=old)
    fake.log_artifact(run, "r", "model", {"g": b"g"}, created_at=old)
    plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
    assert plan.decision(target.id).action is ag.Action.DELETE  # removed together with its referrer
    # Keeping the referrer keeps what it references.
    kept = revise(plan, fake.repository(), exclude=[referrer.id]).plan
    assert kept.decision(target.id).action is ag.Action.KEEP
    assert "referenced" in kept.decision(target.id).rules
    # Including a version a kept version references is refused, with the rule.
    again = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1, allow_delete_aliases=True),
                    now=fake.now())  # fmt: skip
    ex = revise(again, fake.repository(), exclude=[referrer.id])
    refused = revise(ex.plan, fake.repository(), exclude=[referrer.id], include=[target.id])
    assert [r.reasons[0].rule for r in refused.refused] == ["referenced"]
    assert refused.plan.decision(target.id).action is ag.Action.KEEP


def test_revise_refuses_an_inclusion_that_leaves_only_an_expiring_version() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    versions = [
        fake.log_artifact(run, "c", "model", {"f": bytes([i]) * 10}, created_at=NOW - timedelta(days=9 - i))
        for i in range(3)
    ]
    fake.set_ttl(versions[-1], timedelta(days=7, hours=1))  # runs out within the 24 h grace period
    plan = ag.plan(fake.repository(), "team/proj", ag.Policy(keep_last=1), now=fake.now())
    assert [d.action for d in plan.decisions] == [ag.Action.KEEP, ag.Action.KEEP, ag.Action.DELETE]
    revision = revise(plan, fake.repository(), include=[versions[1].id])
    assert [(r.version_id, r.reasons[0].rule) for r in revision.refused] == [(versions[1].id, "last-version")]
    assert revision.plan == plan
