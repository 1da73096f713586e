"""CLI conventions: no private imports of dependencies, one-line usage errors, prompts without a terminal."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy
from fakes.demo import DEMO_PROJECT, seed_demo

from .conftest import Invoke, one_error_line

ROOT = Path(__file__).resolve().parents[2]


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top, *rest = name.split(".")
            if top in ("artifact_guard", "fakes"):
                continue
            if any(part.startswith("_") and not part.startswith("__") for part in rest):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    return found


# The wandb adapter sends the SDK's own GraphQL documents (wandb's generated operations module): a
# deliberate choice of the adapter's owner, reported to the lead; nothing else may join this list.
KNOWN = {"artifact_guard/adapters/wandb.py: wandb.sdk.artifacts._generated.operations"}


def test_no_module_imports_a_private_module_of_a_dependency() -> None:
    # typer 0.12.5 has no typer._click: importing it broke `--help` for everyone the bound admitted.
    offenders = {hit for folder in ("artifact_guard", "fakes") for p in (ROOT / folder).rglob("*.py")
                 for hit in _private_imports(p)}  # fmt: skip
    assert offenders - KNOWN == set()


def test_typer_lower_bound_admits_no_release_that_breaks_with_todays_click() -> None:
    # typer < 0.15.4 breaks on click 8.2+ (make_metavar); 0.16-0.17 with today's click pass a missing
    # required argument as None (a traceback instead of "Missing argument"). Found by `make lowest`.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"typer>=0.18"' in text  # checked for real by `make lowest` (.ci/run): lowest-direct resolution


def test_top_level_usage_errors_are_one_line(cli: Invoke) -> None:
    bogus = one_error_line(cli("--bogus"))  # click's wording differs between versions
    assert "No such option" in bogus and "--bogus" in bogus
    assert "No such command 'nosuch'" in one_error_line(cli("nosuch"))
    assert "Missing argument 'SCOPE'" in one_error_line(cli("plan"))


# ------------------------------------------------------------------ prompts without a terminal


@pytest.fixture
def demo_plan(cli: Invoke, model_policy: Path) -> Path:
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    assert result.exit_code == 0, result.stderr
    return Path("plan.json")


def test_apply_with_no_terminal_and_no_answer_says_to_pass_yes(cli: Invoke, demo_plan: Path) -> None:
    # CliRunner's stdin is not a terminal; with no input it ends at once, like `< /dev/null` in CI.
    line = one_error_line(cli("apply", str(demo_plan), "--seed", "demo"))
    assert "pass --yes" in line and "not a terminal" in line
    assert "Aborted" not in line


def test_an_answer_piped_in_is_taken_and_json_stays_clean(cli: Invoke, demo_plan: Path) -> None:
    result = cli("apply", str(demo_plan), "--seed", "demo", "--json", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("{")  # no leading space from click's prompt
    assert json.loads(result.stdout)["ok"] is True
    assert "answered on standard input" in result.stderr


def test_resume_with_no_terminal_says_to_pass_yes(cli: Invoke, tmp_path: Path) -> None:
    from .test_cli import _FailingAfter

    fake = seed_demo()
    the_plan = ag.plan(
        fake.repository(), DEMO_PROJECT, Policy(keep_last=30, types=("model",)), now=fake.now()
    )
    journal = tmp_path / "journal.sqlite3"
    flaky = _FailingAfter(fake.repository(), writes=3)
    assert not ag.apply(
        the_plan, flaky, journal=journal, now=fake.now(), concurrency=1, sleep=lambda s: None
    ).complete
    line = one_error_line(cli("resume", "--journal", str(journal), "--seed", "demo"))
    assert line.startswith("error: Resume plan") and "pass --yes" in line


def test_interactive_review_with_no_terminal_says_it_needs_one(cli: Invoke, model_policy: Path) -> None:
    result = cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-i", "-o", "r.json")
    assert "interactive review needs a terminal" in one_error_line(result)
    assert not Path("r.json").exists()


# ------------------------------------------------------------ one spelling: --snapshot FILE, --seed NAME


@pytest.mark.parametrize(
    "command", ["inventory", "plan", "apply", "resume", "snapshot", "serve-fake", "simulate"]
)
def test_every_offline_command_spells_snapshot_and_seed_the_same(cli: Invoke, command: str) -> None:
    text = cli(command, "--help").stdout
    assert "--snapshot" in text and "--seed" in text
    assert "many-checkpoints" in text
    assert "--fake" not in text  # the old spelling is hidden


def test_seed_many_checkpoints_works_outside_simulate(cli: Invoke) -> None:
    result = cli("inventory", "demo-team/sweeps", "--seed", "many-checkpoints", "--json")
    assert result.exit_code == 0, result.stderr
    (only,) = json.loads(result.stdout)["collections"]
    assert (only["name"], only["versions"]) == ("checkpoints", 120)


def test_old_fake_spelling_still_reads_a_snapshot(cli: Invoke, small_snapshot: Path) -> None:
    new = cli("inventory", "team/proj", "--snapshot", str(small_snapshot), "--json")
    old = cli("inventory", "team/proj", "--fake", str(small_snapshot), "--json")
    assert old.exit_code == 0 and json.loads(old.stdout) == json.loads(new.stdout)
    assert "--fake FILE is now --snapshot FILE" in old.stderr and new.stderr == ""
    both = cli("inventory", "team/proj", "--fake", str(small_snapshot), "--snapshot", str(small_snapshot))
    assert "old spelling of --snapshot" in one_error_line(both)


def test_unknown_seed_names_the_known_ones(cli: Invoke) -> None:
    line = one_error_line(cli("inventory", "a/b", "--seed", "nope"))
    assert "demo" in line and "many-checkpoints" in line
