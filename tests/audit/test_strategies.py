"""The public hypothesis strategies: shapes, bounds, and that the documented example runs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings

import artifact_guard.testing as agt
from artifact_guard.testing import strategies as ags
from fakes import FakeWandb


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in vars(ags) if not name.startswith("_")}
    exported = set(ags.__all__)
    assert exported <= public
    assert {"project_specs", "project_states", "policies"} <= exported
    assert agt.__all__ == ["strategies"]


@given(spec=ags.project_specs(max_collections=2, max_versions=3, max_files=2, max_runs=2, max_links=1))
def test_specs_respect_their_bounds_and_build(spec: ags.ProjectSpec) -> None:
    assert 1 <= len(spec.collections) <= 2
    assert all(1 <= len(c.versions) <= 3 for c in spec.collections)
    assert all(1 <= len(v.files) <= 2 for c in spec.collections for v in c.versions)
    assert 1 <= len(spec.runs) <= 2
    assert len(spec.links) <= 1
    fake = spec.build()
    versions = fake.versions(scope=ags.PROJECT)
    assert len(versions) == sum(len(c.versions) for c in spec.collections)
    for coll in spec.collections:
        ages = [v.age for v in coll.versions]
        assert ages == sorted(ages, reverse=True)


def test_generated_projects_cover_the_interesting_cases() -> None:
    # Over a modest sample every feature the rules look at shows up.
    seen: set[str] = set()

    @settings(max_examples=150, database=None)
    @given(ags.project_states())
    def collect(fake: FakeWandb) -> None:
        versions = fake.versions(scope=ags.PROJECT)
        digests = [e.digest for v in versions for e in fake.manifest(v.id) if e.ref is None]
        if len(digests) != len(set(digests)):
            seen.add("shared files")
        for v in versions:
            lineage = fake.lineage(v.id)
            if lineage.consumers:
                seen.add("consumed")
            if lineage.producer and lineage.producer.running:
                seen.add("running producer")
            if v.state.value == "PENDING":
                seen.add("pending")
            if v.aliases - {"latest"}:
                seen.add("aliases")
            links = fake.links(v.id)
            if links:
                seen.add("linked")
            if any(link.protected_aliases for link in links):
                seen.add("protected link")
            if any(e.ref for e in fake.manifest(v.id)):
                seen.add("reference")

    collect()
    assert seen == {
        "shared files",
        "consumed",
        "running producer",
        "pending",
        "aliases",
        "linked",
        "protected link",
        "reference",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_versions": 0}, "max_versions must be at least 1"),
        ({"max_links": -1}, "max_links must be at least 0"),
        ({"dedupe": ["bucket"]}, "dedupe must list"),
    ],
)
def test_bad_bounds_are_refused_with_a_clear_message(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ags.project_specs(**kwargs)  # type: ignore[arg-type]


def test_bounds_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ags.project_states(2)  # type: ignore[misc]


def test_the_module_docstring_example_runs(pytester: pytest.Pytester) -> None:
    example = (ags.__doc__ or "").split("::", 1)[1]
    code = "\n".join(line[4:] for line in example.splitlines())
    pytester.makepyfile(test_example=code)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
