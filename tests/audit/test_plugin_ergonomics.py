"""pytest ergonomics: ``wandb_fake.run(script, *args, timeout=...)``, audits that read like the CLI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.server

PREAMBLE = '''
from datetime import timedelta

import artifact_guard as ag

KEEP_TWO = """
import sys, wandb
api = wandb.Api()
versions = list(api.artifacts("model", "team/proj/ckpt"))
for v in sorted(versions, key=lambda v: v.version)[:-int(sys.argv[1])]:
    v.delete()
"""


def seed(fake, n=8):
    run = fake.create_run("team/proj", "r1")
    for i in range(n):
        old = fake.now() - timedelta(days=60 - i)
        fake.log_artifact(run, "ckpt", "model", {"w.bin": bytes([i])}, created_at=old)
    fake.finish_run(run)


def script(tmp_path):
    path = tmp_path / "keep_two.py"
    path.write_text(KEEP_TWO)
    return path
'''


@pytest.mark.timeout(180)
def test_run_conformance_strict_and_assertion_rendering(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PREAMBLE
        + """
def test_run_gives_the_scripts_output_and_keep_last_5_catches_a_script_keeping_2(wandb_fake, tmp_path):
    seed(wandb_fake.fake)
    done = wandb_fake.run(script(tmp_path), "2", timeout=90)
    assert done.returncode == 0, done.stderr
    assert len(wandb_fake.fake.versions()) == 2
    wandb_fake.audit(ag.Policy(keep_last=5))


def test_strict_fails_when_the_script_leaves_what_the_policy_deletes(wandb_fake, tmp_path):
    seed(wandb_fake.fake)
    wandb_fake.run(script(tmp_path), "7", timeout=90, check=True)
    assert wandb_fake.audit(ag.Policy(keep_last=5)).ok  # a warning only
    wandb_fake.audit(ag.Policy(keep_last=5), strict=True)


def test_comparing_changes_shows_them_as_the_cli_does(wandb_fake, tmp_path):
    seed(wandb_fake.fake)
    wandb_fake.run(script(tmp_path), "2", timeout=90, check=True)
    report = wandb_fake.audit(ag.Policy(keep_last=5), check=False)
    assert report.deletions == ()


def test_an_audit_compared_whole_shows_the_report(wandb_fake, tmp_path):
    seed(wandb_fake.fake)
    wandb_fake.run(script(tmp_path), "2", timeout=90, check=True)
    assert wandb_fake.audit(ag.Policy(keep_last=5), check=False) is None


def test_a_hanging_script_is_killed_at_the_timeout(wandb_fake, tmp_path):
    path = tmp_path / "hang.py"
    path.write_text("import time\\ntime.sleep(60)\\n")
    wandb_fake.run(path, timeout=1)
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines(
        [
            "*test_run_gives_the_scripts_output*",
            "*unsafe change to team/proj (3 violation(s)*",
            "*FAIL deleted team/proj/ckpt:v5, which the policy keeps: among the newest 5 (policy:keep-last)",
            "*NOT CONFORMING: 3 change(s) against the policy",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*test_strict_fails*", "*FAIL left team/proj/ckpt:v1-v2 (2 versions), which the policy deletes"]
    )
    # what the audit saw, as the CLI prints it, then pytest's own diff
    result.stdout.fnmatch_lines(
        [
            "*test_comparing_changes*",
            "*6 change(s), 0 breaking a safety rule:*",
            "*Left contains 6 more items*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_an_audit_compared_whole*",
            "*assert <AuditReport of team/proj: 6 version(s) deleted*",
            "*audit: 6 version(s) deleted*NOT CONFORMING: 3 change(s) against the policy",
            "*FAIL deleted team/proj/ckpt:v5, which the policy keeps: among the newest 5 (policy:keep-last)",
        ]
    )
    result.stdout.fnmatch_lines(["*wandb_fake.run: *hang.py did not finish within 1 s and was killed*"])
    assert "During handling of the above exception" not in result.stdout.str()
