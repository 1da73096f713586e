"""``artifact-guard simulate``: the seed page's scripts, run unmodified against the fake W&B.

These tests start wandb-core through real scripts: each carries a pytest
timeout, and the engine itself kills a script past its own timeout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from artifact_guard import _simulate
from artifact_guard._cli_simulate import register
from artifact_guard._simulate import SimulationError, simulate
from artifact_guard._snapshot import capture

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.server


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    return app


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes: it holds no resources but its entry.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- the seed page


@pytest.mark.timeout(60)
def test_the_undefined_variable_sample_is_reported_as_a_crash_with_its_name_error() -> None:
    result = simulate(EXAMPLES / "delete_versions_v3_v4.py", ["demo-team/vision/train-000"], seed="demo")

    assert result.exit_code == 2
    assert result.verdict == "crashed"
    run = result.runs[0]
    assert run.error is not None
    assert "NameError: name 'artifact' is not defined" in run.error
    assert "artifact.delete(delete_aliases=True)" in run.stderr_tail
    assert result.report.changes == ()  # it died before deleting anything
    assert "CRASHED" in result.explain()


@pytest.mark.timeout(60)
def test_deleting_everything_a_run_logged_breaks_aliases_consumers_and_empties_the_collection() -> None:
    result = simulate(EXAMPLES / "delete_run_artifacts.py", ["demo-team/vision/train-000"], seed="demo")

    assert result.exit_code == 1, result.explain()
    report = result.report
    assert len(report.deletions) == 40
    by_target = {v.change.target: set() for v in report.violations}
    for v in report.violations:
        by_target[v.change.target].add(v.rule)
    assert by_target["demo-team/vision/resnet50-000:v27"] == {"protected-alias", "has-aliases"}  # best
    assert by_target["demo-team/vision/resnet50-000:v39"] == {"has-aliases"}  # latest
    assert by_target["demo-team/vision/resnet50-000:v10"] == {"consumed"}  # eval-001 used it
    assert by_target["demo-team/vision/resnet50-000:v20"] == {"consumed"}
    assert by_target["demo-team/vision/resnet50-000"] == {"last-version"}
    # The config file every checkpoint shares is freed once; nothing else in the project shares files.
    assert report.bytes_freed == 40 * (95_000_000 + 190_000_000) + 4_000
    assert report.bytes_freed == sum(report.bytes_freed_by_collection.values())
    assert "UNSAFE" in result.explain()


@pytest.mark.timeout(60)
def test_a_refused_delete_mid_script_is_a_crash_and_what_went_before_is_still_audited() -> None:
    # train-004 logged the registry champion (protected alias): W&B refuses that delete.
    result = simulate(EXAMPLES / "delete_run_artifacts.py", ["demo-team/vision/train-004"], seed="demo")

    assert result.exit_code == 2
    assert "protected" in (result.runs[0].error or "")
    rules = {(v.change.target, v.rule) for v in result.report.violations}
    assert ("demo-team/vision/resnet50-004:v12", "registry-linked") in rules
    assert not any(c.target.endswith(":v33") for c in result.report.deletions)


@pytest.mark.timeout(90)
def test_pagination_both_flags_the_delete_while_paginating_hazard() -> None:
    result = simulate(
        EXAMPLES / "delete_unaliased_versions.py",
        ["demo-team/sweeps", "model", "checkpoints"],
        seed="many-checkpoints",
        pagination="both",
    )

    assert [r.pagination for r in result.runs] == ["stable", "offset"]
    stable, offset = result.runs
    assert stable.error is None and offset.error is None
    assert len(stable.report.deletions) == 119  # every version but the one holding latest
    assert len(offset.report.deletions) < 119
    assert result.pagination_dependent
    assert result.exit_code == 1
    assert any(f"{119 - len(offset.report.deletions)} version deletion(s)" in d for d in result.differences)
    assert "PAGINATION HAZARD" in result.explain()


@pytest.mark.timeout(90)
def test_promoting_best_then_deleting_the_old_holder_is_safe(tmp_path: Path) -> None:
    # Issue 10 (6): each change is judged on the state just before it, not before the whole script.
    script = tmp_path / "promote.py"
    script.write_text(
        "import wandb\n"
        "api = wandb.Api()\n"
        "new = api.artifact('demo-team/vision/resnet50-000:v38')\n"
        "new.aliases.append('best')\n"
        "new.save()\n"
        "old = api.artifact('demo-team/vision/resnet50-000:v27')\n"
        "assert 'best' not in old.aliases, old.aliases\n"
        "old.delete()\n"
    )
    result = simulate(script, seed="demo")
    run = result.runs[0]
    assert run.error is None, run.stderr_tail
    (deleted,) = run.report.deletions
    assert deleted.target.endswith("resnet50-000:v27") and deleted.ok
    assert result.exit_code == 0, result.explain()


@pytest.mark.timeout(60)
def test_a_snapshot_file_is_an_offline_copy_of_the_project(tmp_path: Path) -> None:
    from artifact_guard._snapshot_file import write_snapshot
    from fakes.demo import DEMO_PROJECT, seed_demo

    fake = seed_demo()
    path = write_snapshot(
        capture(fake.repository(), DEMO_PROJECT, dedupe=fake.dedupe, now=fake.now()),
        tmp_path / "vision.json.gz",
    )
    result = simulate(EXAMPLES / "delete_run_artifacts.py", ["demo-team/vision/train-000"], snapshot=path)

    assert result.exit_code == 1, result.explain()
    assert len(result.report.deletions) == 40
    assert {(v.change.target.rsplit(":", 1)[-1], v.rule) for v in result.report.violations} == {
        ("v10", "consumed"),
        ("v20", "consumed"),
        ("v27", "protected-alias"),
        ("v27", "has-aliases"),
        ("v39", "has-aliases"),
        ("demo-team/vision/resnet50-000", "last-version"),
    }


@pytest.mark.timeout(60)
def test_a_policy_file_decides_what_counts_as_a_violation(tmp_path: Path) -> None:
    policy = tmp_path / "artifact-guard.toml"
    policy.write_text(
        # No retention key: the script deletes whole runs' output, which keep-last would not conform to.
        "protected-aliases = []\n\n[permissions]\ndelete-aliases = true\n"
        "delete-consumed = true\ndelete-last-version = true\n"
    )
    result = CliRunner().invoke(
        _cli(),
        [
            "simulate",
            str(EXAMPLES / "delete_run_artifacts.py"),
            "demo-team/vision/train-000",
            "--seed",
            "demo",
            "--policy",
            str(policy),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "SAFE" in result.output
    assert "waived consumed, has-aliases, last-version" in result.output


# --------------------------------------------------------------------------- bad input


def test_a_policy_file_with_errors_exits_2_naming_the_key(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    policy = tmp_path / "artifact-guard.toml"
    policy.write_text('keep-last = "five"\n')
    result = CliRunner().invoke(_cli(), ["simulate", str(script), "--seed", "demo", "--policy", str(policy)])
    assert result.exit_code == 2
    assert "keep-last" in result.output
    assert "Traceback" not in result.output


def test_a_missing_script_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="does not exist"):
        simulate(tmp_path / "nope.py", seed="demo")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of --seed"),
        ({"seed": "demo", "snapshot": "x.json"}, "exactly one of --seed"),
        ({"seed": "prod"}, "unknown seed 'prod'"),
        ({"seed": "demo", "pagination": "cursor"}, "--pagination must be"),
        ({"seed": "demo", "timeout": 0}, "--timeout must be"),
        ({"seed": "demo", "project": "nope"}, "--project"),
    ],
)
def test_bad_options_are_refused_with_one_clear_line(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    with pytest.raises(SimulationError, match=message.replace("-", r"\-").replace("'", "'")):
        simulate(script, **kwargs)  # type: ignore[arg-type]


def test_a_snapshot_that_does_not_parse_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "artifact-guard-snapshot", "versions": [')
    result = CliRunner().invoke(_cli(), ["simulate", str(script), "--snapshot", str(broken)])
    assert result.exit_code == 2
    assert "broken.json" in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.timeout(60)
def test_a_script_exiting_non_zero_is_a_crash_with_its_stderr_tail(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('about to fail', file=sys.stderr)\nsys.exit(3)\n")
    result = simulate(script, seed="demo")
    assert result.exit_code == 2
    assert result.runs[0].returncode == 3
    assert "status 3: about to fail" in (result.runs[0].error or "")


@pytest.mark.timeout(60)
def test_a_hanging_script_is_killed_with_wandb_core_and_reported(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "hang.py"
    # The script starts wandb-core (wandb.Api() + a request), records every
    # process carrying its simulation marker, then hangs.
    script.write_text(
        "import os, sys, time, wandb\n"
        f"sys.path.insert(0, {str(EXAMPLES.parent)!r})\n"
        "from artifact_guard._simulate import _marked_pids, MARKER\n"
        "api = wandb.Api()\n"
        "api.viewer\n"
        f"open({str(pids)!r}, 'w').write(' '.join(map(str, _marked_pids(os.environ[MARKER]))))\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    result = simulate(script, seed="demo", timeout=5)
    assert time.monotonic() - started < 30
    assert result.exit_code == 2
    assert result.runs[0].timed_out
    assert "did not finish within 5 s" in (result.runs[0].error or "")
    seen = [int(p) for p in pids.read_text().split()]
    assert len(seen) >= 2, "expected the script and wandb-core"
    assert not [p for p in seen if _pid_alive(p)]


@pytest.mark.timeout(60)
def test_a_script_that_forks_and_leaves_a_child_is_reported_and_the_child_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child"
    script = tmp_path / "fork.py"
    script.write_text(
        "import os, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()  # escape the process group too\n"
        "    time.sleep(600)\n"
        "    os._exit(0)\n"
        f"open({str(pid_file)!r}, 'w').write(str(pid))\n"
    )
    result = simulate(script, seed="demo")
    assert result.exit_code == 2
    assert "left 1 process(es) running" in (result.runs[0].error or "")
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(child)


@pytest.mark.timeout(60)
def test_a_process_with_a_stripped_environment_in_a_new_session_cannot_escape(tmp_path: Path) -> None:
    # Issue 10 (10): the grandchild carries no marker, leaves the session and loses its parent
    # (double fork): only a subreaper (or a psutil walk of the tree while it stands) finds it.
    pid_file = tmp_path / "grandchild"
    grandchild = tmp_path / "grandchild.py"
    grandchild.write_text(
        "import os, sys, time\n"
        "if os.fork():\n"
        "    os._exit(0)  # its parent goes: orphaned, it would be re-parented to init\n"
        "os.setsid()\n"
        "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )
    script = tmp_path / "escape.py"
    script.write_text(
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(grandchild)!r}, {str(pid_file)!r}],\n"
        "                 env={'PATH': '/usr/bin:/bin'}, start_new_session=True).wait()\n"
        f"while not os.path.exists({str(pid_file)!r}):\n"
        "    time.sleep(0.01)\n"
    )
    result = simulate(script, seed="demo")
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _pid_alive(child)
    if alive:
        os.kill(child, 9)  # never leave it behind, even when the test fails
    assert not alive, "the grandchild outlived simulate"
    assert result.exit_code == 2
    assert "left 1 process(es) running" in (result.runs[0].error or "")
    assert "grandchild.py" in (result.runs[0].error or "")


# --------------------------------------------------------------------------- the command


@pytest.mark.timeout(60)
def test_cli_json_and_html_reports(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        _cli(),
        [
            "simulate",
            str(EXAMPLES / "delete_versions_v3_v4.py"),
            "demo-team/vision/train-000",
            "--seed",
            "demo",
            "--json",
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert (data["format"], data["format_version"]) == ("artifact-guard-simulate", 2)
    assert data["verdict"] == "crashed"
    assert data["args"] == ["demo-team/vision/train-000"]
    assert "NameError" in data["runs"][0]["error"]
    text = page.read_text()
    assert "NameError" in text and "<script" not in text


@pytest.mark.timeout(60)
def test_cli_safe_script_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "noop.py"
    script.write_text(
        "import wandb\napi = wandb.Api()\nprint(len(list(api.artifact_types('demo-team/vision'))))\n"
    )
    result = CliRunner().invoke(_cli(), ["simulate", str(script), "--seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "SAFE" in result.output


def test_module_has_no_stray_public_names() -> None:
    assert set(_simulate.__all__) <= set(vars(_simulate))
    assert sys.executable  # the engine runs scripts with this interpreter


def test_html_report_escapes_every_name_and_output() -> None:
    from datetime import datetime, timedelta

    from artifact_guard import Policy, audit
    from artifact_guard._simulate import ScriptRun, SimulationResult, render_html
    from fakes import FakeWandb

    fake = FakeWandb(now=datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
    run = fake.create_run("team/proj", "r")
    hostile = "<img src=x onerror=alert(1)>"
    v = fake.log_artifact(run, hostile, "model", {"a": b"a"}, created_at=fake.now() - timedelta(days=9))
    fake.log_artifact(run, hostile, "model", {"a": b"b"}, created_at=fake.now() - timedelta(days=9))
    before = capture(fake.repository(), "team/proj", now=fake.now())
    fake.delete_version(v.id)
    report = audit(before, fake, Policy())
    result = SimulationResult(
        script="<script>alert(2)</script>.py",
        args=(),
        scope=report.scope,
        runs=(ScriptRun("stable", 1, False, 0.1, "", "<script>alert(3)</script>", (), report, 3),),
    )
    page = render_html(result)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;:v0" in page
