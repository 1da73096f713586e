"""The artifact-guard CLI, in-process (typer's CliRunner): commands, JSON, exit codes, bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import artifact_guard as ag
from artifact_guard import Policy
from artifact_guard._plan_io import load_plan
from fakes import FakeRepository
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import Invoke, one_error_line

COMMANDS = ["inventory", "plan", "apply", "status", "resume", "snapshot", "serve-fake", "demo", "policy"]


def test_help_lists_every_command_with_examples_and_exit_codes(cli: Invoke) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert "Examples:" in result.stdout
    assert "Exit codes: 0 ok; 1" in result.stdout


@pytest.mark.parametrize("command", ["inventory", "plan", "apply", "status", "resume", "snapshot"])
def test_each_command_has_help_with_an_example(cli: Invoke, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


# ------------------------------------------------------------------ inventory


def test_inventory_counts_each_stored_file_once_per_dedupe_scope(cli: Invoke, small_snapshot: Path) -> None:
    result = cli("inventory", "team/proj", "--snapshot", str(small_snapshot), "--json", "--dedupe", "project")
    assert result.exit_code == 0, result.stderr
    inv = json.loads(result.stdout)
    assert inv["format"] == "artifact-guard-inventory"
    by_name = {c["name"]: c for c in inv["collections"]}
    # a: files of 100 and 30 bytes, plus 50 shared with b; b: the shared 50 plus 7.
    assert (by_name["a"]["versions"], by_name["a"]["stored_bytes"], by_name["a"]["exclusive_bytes"]) == (
        2,
        180,
        130,
    )
    assert (by_name["b"]["stored_bytes"], by_name["b"]["exclusive_bytes"]) == (57, 7)
    assert by_name["a"]["aliases"] == ["latest"]
    assert by_name["a"]["last_logged"] == "2026-11-19T12:00:00+00:00"
    assert inv["stored_bytes"] == 187
    assert {t["type"]: t["exclusive_bytes"] for t in inv["types"]} == {"model": 130, "dataset": 7}


def test_inventory_with_collection_dedupe_holds_a_copy_per_collection(
    cli: Invoke, small_snapshot: Path
) -> None:
    inv = json.loads(cli("inventory", "team/proj", "--snapshot", str(small_snapshot), "--json").stdout)
    by_name = {c["name"]: c for c in inv["collections"]}
    assert by_name["a"]["exclusive_bytes"] == 180 and by_name["b"]["exclusive_bytes"] == 57
    assert inv["stored_bytes"] == 237


def test_inventory_table(cli: Invoke) -> None:
    result = cli("inventory", DEMO_PROJECT, "--seed", "demo")
    assert result.exit_code == 0
    assert "resnet50-000" in result.stdout and "versions" in result.stdout


# ------------------------------------------------------------------ plan and apply


def test_plan_writes_json_and_html_and_prints_the_same_json(
    cli: Invoke, model_policy: Path, tmp_path: Path
) -> None:
    result = cli(
        "plan",
        DEMO_PROJECT,
        "--seed",
        "demo",
        "-p",
        str(model_policy),
        "-o",
        "plan.json",
        "--html",
        "p.html",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "plan.json").read_text())
    assert printed["policy"]["types"] == ["model"]
    assert "<!DOCTYPE html>" in (tmp_path / "p.html").read_text()
    the_plan = load_plan(tmp_path / "plan.json")
    assert len(the_plan.deletions) == printed["summary"]["delete"] > 0


def test_plan_table_says_why(cli: Invoke, model_policy: Path) -> None:
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy))
    assert result.exit_code == 0
    assert "protected-alias" in result.stdout and "reclaimable:" in result.stdout


def test_apply_yes_deletes_the_plan_and_frees_the_predicted_bytes(cli: Invoke, model_policy: Path) -> None:
    assert (
        cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json").exit_code == 0
    )
    result = cli("apply", "plan.json", "--seed", "demo", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    planned = load_plan("plan.json")
    assert sorted(d["id"] for d in outcome["done"]) == sorted(d.version.id for d in planned.deletions)
    assert outcome["freed_bytes"] == planned.reclaimable_bytes == outcome["predicted_bytes"]


@pytest.fixture
def spy_apply(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every call of artifact_guard.apply (the CLI imports it when it runs)."""
    calls: list[Any] = []

    def fake_apply(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        raise AssertionError("apply must not be reached")

    monkeypatch.setattr(ag, "apply", fake_apply)
    return calls


def test_apply_asks_and_a_no_deletes_nothing(cli: Invoke, model_policy: Path, spy_apply: list[Any]) -> None:
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    result = cli("apply", "plan.json", "--seed", "demo", input="n\n")
    assert result.exit_code == 1
    assert "Delete 1" in result.stderr and "not applied: nothing deleted" in result.stdout
    assert spy_apply == []


def test_a_hand_edited_plan_is_refused_before_anything_is_deleted(
    cli: Invoke, model_policy: Path, spy_apply: list[Any], tmp_path: Path
) -> None:
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    doc = json.loads((tmp_path / "plan.json").read_text())
    blocked = next(d for d in doc["decisions"] if d["blocked"])
    blocked["action"], blocked["blocked"] = "delete", False
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    line = one_error_line(cli("apply", "plan.json", "--seed", "demo", "--yes"))
    assert line.startswith("error: plan.json: decisions[")
    assert "marked delete, but safety rule" in line
    assert spy_apply == []


# ------------------------------------------------------------------ bad input: one line, exit 2


@pytest.mark.parametrize(
    ("policy_text", "expected"),
    [
        ("keep-last = [", "error: p.toml: (syntax): invalid TOML"),
        ("keep-lats = 3", "error: p.toml: keep-lats: unknown key; did you mean 'keep-last'?"),
        ('keep-last = "3"', "error: p.toml: keep-last: expected an integer >= 0"),
        ('keep-aliases = true\naliases = "aliased"', "error: p.toml: keep-aliases: conflicts with aliases"),
        ("", "error: the policy keeps nothing"),
    ],
)
def test_bad_policy_files_give_one_line_and_exit_2(
    cli: Invoke, tmp_path: Path, policy_text: str, expected: str
) -> None:
    (tmp_path / "p.toml").write_text(policy_text)
    line = one_error_line(cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", "p.toml"))
    assert line.startswith(expected), line
    assert one_error_line(cli("policy", "explain", "p.toml")).startswith(expected)


def test_a_snapshot_from_a_newer_format_is_refused(
    cli: Invoke, small_snapshot: Path, model_policy: Path
) -> None:
    doc = json.loads(small_snapshot.read_text())
    doc["format_version"] = 99
    small_snapshot.write_text(json.dumps(doc))
    line = one_error_line(
        cli("plan", "team/proj", "--snapshot", str(small_snapshot), "-p", str(model_policy))
    )
    assert "newer" in line


@pytest.mark.parametrize(
    "args",
    [
        ["plan", DEMO_PROJECT, "--seed", "demo", "-p", "missing.toml"],
        ["apply", "missing.json", "--seed", "demo"],
        ["inventory", DEMO_PROJECT, "--snapshot", "missing.json"],
        ["status", "--journal", "missing.sqlite3"],
        ["resume", "--journal", "missing.sqlite3", "--seed", "demo"],
        ["inventory", "not-a-scope", "--seed", "demo"],
        ["inventory", DEMO_PROJECT, "--seed", "nope"],
        ["inventory", DEMO_PROJECT, "--seed", "demo", "--snapshot", "x.json"],
        ["plan", DEMO_PROJECT, "--seed", "demo", "-p", "p.toml", "--interactive"],
    ],
)
def test_bad_paths_and_usage_exit_2_without_traceback(cli: Invoke, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "p.toml").write_text("keep-last = 1\n")
    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip()


def test_unwritable_outputs_are_one_line(cli: Invoke, model_policy: Path) -> None:
    line = one_error_line(
        cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "no/dir/p.json")
    )
    assert "cannot write plan file" in line
    line = one_error_line(cli("snapshot", DEMO_PROJECT, "--seed", "demo", "-o", "no/dir/s.json"))
    assert "no/dir/s.json" in line


# ------------------------------------------------------------------ snapshot, policy explain


def test_snapshot_then_plan_offline_from_it(cli: Invoke, model_policy: Path, tmp_path: Path) -> None:
    written = cli("snapshot", DEMO_PROJECT, "--seed", "demo", "-o", "demo.json.gz", "--json")
    assert written.exit_code == 0
    assert json.loads(written.stdout)["versions"] == len(seed_demo().versions(scope=DEMO_PROJECT))
    from_snapshot = cli("plan", DEMO_PROJECT, "--snapshot", "demo.json.gz", "-p", str(model_policy), "--json")
    from_seed = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "--json")
    a, b = json.loads(from_snapshot.stdout), json.loads(from_seed.stdout)
    assert [d["action"] for d in a["decisions"]] == [d["action"] for d in b["decisions"]]
    assert a["reclaimable_bytes"] == b["reclaimable_bytes"]


