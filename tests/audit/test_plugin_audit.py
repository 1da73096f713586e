"""``wandb_fake.audit(policy)`` and the ``wandb_strict`` marker, run in-process with pytester."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.server

PREAMBLE = '''
import subprocess, sys
from datetime import timedelta

import pytest

import artifact_guard as ag

DELETE_V0 = """
import wandb
wandb.Api().artifact("team/proj/model:v0").delete(delete_aliases=True)
"""


def seed(fake):
    run = fake.create_run("team/proj", "r1")
    old = fake.now() - timedelta(days=30)
    fake.log_artifact(run, "model", "model", {"w.bin": b"0"}, aliases=["production"], created_at=old)
    fake.log_artifact(run, "model", "model", {"w.bin": b"1"}, created_at=old)
    fake.log_artifact(run, "model", "model", {"w.bin": b"2"}, created_at=old)


def run_script(wandb_fake, code):
    subprocess.run([sys.executable, "-c", code], env=wandb_fake.env, timeout=60, check=True)
'''


@pytest.mark.timeout(120)
def test_audit_fails_the_test_listing_each_violation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PREAMBLE
        + """
def test_cleanup(wandb_fake):
    seed(wandb_fake.fake)
    run_script(wandb_fake, DELETE_V0)
    wandb_fake.audit(ag.Policy())
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*unsafe change to team/proj (2 violation(s), found by wandb_fake.audit(policy))*",
            # the report as the CLI prints it, then per rule the setting that waives it
            "*FAIL deleted team/proj/model:v0 (aliases production)",
            "*- protected-alias: holds protected alias production",
            "*- has-aliases: holds aliases production",
            "*If the test means to allow this*",
            "*has-aliases: waived by Policy(allow_delete_aliases=True)",
        ]
    )


@pytest.mark.timeout(120)
def test_audit_without_check_returns_the_report_and_safe_changes_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PREAMBLE
        + """
DELETE_V1 = DELETE_V0.replace(":v0", ":v1")

def test_cleanup(wandb_fake):
    seed(wandb_fake.fake)
    run_script(wandb_fake, DELETE_V1)
    report = wandb_fake.audit(ag.Policy())
    assert report.ok
    assert [c.target for c in report.deletions] == ["team/proj/model:v1"]
    assert report.bytes_freed == 1
    wandb_fake.fake.delete_version(wandb_fake.fake.resolve("team/proj/model:v0").id, delete_aliases=True)
    # In-process changes after the baseline are seen too.
    unsafe = wandb_fake.audit(ag.Policy(), check=False)
    assert [v.rule for v in unsafe.violations] == ["protected-alias", "has-aliases"]
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.timeout(120)
def test_strict_marker_fails_a_test_that_never_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PREAMBLE
        + """
@pytest.mark.wandb_strict
def test_unchecked_unsafe(wandb_fake):
    seed(wandb_fake.fake)
    run_script(wandb_fake, DELETE_V0)

@pytest.mark.wandb_strict(policy=ag.Policy(allow_delete_aliases=True, protected_aliases=[]))
def test_unchecked_but_allowed(wandb_fake):
    seed(wandb_fake.fake)
    run_script(wandb_fake, DELETE_V0)

def test_not_strict(wandb_fake):
    seed(wandb_fake.fake)
    run_script(wandb_fake, DELETE_V0)
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unchecked_unsafe*",
            "*found by @pytest.mark.wandb_strict*",
            "*protected-alias: holds protected alias production*",
        ]
    )


@pytest.mark.timeout(60)
def test_checkpoint_sets_the_baseline_for_in_process_code(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PREAMBLE
        + """
def test_in_process(wandb_fake):
    seed(wandb_fake.fake)
    wandb_fake.checkpoint()
    repo = wandb_fake.fake.repository()
    ag.apply(ag.plan(repo, "team/proj", ag.Policy(keep_last=1), now=wandb_fake.fake.now()), repo)
    report = wandb_fake.audit(ag.Policy(keep_last=1))
    assert [c.target for c in report.deletions] == ["team/proj/model:v1"]

def test_nothing_reached_the_server(wandb_fake):
    seed(wandb_fake.fake)
    report = wandb_fake.audit()
    assert report.ok and not report.changes
    assert "checkpoint()" in report.explain()

def test_several_projects_need_a_choice(wandb_fake):
    seed(wandb_fake.fake)
    other = wandb_fake.fake.create_run("team/other", "r")
    wandb_fake.fake.log_artifact(other, "m", "model", {"a": b"a"})
    with pytest.raises(pytest.UsageError, match="several projects"):
        wandb_fake.audit()
    assert wandb_fake.audit(project="team/other").ok
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_strict_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["*@pytest.mark.wandb_strict(policy=None)*"])
