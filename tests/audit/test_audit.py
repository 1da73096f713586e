"""The audit: every change between two snapshots, judged on the before state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import artifact_guard as ag
from artifact_guard._audit import ChangeKind, audit
from artifact_guard._snapshot import capture
from fakes import FakeWandb
from fakes.demo import DEMO_PROJECT, seed_demo

NOW = datetime.fromisoformat("2026-06-01T00:00:00+00:00")
P = "team/proj"
OLD = NOW - timedelta(days=30)


def _fake(**kwargs: object) -> FakeWandb:
    return FakeWandb(now=NOW, **kwargs)  # type: ignore[arg-type]


def _snap(fake: FakeWandb, scope: str = P) -> ag.Snapshot:
    return capture(fake.repository(), scope, dedupe=fake.dedupe, now=fake.now())


def _rules(report: object, target_suffix: str) -> set[str]:
    assert isinstance(report, ag.AuditReport)
    return {v.rule for v in report.violations if v.change.target.endswith(target_suffix)}


def test_applying_a_plan_is_clean_and_frees_exactly_what_gc_frees() -> None:
    fake = seed_demo()
    fake.gc()
    before = capture(fake.repository(), DEMO_PROJECT, now=fake.now())
    policy = ag.Policy(keep_last=5)
    the_plan = ag.plan(fake.repository(), DEMO_PROJECT, policy, now=fake.now())
    assert ag.apply(the_plan, fake.repository()).ok

    report = audit(before, fake, policy)

    assert report.ok, report.explain()
    assert {c.version.id for c in report.deletions if c.version} == {d.version.id for d in the_plan.deletions}
    assert report.bytes_freed == the_plan.reclaimable_bytes == fake.gc()
    assert "OK: no safety rule violated" in report.explain()


def test_deleting_a_production_version_reports_protected_alias_and_has_aliases() -> None:
    fake = _fake()
    run = fake.create_run(P, "r1")
    v0 = fake.log_artifact(run, "m", "model", {"a": b"x"}, aliases=["production"], created_at=OLD)
    fake.log_artifact(run, "m", "model", {"a": b"y"}, created_at=OLD)
    before = _snap(fake)

    fake.delete_version(v0.id, delete_aliases=True)
    report = audit(before, fake, ag.Policy(keep_last=1))

    assert not report.ok
    assert _rules(report, "m:v0") == {"protected-alias", "has-aliases"}
    assert "production" in report.explain()
    assert "FAIL deleted team/proj/m:v0 (aliases production)" in report.explain()


def test_each_rule_is_judged_on_the_before_state() -> None:
    fake = _fake()
    producer = fake.create_run(P, "producer")
    consumer = fake.create_run(P, "consumer")
    live = fake.create_run(P, "live")
    consumed = fake.log_artifact(producer, "c", "model", {"a": b"1"}, created_at=OLD)
    fake.use_artifact(consumer, consumed)
    linked = fake.log_artifact(producer, "c", "model", {"a": b"2"}, created_at=OLD)
    fake.link(linked, "team/wandb-registry-model/reg", aliases=["candidate"])
    pending = fake.log_artifact(producer, "c", "model", {"a": b"3"}, created_at=OLD, state="PENDING")
    in_run = fake.log_artifact(live, "c", "model", {"a": b"4"}, created_at=OLD)
    young = fake.log_artifact(producer, "c", "model", {"a": b"5"}, created_at=NOW - timedelta(hours=2))
    fake.log_artifact(producer, "c", "model", {"a": b"6"}, created_at=OLD)
    fake.finish_run(live, "running")
    before = _snap(fake)

    for v in (consumed, linked, pending, in_run, young):
        fake.delete_version(v.id, delete_aliases=True)
    report = audit(before, fake, ag.Policy(keep_last=1))

    assert _rules(report, "c:v0") == {"consumed"}
    assert _rules(report, "c:v1") == {"registry-linked"}
    assert _rules(report, "c:v2") == {"in-flight"}
    assert _rules(report, "c:v3") == {"in-flight"}
    assert _rules(report, "c:v4") == {"grace-period"}
    assert len(report.deletions) == 5
    # The policy's waivers are honoured, as in a plan.
    waived = audit(before, fake, ag.Policy(keep_last=1, allow_consumed=True, grace_period=timedelta(0)))
    assert _rules(waived, "c:v0") == set()
    assert _rules(waived, "c:v4") == set()


def test_emptying_a_collection_is_a_collection_delete_violating_last_version() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    for i in range(3):
        fake.log_artifact(run, "gone", "model", {"a": bytes([i])}, created_at=OLD)
    fake.log_artifact(run, "stays", "model", {"a": b"s"}, created_at=OLD)
    before = _snap(fake)

    fake.delete_collection(f"{P}/gone")
    report = audit(before, fake, ag.Policy(keep_last=1, allow_delete_aliases=True))

    emptied = report.of_kind(ChangeKind.DELETE_COLLECTION)
    assert [c.target for c in emptied] == [f"{P}/gone"]
    assert [r.rule for r in emptied[0].reasons] == ["last-version"]
    assert len(report.deletions) == 3
    # Waiving last-version makes emptying safe; the policy's keep-last=1 still keeps gone:v2, so a
    # policy without retention judges the safety rules alone (conformance: tests/audit/test_conformance.py).
    ok = audit(before, fake, ag.Policy(allow_delete_aliases=True, allow_empty_collection=True))
    assert ok.ok, ok.explain()


def test_collection_left_without_latest_is_a_warning_not_a_violation() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    fake.log_artifact(run, "m", "model", {"a": b"0"}, created_at=OLD)
    newest = fake.log_artifact(run, "m", "model", {"a": b"1"}, created_at=OLD)
    before = _snap(fake)

    fake.delete_version(newest.id, delete_aliases=True)
    # No retention in the policy: keep-last=1 would make deleting the newest a conformance failure.
    report = audit(before, fake, ag.Policy(allow_delete_aliases=True))

    assert report.ok
    assert [str(r) for r in report.without_latest] == [f"{P}/m"]
    assert "left without 'latest'" in report.explain()


def test_alias_removal_is_listed_and_only_a_vanished_protected_alias_violates() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    v0 = fake.log_artifact(run, "m", "model", {"a": b"0"}, aliases=["production", "exp"], created_at=OLD)
    v1 = fake.log_artifact(run, "m", "model", {"a": b"1"}, aliases=["staging"], created_at=OLD)
    before = _snap(fake)

    fake.remove_aliases(v0.id, ["production", "exp"])
    fake.add_aliases(v0.id, ["staging"])  # moves staging from v1 to v0: a promotion, not a loss
    report = audit(before, fake, ag.Policy(keep_last=1))

    removals = {(c.target, c.aliases, c.moved_to, c.ok) for c in report.of_kind(ChangeKind.REMOVE_ALIAS)}
    assert removals == {
        (v0.qualified_name, ("exp",), None, True),
        (v0.qualified_name, ("production",), None, False),
        (v1.qualified_name, ("staging",), "m:v0", True),
    }
    assert [v.rule for v in report.violations] == ["protected-alias"]
    assert report.bytes_freed == 0


def test_unlink_is_listed_and_frees_nothing() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    v = fake.log_artifact(run, "m", "model", {"a": b"0"}, created_at=OLD)
    link = fake.link(v, "team/wandb-registry-model/reg", aliases=["candidate"])
    before = _snap(fake)

    fake.unlink(link)
    report = audit(before, fake, ag.Policy(keep_last=1))

    (change,) = report.changes
    assert change.kind is ChangeKind.UNLINK
    assert change.target == "team/wandb-registry-model/reg:v0"
    assert [r.rule for r in change.reasons] == ["registry-linked"]
    assert report.bytes_freed == 0
    assert audit(before, fake, ag.Policy(keep_last=1, allow_registry_linked=True)).ok


@pytest.mark.parametrize("dedupe", ["collection", "project"])
def test_bytes_freed_counts_shared_files_once_and_references_never(dedupe: str) -> None:
    fake = _fake(dedupe=dedupe)
    run = fake.create_run(P, "r")
    shared = ("shared==", 1000)
    fake.log_artifact(run, "a", "model", {"s": shared, "u0": ("u0==", 10)}, created_at=OLD)
    a1 = fake.log_artifact(run, "a", "model", {"s": shared, "u1": ("u1==", 20)}, created_at=OLD)
    b0 = fake.log_artifact(
        run,
        "b",
        "model",
        {"s": shared},
        references=[("p", "s3://x/p", 5000)],
        created_at=OLD,
    )
    fake.log_artifact(run, "b", "model", {"t": ("t==", 7)}, created_at=OLD)
    fake.gc()
    before = _snap(fake)

    fake.delete_version(a1.id, delete_aliases=True)
    fake.delete_version(b0.id, delete_aliases=True)
    report = audit(before, fake, ag.Policy(keep_last=1, allow_delete_aliases=True))

    # a:v0 still holds the shared file; under collection dedupe b's copy of it goes.
    expected = 20 + (1000 if dedupe == "collection" else 0)
    assert report.bytes_freed == expected == fake.gc()


def test_a_state_from_another_project_is_refused() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    fake.log_artifact(run, "m", "model", {"a": b"0"})
    other = fake.create_run("team/other", "r")
    fake.log_artifact(other, "m", "model", {"a": b"0"})
    with pytest.raises(ag.SnapshotError, match="different projects"):
        audit(_snap(fake), _snap(fake, "team/other"))


def test_report_json_lists_changes_and_violations() -> None:
    fake = _fake()
    run = fake.create_run(P, "r")
    v0 = fake.log_artifact(run, "m", "model", {"a": b"0"}, aliases=["best"], created_at=OLD)
    fake.log_artifact(run, "m", "model", {"a": b"1"}, created_at=OLD)
    before = _snap(fake)
    fake.delete_version(v0.id, delete_aliases=True)

    data = audit(before, fake.repository()).to_dict()

    assert data["ok"] is False
    assert data["bytes_freed"] == 1
    assert [c["kind"] for c in data["changes"]] == ["delete-version"]
    assert {v["rule"] for v in data["violations"]} == {"protected-alias", "has-aliases"}
    assert data["violations"][0]["target"] == v0.qualified_name


def test_a_live_state_as_before_is_a_usage_error_with_the_fix() -> None:
    fake = _fake()
    with pytest.raises(TypeError, match=r"capture\(fake.repository\(\)"):
        audit(fake, fake)  # type: ignore[arg-type]


# -------------------------------------------- issue 10: each change on the state just before it


def test_moving_best_then_deleting_the_old_holder_is_no_violation() -> None:
    fake = _fake()
    run = fake.create_run(P, "r1")
    v27 = fake.log_artifact(run, "m", "model", {"a": b"x"}, aliases=["best"], created_at=OLD)
    v38 = fake.log_artifact(run, "m", "model", {"a": b"y"}, created_at=OLD)
    before = _snap(fake)

    fake.add_aliases(v38, ["best"])  # promote first ...
    fake.delete_version(v27.id)  # ... then delete what by then holds no alias

    report = audit(before, fake, ag.Policy(keep_last=1))
    assert report.ok, report.explain()
    # Deleting it first, aliased, is still caught: judged on the state it met.
    fake2 = _fake()
    run2 = fake2.create_run(P, "r1")
    w27 = fake2.log_artifact(run2, "m", "model", {"a": b"x"}, aliases=["best"], created_at=OLD)
    w38 = fake2.log_artifact(run2, "m", "model", {"a": b"y"}, created_at=OLD)
    before2 = _snap(fake2)
    fake2.delete_version(w27.id, delete_aliases=True)
    fake2.add_aliases(w38, ["best"])
    assert _rules(audit(before2, fake2, ag.Policy(keep_last=1)), "m:v0") == {"protected-alias", "has-aliases"}


def test_a_ttl_set_on_production_and_consumed_versions_is_a_deferred_deletion() -> None:
    fake = _fake()
    run, user = fake.create_run(P, "r1"), fake.create_run(P, "eval")
    prod = fake.log_artifact(run, "m", "model", {"a": b"x"}, aliases=["production"], created_at=OLD)
    used = fake.log_artifact(run, "m", "model", {"a": b"y"}, created_at=OLD)
    plain = fake.log_artifact(run, "m", "model", {"a": b"z"}, created_at=OLD)
    fresh = fake.log_artifact(run, "m", "model", {"a": b"w"})  # logged now
    fake.use_artifact(user, used)
    before = _snap(fake)

    for v in (prod, used, plain):
        fake.set_ttl(v, timedelta(days=31))  # created 30 days ago: gone tomorrow
    fake.set_ttl(fresh, timedelta(hours=1))

    report = audit(before, fake, ag.Policy())
    ttl = {
        c.version.name: {r.rule for r in c.reasons} for c in report.of_kind(ChangeKind.SET_TTL) if c.version
    }
    assert ttl["m:v0"] >= {"protected-alias", "has-aliases"}
    assert ttl["m:v1"] == {"consumed"}
    assert ttl["m:v2"] == set()
    assert ttl["m:v3"] == {"has-aliases", "grace-period"}  # holds latest; expires within the grace period
    assert "a deferred deletion" in report.explain() and "TTL change(s)" in report.summary()
    # Clearing or lengthening a TTL takes nothing away.
    before_clear = _snap(fake)
    fake.set_ttl(plain, None)
    fake.set_ttl(used, timedelta(days=90))
    assert not audit(before_clear, fake, ag.Policy()).of_kind(ChangeKind.SET_TTL)


def _ref(target: ag.Version) -> str:
    import base64

    return f"wandb-artifact://{base64.b64decode(target.id).hex()}/a"


def test_deleting_a_version_a_survivor_references_violates_referenced() -> None:
    fake = _fake()
    run = fake.create_run(P, "r1")
    target = fake.log_artifact(run, "m", "model", {"a": b"x"}, created_at=OLD)
    fake.log_artifact(run, "m", "model", {"a": b"y"}, created_at=OLD)
    referrer = fake.log_artifact(
        run, "preds", "predictions", {}, references=[("a", _ref(target))], created_at=OLD
    )
    fake.log_artifact(run, "preds", "predictions", {"b": b"q"}, created_at=OLD)
    before = _snap(fake)

    fake.delete_version(target.id)
    report = audit(before, fake, ag.Policy())
    assert _rules(report, "m:v0") == {"referenced"}
    (violation,) = report.violations
    assert referrer.qualified_name in str(violation)
    assert audit(before, fake, ag.Policy(allow_referenced=True)).ok
    # Judged from snapshots alone (no record of the deletion), the same.
    assert _rules(audit(before, _snap(fake), ag.Policy()), "m:v0") == {"referenced"}

    # Removed together: deleting the referrer too is no violation.
    fake.delete_version(referrer.id)
    assert audit(before, fake, ag.Policy()).ok


def test_leaving_only_a_pending_or_expiring_version_violates_last_version() -> None:
    fake = _fake()
    run = fake.create_run(P, "r1")
    a0 = fake.log_artifact(run, "a", "model", {"a": b"x"}, created_at=OLD)
    fake.log_artifact(run, "a", "model", {"a": b"p"}, state="PENDING", created_at=OLD)
    b0 = fake.log_artifact(run, "b", "model", {"a": b"y"}, created_at=OLD)
    b1 = fake.log_artifact(run, "b", "model", {"a": b"z"}, created_at=OLD)
    before = _snap(fake)

    fake.delete_version(a0.id, delete_aliases=True)  # only the PENDING upload is left
    fake.delete_version(b0.id, delete_aliases=True)
    fake.set_ttl(b1, timedelta(days=30, hours=1))  # ... and the last of b runs out tomorrow

    report = audit(before, fake, ag.Policy())
    lost = {c.collection.name: [r.rule for r in c.reasons] for c in report.of_kind(ChangeKind.NO_SURVIVOR)}
    assert lost == {"a": ["last-version"], "b": ["last-version"]}
    assert "without a survivor" in report.explain()
    assert not audit(before, fake, ag.Policy(allow_empty_collection=True)).of_kind(ChangeKind.NO_SURVIVOR)
