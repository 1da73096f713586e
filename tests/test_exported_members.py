"""The public face: every name in ``__all__`` exists, is documented, and nothing public is left out.

In the style of httpx's ``tests/test_exported_members.py``: the flat private modules are re-exported
by one explicit ``__all__`` per package, and this test keeps that list honest.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["artifact_guard", "fakes", "artifact_guard.testing.strategies"]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist_and_are_unique(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_attribute_is_exported(package: str) -> None:
    # A public name that is importable but not in __all__ is an accident waiting to become API.
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__.startswith(package)
    }
    assert public - set(module.__all__) == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_exported_classes_and_functions_are_documented(package: str) -> None:
    module = importlib.import_module(package)
    undocumented = [
        name
        for name in module.__all__
        if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
        and not inspect.getdoc(getattr(module, name))
    ]
    assert undocumented == []


def test_exported_members_come_from_private_modules_and_say_so() -> None:
    # httpx rewrites __module__ so reprs and docs show the public path; we at least require that
    # every class lives in one of our own flat private modules, never in a third-party library.
    import artifact_guard

    for name in artifact_guard.__all__:
        value = getattr(artifact_guard, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("artifact_guard"), (name, value.__module__)


def test_errors_are_exported_under_one_base() -> None:
    import artifact_guard as ag

    runtime = [
        ag.RepositoryError,
        ag.AuthenticationError,
        ag.PermissionDeniedError,
        ag.ProtectedAliasError,
        ag.NotFoundError,
        ag.ConflictError,
        ag.AliasedVersionError,
        ag.RateLimitedError,
        ag.TransientError,
        ag.PolicyError,
        ag.PlanError,
        ag.EmptyPolicyError,
        ag.SnapshotError,
        ag.JournalError,
    ]
    for error in runtime:
        assert issubclass(error, ag.ArtifactGuardError), error
    # Misuse stands outside the base, so `except ArtifactGuardError` never hides a bug.
    assert not issubclass(ag.ReadOnlyViolation, ag.ArtifactGuardError)
    assert issubclass(ag.PolicyError, ValueError)
