"""Policy conformance in the audit: deleting what the policy keeps fails; leaving what it deletes warns."""

from __future__ import annotations

from datetime import datetime, timedelta

import artifact_guard as ag
from artifact_guard._audit import audit
from artifact_guard._pytest_audit import failure_message
from artifact_guard._snapshot import capture
from fakes import FakeWandb

NOW = datetime.fromisoformat("2026-06-01T00:00:00+00:00")
P = "team/proj"


def _fake_with(n: int) -> tuple[FakeWandb, list[str]]:
    fake = FakeWandb(now=NOW)
    run = fake.create_run(P, "r")
    ids = [
        fake.log_artifact(run, "ckpt", "model", {"w": bytes([i])}, created_at=NOW - timedelta(days=60 - i)).id
        for i in range(n)
    ]
    fake.finish_run(run)
    return fake, ids


def _before(fake: FakeWandb) -> ag.Snapshot:
    return capture(fake.repository(), P, dedupe=fake.dedupe, now=fake.now())


def test_a_script_that_keeps_two_fails_a_keep_last_5_policy_with_the_keep_reason() -> None:
    fake, ids = _fake_with(8)
    before = _before(fake)
    for vid in ids[:6]:  # the script keeps only v6 and v7
        fake.delete_version(vid)
    report = audit(before, fake, ag.Policy(keep_last=5))
    assert report.violations == ()  # no safety rule broken...
    assert not report.ok  # ...but the policy keeps v3, v4 and v5
    c = report.conformance
    assert c is not None
    assert [k.version.name for k in c.kept_but_deleted] == ["ckpt:v5", "ckpt:v4", "ckpt:v3"]
    assert all([r.rule for r in k.reasons] == ["policy:keep-last"] for k in c.kept_but_deleted)
    text = report.explain()
    assert (
        "FAIL deleted team/proj/ckpt:v5, which the policy keeps: among the newest 5 (policy:keep-last)"
        in text
    )
    assert "NOT CONFORMING: 3 change(s) against the policy" in text
    # the plan artifact-guard would have made, next to the outcome:
    assert "artifact-guard's plan deletes 3 version(s), the change deleted 6" in text
    assert (
        report.to_dict()["conformance"]["kept_but_deleted"][0]["reasons"][0]["message"]
        == "among the newest 5"
    )


def test_leaving_what_the_policy_deletes_is_a_warning_and_strict_makes_it_a_failure() -> None:
    fake, ids = _fake_with(8)
    before = _before(fake)
    fake.delete_version(ids[0])  # the policy would delete v0-v2
    lenient = audit(before, fake, ag.Policy(keep_last=5))
    assert lenient.ok
    assert "warn left team/proj/ckpt:v1-v2 (2 versions), which the policy deletes" in lenient.explain()
    strict = audit(before, fake, ag.Policy(keep_last=5), strict=True)
    assert not strict.ok
    assert "FAIL left team/proj/ckpt:v1-v2" in strict.explain()


def test_a_policy_without_retention_checks_only_the_safety_rules() -> None:
    fake, ids = _fake_with(3)
    before = _before(fake)
    fake.delete_version(ids[0])
    report = audit(before, fake, ag.Policy())
    assert report.conformance is None and report.ok


def test_the_grace_period_hint_names_the_rule_and_the_setting_that_waives_it() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run(P, "r")
    fake.log_artifact(run, "ckpt", "model", {"w": b"0"})  # no created_at: moments old
    young = fake.log_artifact(run, "ckpt", "model", {"w": b"1"})
    fake.finish_run(run)
    before = _before(fake)
    fake.delete_version(young.id, delete_aliases=True)
    report = audit(before, fake, ag.Policy(allow_delete_aliases=True))
    assert {v.rule for v in report.violations} == {"grace-period"}
    message = failure_message(report, how="wandb_fake.audit(policy)")
    assert (
        "grace-period: waived by Policy(grace_period=timedelta(0)) or Policy(waive={'grace-period'})"
        in message
    )
    assert "created_at=" in message
    assert "allow_consumed" not in message  # the old hint named a rule that never fired
