"""The README's policy-file example parses to what its comments say."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from artifact_guard._policy_file import parse_policy_toml

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_policy_example_is_valid_and_means_what_it_says() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Policy files", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    policy = parse_policy_toml(block.group(1), source="README.md")
    assert policy.types == ("model",)
    assert policy.keep_last == 5 and policy.keep_within == timedelta(days=30)
    assert policy.aliases == "unaliased" and policy.older_than == timedelta(days=90)
    assert "champion" in policy.protected_aliases
    assert not policy.waived("has-aliases") and not policy.waived("consumed")
