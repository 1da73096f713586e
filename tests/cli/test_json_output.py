"""One envelope for every ``--json`` (``format`` + ``format_version``), versions named and identified."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from artifact_guard.cli import JSON_FORMATS
from fakes.demo import DEMO_PROJECT

from .conftest import Invoke

DOC = Path(__file__).resolve().parents[2] / "docs" / "json-output.md"


def _envelope(text: str) -> dict[str, Any]:
    assert text.startswith("{"), text[:40]
    doc: dict[str, Any] = json.loads(text)
    assert list(doc)[:2] == ["format", "format_version"]
    assert JSON_FORMATS[doc["format"]] == doc["format_version"]
    return doc


@pytest.fixture
def planned(cli: Invoke, model_policy: Path) -> Path:
    cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "-o", "plan.json")
    return Path("plan.json")


def test_every_json_command_uses_the_envelope(cli: Invoke, model_policy: Path, planned: Path) -> None:
    runs = {
        "artifact-guard-inventory": cli("inventory", DEMO_PROJECT, "--seed", "demo", "--json"),
        "artifact-guard-plan": cli("plan", DEMO_PROJECT, "--seed", "demo", "-p", str(model_policy), "--json"),
        "artifact-guard-snapshot-result": cli("snapshot", DEMO_PROJECT, "--seed", "demo", "-o", "s.json",
                                              "--json"),
        "artifact-guard-policy": cli("policy", "explain", str(model_policy), "--json"),
        "artifact-guard-apply-result": cli("apply", str(planned), "--seed", "demo", "--yes", "--json",
                                           "--journal", "j.sqlite3"),
    }  # fmt: skip
    for fmt, result in runs.items():
        assert result.exit_code == 0, (fmt, result.stderr)
        assert _envelope(result.stdout)["format"] == fmt
    status = cli("status", "--journal", "j.sqlite3", "--json")
    recorded = _envelope(status.stdout)
    assert recorded["format"] == "artifact-guard-apply-result"
    assert recorded["done"] and all(set(item) == {"id", "name"} for item in recorded["done"])


def test_apply_result_names_every_version_it_lists(cli: Invoke, planned: Path) -> None:
    doc = _envelope(cli("apply", str(planned), "--seed", "demo", "--yes", "--json").stdout)
    assert doc["done"]
    for item in doc["done"]:
        assert set(item) == {"id", "name"}
        assert re.fullmatch(r"demo-team/vision/resnet50-\d{3}:v\d+", item["name"]), item


def test_every_format_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for fmt, version in JSON_FORMATS.items():
        assert f"| `{fmt}` | {version}" in text, fmt


def test_plan_decisions_are_named_and_older_unnamed_plan_files_still_load(planned: Path) -> None:
    from artifact_guard._errors import PlanError
    from artifact_guard._plan_io import _checksum, plan_from_json

    doc = json.loads(planned.read_text())
    first = doc["decisions"][0]
    assert first["name"] == f"{first['collection']}:v{first['index']}"

    def resealed(body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if k != "checksum"}
        return {**body, "checksum": _checksum(body)}

    unnamed = resealed(
        {**doc, "decisions": [{k: v for k, v in d.items() if k != "name"} for d in doc["decisions"]]}
    )
    assert plan_from_json(unnamed).id == doc["id"]
    wrong = resealed({**doc, "decisions": [{**first, "name": "other:v0"}, *doc["decisions"][1:]]})
    with pytest.raises(PlanError, match=r"decisions\[0\]\.name: says 'other:v0'"):
        plan_from_json(wrong)
