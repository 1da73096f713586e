"""Red-team regressions: hostile input gets one clear line and exit 2, never a traceback or a deletion.

Each test here reproduces a defect found by feeding the product broken input
(see the report of helper H); the fix lives in the module that owns the behaviour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import artifact_guard as ag
import fakes
from artifact_guard import capture
from artifact_guard._snapshot_file import write_snapshot
from artifact_guard.cli import app
from fakes.demo import seed_demo

SENTINEL_KEY = "SENTINEL-hardening-" + "k" * 40


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTIFACT_GUARD_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "pol.toml").write_text("keep-last = 2\n")
    return CliRunner()


def _run(runner: CliRunner, *args: str, input: str | None = None) -> Result:  # noqa: A002 - CliRunner's name
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


# ---------------------------------------------------------------- usage errors: one line, not click's four


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan", "demo-team", "--seed", "demo", "-p", "pol.toml"], "expected entity/project"),
        (["plan", "a/b/c", "--seed", "demo", "-p", "pol.toml"], "expected entity/project"),
        (["plan", "demo-team/vision\n", "--seed", "demo", "-p", "pol.toml"], "'demo-team/vision\\n'"),
        (["inventory", "demo-team/vision ", "--seed", "demo"], "'demo-team/vision '"),
        (["snapshot", "demo team/vision", "--seed", "demo", "-o", "s.json"], "'demo team/vision'"),
        (["plan", "demo-team/vision", "--seed", "nope", "-p", "pol.toml"], "unknown seed 'nope'"),
        (["plan", "demo-team/vision", "--seed", "demo"], "--policy"),
        (["plan", "--seed", "demo", "-p", "pol.toml"], "SCOPE"),
        (["inventory", "demo-team/vision", "--seed", "demo", "--dedupe", "bogus"], "--dedupe"),
        (["inventory", "demo-team/vision", "--seed", "demo", "--bogus-option"], "--bogus-option"),
        (["serve-fake", "--pagination", "bogus"], "--pagination"),
        (["simulate", "x.py", "--seed", "demo", "--pagination", "bogus"], "--pagination"),
        (["apply", "plan.json", "--rate", "fast"], "--rate"),
        (["no-such-command"], "no-such-command"),
        (["policy", "no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors_are_one_line(cli: CliRunner, args: list[str], expected: str) -> None:
    line = _one_error_line(_run(cli, *args))
    assert expected in line
    assert "--help" in line  # still points to the help


def test_a_group_without_arguments_still_shows_its_help(cli: CliRunner) -> None:
    result = _run(cli, "policy")
    assert "explain" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# ------------------------------------------------ apply --rate: nonsense is refused, not "no limit"


@pytest.mark.parametrize("rate", ["-1", "-0.5", "nan", "-inf"])
def test_apply_refuses_a_nonsense_rate_before_deleting(cli: CliRunner, rate: str) -> None:
    assert (
        _run(cli, "plan", "demo-team/vision", "--seed", "demo", "-p", "pol.toml", "-o", "plan.json").exit_code
        == 0
    )
    result = _run(cli, "apply", "plan.json", "--seed", "demo", "--yes", "--rate", rate)
    assert "--rate" in _one_error_line(result)
    assert "deleted" not in result.stdout


def test_apply_rate_zero_still_means_no_limit(cli: CliRunner) -> None:
    assert (
        _run(cli, "plan", "demo-team/vision", "--seed", "demo", "-p", "pol.toml", "-o", "plan.json").exit_code
        == 0
    )
    result = _run(cli, "apply", "plan.json", "--seed", "demo", "--yes", "--rate", "0")
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------- snapshots with absurd numbers


@pytest.fixture(scope="module")
def demo_snapshot() -> dict[str, object]:
    from artifact_guard._snapshot_file import snapshot_to_json

    fake = seed_demo()
    data: dict[str, object] = snapshot_to_json(capture(fake.repository(), "demo-team/vision", now=fake.now()))
    return json.loads(json.dumps(data))  # type: ignore[no-any-return]


# JSON (as Python reads it) allows NaN and Infinity literals; 2**70 and 1e308 overflow a timedelta.
ABSURD_SECONDS = ["2**70", "1e308", "NaN", "Infinity"]


@pytest.mark.parametrize("value", ABSURD_SECONDS)
def test_snapshot_with_absurd_ttl_is_a_snapshot_error(
    tmp_path: Path, demo_snapshot: dict[str, object], value: str, cli: CliRunner
) -> None:
    versions = demo_snapshot["versions"]
    assert isinstance(versions, list)
    text = json.dumps({**demo_snapshot, "versions": [{**versions[0], "ttl_seconds": 12345}, *versions[1:]]})
    literal = str(2**70) if value == "2**70" else value
    text = text.replace('"ttl_seconds": 12345', f'"ttl_seconds": {literal}', 1)
    path = tmp_path / "absurd.json"
    path.write_text(text)
    with pytest.raises(ag.SnapshotError, match="ttl_seconds"):
        ag.read_snapshot(path)
    with pytest.raises(ag.SnapshotError, match="ttl_seconds"):
        fakes.load_snapshot(path)
    line = _one_error_line(_run(cli, "plan", "demo-team/vision", "--snapshot", str(path), "-p", "pol.toml"))
    assert "ttl_seconds" in line


def test_snapshot_with_a_long_but_finite_ttl_still_reads(
    tmp_path: Path, demo_snapshot: dict[str, object]
) -> None:
    versions = demo_snapshot["versions"]
    assert isinstance(versions, list)
    data = {**demo_snapshot, "versions": [{**versions[0], "ttl_seconds": 10 * 365 * 86400}, *versions[1:]]}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(data))
    assert fakes.load_snapshot(path) is not None


def test_a_ttl_of_millennia_neither_expires_nor_overflows(
    tmp_path: Path, demo_snapshot: dict[str, object]
) -> None:
    versions = demo_snapshot["versions"]
    assert isinstance(versions, list)
    data = {**demo_snapshot, "versions": [{**versions[0], "ttl_seconds": 1e13}, *versions[1:]]}
    path = tmp_path / "millennia.json"
    path.write_text(json.dumps(data))
    fake = fakes.load_snapshot(path)
    assert fake.expire_ttl() == []


# ---------------------------------------------------------------- a base URL that is not a URL


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://127.0.0.1:9", "http://", "http://host:port", f"ftp://user:{SENTINEL_KEY}@host"],
)
def test_wandb_repository_refuses_a_base_url_that_is_not_http(url: str) -> None:
    from artifact_guard.adapters.wandb import WandbRepository

    with pytest.raises(ag.ArtifactGuardError) as info:
        WandbRepository(api_key=SENTINEL_KEY, base_url=url, timeout=2)
    message = str(info.value)
    assert "\n" not in message
    assert "base URL" in message
    assert SENTINEL_KEY not in message + repr(info.value)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1:9"])
def test_cli_with_a_bad_wandb_base_url_is_one_line(tmp_path: Path, url: str) -> None:
    env = {
        **os.environ,
        "WANDB_BASE_URL": url,
        "WANDB_API_KEY": SENTINEL_KEY,
        "WANDB_CONFIG_DIR": str(tmp_path / "config"),
        "WANDB_CACHE_DIR": str(tmp_path / "cache"),
        "WANDB_DIR": str(tmp_path / "runs"),
        "WANDB_ERROR_REPORTING": "false",
        "NETRC": os.devnull,
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "artifact_guard.cli",
            "inventory",
            "a/b",
            "--workspace",
            str(tmp_path / "ws.sqlite3"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "WANDB_BASE_URL" in lines[0] or "base URL" in lines[0]
    assert SENTINEL_KEY not in proc.stdout + proc.stderr


# ---------------------------------------------------------------- used by the checks above


def test_write_snapshot_round_trip_still_works(tmp_path: Path) -> None:
    # Guards the helpers above: a clean demo snapshot still plans.
    fake = seed_demo()
    path = write_snapshot(capture(fake.repository(), "demo-team/vision", now=fake.now()), tmp_path / "s.json")
    assert ag.read_snapshot(path).scope == ag.Scope.parse("demo-team/vision")


# ---------------------------------------------------------------- hand-edited or half-copied journals


@pytest.fixture(scope="module")
def finished_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fake = seed_demo()
    the_plan = ag.plan(fake.repository(), "demo-team/vision", ag.Policy(keep_last=2), now=fake.now())
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite3"
    ag.apply(the_plan, seed_demo().repository(), journal=path, now=fake.now())
    return path


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DROP TABLE journal_ops", "no such table: journal_ops"),
        ("ALTER TABLE journal_plans DROP COLUMN stop_reason", "stop_reason"),
        ("UPDATE journal_plans SET format = 'x'", "format is 'x'"),
        ("UPDATE journal_plans SET reclaimable_bytes = 'abc'", "expected an integer"),
        ("UPDATE journal_ops SET attempts = 'q' WHERE op_id = 1", "expected an integer"),
        ("UPDATE journal_ops SET parent = 'p' WHERE op_id = 1", "expected an integer"),
    ],
)
@pytest.mark.parametrize("command", ["status", "resume"])
def test_a_broken_journal_is_one_line_and_deletes_nothing(
    cli: CliRunner, tmp_path: Path, finished_journal: Path, sql: str, expected: str, command: str
) -> None:
    import shutil
    import sqlite3

    path = tmp_path / "broken.sqlite3"
    shutil.copy(finished_journal, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE journal_plans SET status = 'open'")
        conn.execute("UPDATE journal_ops SET state = 'pending' WHERE op_id < 5")
        conn.execute(sql)
    conn.close()
    args = ["--journal", str(path)] + (["--seed", "demo", "--yes"] if command == "resume" else [])
    result = _run(cli, command, *args)
    assert expected in _one_error_line(result)
    with pytest.raises(ag.JournalError):
        ag.journal_status(path)


# ---------------------------------------------------------------- numbers beyond W&B's Int64


@pytest.mark.parametrize("field", ["manifest-size", "size", "index"])
def test_a_snapshot_number_beyond_int64_is_a_snapshot_error(
    cli: CliRunner, tmp_path: Path, demo_snapshot: dict[str, object], field: str
) -> None:
    data = json.loads(json.dumps(demo_snapshot))
    version = data["versions"][0]
    if field == "manifest-size":
        version["manifest"][0]["size"] = 2**70
    else:
        version[field] = 2**63
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ag.SnapshotError, match="Int64"):
        fakes.load_snapshot(path)
    assert "Int64" in _one_error_line(
        _run(cli, "plan", "demo-team/vision", "--snapshot", str(path), "-p", "pol.toml")
    )


def test_a_plan_number_beyond_int64_is_a_plan_error(cli: CliRunner, tmp_path: Path) -> None:
    from artifact_guard._plan_io import _checksum

    assert (
        _run(cli, "plan", "demo-team/vision", "--seed", "demo", "-p", "pol.toml", "-o", "plan.json").exit_code
        == 0
    )
    data = json.loads((tmp_path / "plan.json").read_text())
    data["decisions"][0]["size"] = 2**70  # then the checksum recomputed: a forgery, not a typo
    data["checksum"] = _checksum({k: v for k, v in data.items() if k != "checksum"})
    (tmp_path / "forged.json").write_text(json.dumps(data))
    line = _one_error_line(_run(cli, "apply", "forged.json", "--seed", "demo", "--yes"))
    assert "decisions[0].size" in line


# -------------------------------------------- a script under simulate cannot reach real credentials

_FINDS_REAL_CREDENTIALS = """
import os
from wandb.sdk.lib.wbauth import authenticate
# Where a script that hard-codes the real base URL gets its key: $WANDB_API_KEY (the fake's), else netrc.
os.environ.pop("WANDB_API_KEY", None)
found = authenticate.authenticate_session(
    host="https://api.wandb.ai", source="probe", no_offline=True, prompt=False, update_session=False
)
raise SystemExit(3 if found is not None else 0)
"""


@pytest.mark.timeout(120)
def test_a_simulated_script_cannot_find_the_users_netrc_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    # A script that hard-codes the real base URL must not find real credentials: it would delete real data.
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {SENTINEL_KEY}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    script = tmp_path / "probe.py"
    script.write_text(_FINDS_REAL_CREDENTIALS)
    result = _run(cli, "simulate", str(script), "--seed", "demo", "--json", "--timeout", "60")
    report = json.loads(result.stdout)
    assert [run["returncode"] for run in report["runs"]] == [0], report["runs"]
    assert SENTINEL_KEY not in result.stdout + result.stderr


@pytest.mark.timeout(60)
def test_fake_server_env_points_netrc_away_from_the_users(tmp_path: Path) -> None:
    from fakes.server import FakeWandbServer

    with FakeWandbServer() as server:
        env = server.env()
        netrc = Path(env["NETRC"])
        assert netrc.exists()
        assert netrc.read_text() == ""


# ---------------------------------------------------------------- apply --json keeps its documented shape


def test_apply_json_with_nothing_to_delete_is_the_documented_document(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "keep-all.toml").write_text("keep-last = 100000\n")
    for policy, out in (("keep-all.toml", "nothing.json"), ("pol.toml", "some.json")):
        assert _run(cli, "plan", "demo-team/vision", "--seed", "demo", "-p", policy, "-o", out).exit_code == 0
    empty = _run(cli, "apply", "nothing.json", "--seed", "demo", "--json")
    full = _run(cli, "apply", "some.json", "--seed", "demo", "--json", "--yes")
    assert empty.exit_code == 0 and full.exit_code == 0, (empty.stderr, full.stderr)
    empty_doc, full_doc = json.loads(empty.stdout), json.loads(full.stdout)
    assert empty_doc["format"] == "artifact-guard-apply-result"
    assert empty_doc["format_version"] == 2
    assert set(empty_doc) == set(full_doc) - {"freed_bytes"}
    assert (empty_doc["ok"], empty_doc["complete"], empty_doc["done"]) == (True, True, [])


# ------------------------------------------------------------ a workspace that is not a workspace database


def _unusable_workspaces(tmp_path: Path) -> dict[str, Path]:
    import sqlite3

    directory = tmp_path / "a-directory"
    directory.mkdir()
    text = tmp_path / "not-a-database"
    text.write_text("hello " * 100)
    half = tmp_path / "half.sqlite3"  # claims the cache schema, lacks its tables
    with sqlite3.connect(half) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_versions VALUES ('cache', 1)")
    conn.close()
    return {"directory": directory, "text": text, "half": half}


@pytest.mark.parametrize("kind", ["directory", "text", "half"])
def test_metadata_cache_refuses_an_unusable_workspace_in_one_line(tmp_path: Path, kind: str) -> None:
    from artifact_guard._cache import MetadataCache

    path = _unusable_workspaces(tmp_path)[kind]
    with pytest.raises(ag.ArtifactGuardError) as info:
        MetadataCache(path, namespace="http://127.0.0.1:1")
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.timeout(120)
def test_cli_against_wandb_with_an_unusable_workspace_is_one_line(tmp_path: Path) -> None:
    from fakes.server import FakeWandbServer

    workspace = _unusable_workspaces(tmp_path)["text"]
    with FakeWandbServer(seed_demo(), api_key=SENTINEL_KEY) as server:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "artifact_guard.cli"),
                "inventory",
                "demo-team/vision",
                "--workspace",
                str(workspace),
            ],
            env={**os.environ, **server.env()},
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and str(workspace) in lines[0], proc.stderr
    assert SENTINEL_KEY not in proc.stdout + proc.stderr


# ------------------------------------------------------------ nesting deeper than Python's recursion limit


@pytest.mark.parametrize(
    ("args", "name", "text", "expected"),
    [
        (
            ["plan", "demo-team/vision", "-p", "pol.toml", "--snapshot", "deep.json"],
            "deep.json",
            "[" * 100_000,
            "deep",
        ),
        (["apply", "deep.json", "--seed", "demo", "--yes"], "deep.json", "[" * 100_000, "deep"),
        (["policy", "explain", "deep.toml"], "deep.toml", "a = " + "[" * 100_000, "deep"),
        (
            ["plan", "demo-team/vision", "--seed", "demo", "-p", "deep.toml"],
            "deep.toml",
            "a = " + "[" * 100_000,
            "deep",
        ),
    ],
)
def test_deeply_nested_files_are_one_line(
    cli: CliRunner, tmp_path: Path, args: list[str], name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text)
    assert expected in _one_error_line(_run(cli, *args))


def test_a_deep_value_inside_a_plan_is_a_plan_error(cli: CliRunner, tmp_path: Path) -> None:
    assert (
        _run(cli, "plan", "demo-team/vision", "--seed", "demo", "-p", "pol.toml", "-o", "plan.json").exit_code
        == 0
    )
    data = json.loads((tmp_path / "plan.json").read_text())
    deep: object = 0
    for _ in range(900):  # parses (json's limit is ~1000), but recursion while reading it would not
        deep = [deep]
    data["decisions"][0]["reasons"][0]["params"]["rank"] = deep
    (tmp_path / "deep-plan.json").write_text(json.dumps(data))
    with pytest.raises(ag.PlanError, match="nested too deeply"):
        from artifact_guard._plan_io import load_plan

        load_plan(tmp_path / "deep-plan.json")


# ---------------------------------------------------------------- one apply or resume per journal at a time


@pytest.mark.skipif(sys.platform == "win32", reason="advisory file locks are POSIX")
@pytest.mark.parametrize("operation", ["apply", "resume"])
def test_a_journal_in_use_by_another_apply_is_refused(tmp_path: Path, operation: str) -> None:
    from artifact_guard._journal import Journal

    # Two applies sharing a journal both ran, overwrote each other's outcomes ("239 already gone"
    # when this plan deleted them) and sent duplicate delete calls.
    fake = seed_demo()
    the_plan = ag.plan(fake.repository(), "demo-team/vision", ag.Policy(keep_last=2), now=fake.now())
    path = tmp_path / "journal.sqlite3"
    if operation == "resume":
        ag.apply(the_plan, seed_demo().repository(), journal=path, now=fake.now())
    target = seed_demo()
    before = sorted(v.id for v in target.repository().versions(the_plan.scope))
    holder = Journal.open(path)
    holder.claim()
    try:
        with pytest.raises(ag.JournalError, match="in use"):
            if operation == "apply":
                ag.apply(the_plan, target.repository(), journal=path, now=fake.now())
            else:
                ag.resume(path, target.repository())
    finally:
        holder.close()
    assert sorted(v.id for v in target.repository().versions(the_plan.scope)) == before
    # Released on close: the next one goes ahead.
    result = ag.apply(the_plan, target.repository(), journal=path, now=fake.now())
    assert result.complete


# ---------------------------------------------------------------- the API key, end to end


def _files_holding(root: Path, needle: str) -> list[str]:
    import sqlite3

    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if needle.encode() in path.read_bytes():
            hits.append(str(path))
        if path.suffix == ".sqlite3":
            conn = sqlite3.connect(path)
            try:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                    if needle in repr(rows):
                        hits.append(f"{path}:{table}")
            finally:
                conn.close()
    return hits


@pytest.mark.timeout(180)
def test_the_api_key_reaches_no_output_file_journal_or_wandb_folder(tmp_path: Path) -> None:
    from fakes.server import FakeWandbServer

    (tmp_path / "pol.toml").write_text("keep-last = 2\ngrace-period = '0s'\n")
    workspace = ["--workspace", str(tmp_path / "ws.sqlite3")]
    commands = [
        ["inventory", "demo-team/vision", "--json"],
        ["plan", "demo-team/vision", "-p", "pol.toml", "-o", "plan.json", "--html", "plan.html"],
        ["snapshot", "demo-team/vision", "-o", "snap.json.gz"],
        ["apply", "plan.json", "--yes", "--journal", "journal.sqlite3", "--json", "--rate", "0"],
        ["status", "--journal", "journal.sqlite3"],
    ]
    outputs = []
    with FakeWandbServer(seed_demo(), api_key=SENTINEL_KEY) as server:
        env = {**os.environ, **server.env()}
        for args in commands:
            proc = subprocess.run(
                [sys.executable, "-m", "artifact_guard.cli", *args, *workspace],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert proc.returncode == 0, (args, proc.stderr)
            outputs.append(proc.stdout + proc.stderr)
        refused = subprocess.run(
            [sys.executable, "-m", "artifact_guard.cli", "inventory", "demo-team/vision", *workspace],
            env={**env, "WANDB_API_KEY": SENTINEL_KEY[::-1]},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert refused.returncode == 2, refused.stderr
        outputs.append(refused.stdout + refused.stderr)
        wandb_dirs = {Path(v) for k, v in server.env().items() if k.endswith("_DIR")}
        leaks = [f for d in wandb_dirs for f in _files_holding(d, SENTINEL_KEY)]
        leaks += [f for d in wandb_dirs for f in _files_holding(d, SENTINEL_KEY[::-1])]
    assert all(SENTINEL_KEY not in o and SENTINEL_KEY[::-1] not in o for o in outputs), outputs
    assert (tmp_path / "journal.sqlite3").exists() and (tmp_path / "plan.html").exists()
    leaks += _files_holding(tmp_path, SENTINEL_KEY) + _files_holding(tmp_path, SENTINEL_KEY[::-1])
    assert leaks == []


# ------------------------------------------------------------ a policy saved by an editor that writes a BOM


def test_a_policy_file_with_a_utf8_bom_reads_like_one_without(cli: CliRunner, tmp_path: Path) -> None:
    # Windows editors save UTF-8 with a BOM; tomllib then said "Invalid statement (at line 1, column 1)".
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbfkeep-last = 2\n")
    assert ag.load_policy(tmp_path / "bom.toml") == ag.load_policy(tmp_path / "pol.toml")
    result = _run(cli, "policy", "explain", "bom.toml")
    assert result.exit_code == 0, result.stderr


def test_status_of_a_cache_only_workspace_says_so_and_writes_no_journal(tmp_path: Path) -> None:
    # given a workspace that holds only the metadata cache
    import sqlite3

    from artifact_guard._cache import MetadataCache
    from artifact_guard._executor import journal_status

    workspace = tmp_path / "workspace.sqlite3"
    MetadataCache(workspace, namespace="http://127.0.0.1:1").close()

    # when status reads it
    with pytest.raises(ag.JournalError, match="no apply is recorded"):
        journal_status(workspace)

    # then no journal tables were created by a read
    conn = sqlite3.connect(workspace)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert not any(t.startswith("journal_") for t in tables), tables