def test_policy_explain_words_and_json(cli: Invoke, model_policy: Path) -> None:
    words = cli("policy", "explain", str(model_policy))
    assert words.exit_code == 0
    assert "Keeps the newest 5 of each collection." in words.stdout
    data = json.loads(cli("policy", "explain", str(model_policy), "--json").stdout)
    assert data["policy"]["keep-last"] == 5 and data["explanation"][0].startswith("Considers")


# ------------------------------------------------------------------ journal: status and resume


def test_status_and_resume_finish_an_interrupted_apply(cli: Invoke, tmp_path: Path) -> None:
    fake = seed_demo()
    the_plan = ag.plan(
        fake.repository(), DEMO_PROJECT, Policy(keep_last=30, types=("model",)), now=fake.now()
    )
    journal = tmp_path / "journal.sqlite3"
    flaky = _FailingAfter(fake.repository(), writes=3)
    first = ag.apply(the_plan, flaky, journal=journal, now=fake.now(), concurrency=1, sleep=lambda s: None)
    assert not first.complete and first.stopped

    status = cli("status", "--journal", str(journal), "--json")
    assert status.exit_code == 1
    recorded = json.loads(status.stdout)
    assert recorded["pending"] and len(recorded["done"]) == 3

    resumed = cli("resume", "--journal", str(journal), "--seed", "demo", "--yes", "--json")
    assert resumed.exit_code == 0, resumed.stderr
    outcome = json.loads(resumed.stdout)
    assert outcome["ok"] and not outcome["pending"]
    assert sorted(d["id"] for d in outcome["done"]) == sorted(d.version.id for d in the_plan.deletions)

    again = cli("status", "--journal", str(journal))
    assert again.exit_code == 0
    assert (
        cli("resume", "--journal", str(journal), "--seed", "demo")
        .stdout.strip()
        .endswith("nothing to resume")
    )


class _FailingAfter:
    """A repository whose credentials are refused after ``writes`` write calls: the apply stops."""

    default_rate = None

    def __init__(self, inner: FakeRepository, *, writes: int) -> None:
        self._inner = inner
        self._left = writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        if self._left <= 0:
            raise ag.AuthenticationError("credentials revoked")
        self._left -= 1
        self._inner.delete_version(version_id, delete_aliases=delete_aliases)

    def delete_collection(self, collection: ag.CollectionRef) -> None:
        raise ag.AuthenticationError("credentials revoked")


def test_apply_journal_in_the_workspace_is_what_status_reads(cli: Invoke, model_policy: Path) -> None:
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    assert cli("apply", "plan.json", "--seed", "demo", "--yes", "--journal", "j.sqlite3").exit_code == 0
    status = json.loads(cli("status", "--journal", "j.sqlite3", "--json").stdout)
    assert status["ok"] and status["plan_id"] == load_plan("plan.json").id


def test_grace_period_in_policy_file_reaches_the_plan(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('keep-last = 1\ngrace-period = "0s"\n')
    doc = json.loads(cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", "p.toml", "--json").stdout)
    assert doc["policy"]["grace-period"] == "0s"
    assert Policy(keep_last=1, grace_period=timedelta(0)) == load_plan_from(doc).policy


def load_plan_from(doc: dict[str, Any]) -> ag.Plan:
    from artifact_guard._plan_io import plan_from_json

    return plan_from_json(doc)


def test_apply_revalidates_a_plan_older_than_the_state(cli: Invoke, tmp_path: Path) -> None:
    # Plan against yesterday's snapshot; apply against today's, where someone gave v1 an alias.
    from artifact_guard import capture
    from artifact_guard._snapshot_file import write_snapshot
    from fakes import FakeWandb

    from .conftest import NOW

    fake = FakeWandb(now=NOW)
    run = fake.create_run("team/proj", "r")
    versions = [
        fake.log_artifact(run, "m", "model", {"f": bytes([i]) * 10}, created_at=NOW - timedelta(days=9 - i))
        for i in range(5)
    ]
    write_snapshot(capture(fake.repository(), "team/proj", now=fake.now()), tmp_path / "before.json")
    fake.advance(timedelta(days=1))
    fake.add_aliases(versions[1], ["keep-me"])
    write_snapshot(capture(fake.repository(), "team/proj", now=fake.now()), tmp_path / "after.json")
    (tmp_path / "p.toml").write_text("keep-last = 1\n")

    assert (
        cli("plan", "team/proj", "--snapshot", "before.json", "-p", "p.toml", "-o", "plan.json").exit_code
        == 0
    )
    assert versions[1].id in {d.version.id for d in load_plan("plan.json").deletions}
    result = cli("apply", "plan.json", "--snapshot", "after.json", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert "the plan is 1 day old: every deletion is re-validated" in result.stderr
    outcome = json.loads(result.stdout)
    assert [s["id"] for s in outcome["skipped"]] == [versions[1].id]
    assert sorted(d["id"] for d in outcome["done"]) == sorted(
        v.id for v in versions[:4] if v is not versions[1]
    )


def test_ctrl_c_exits_130_and_says_how_to_finish_an_apply(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from artifact_guard import cli as cli_module

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "app", interrupted)
    with pytest.raises(SystemExit) as stopped:
        cli_module.main()
    assert stopped.value.code == 130
    err = capsys.readouterr().err
    assert "artifact-guard resume" in err and "Traceback" not in err
