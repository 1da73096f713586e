"""The audit half of the pytest plugin: ``wandb_fake.audit(policy)`` and the ``wandb_strict`` marker.

The baseline an audit compares against is the fake's state just before the
first change that reaches it through the server (a wandb-core request runs on
a server thread), so whatever the test built with ``wandb_fake.fake`` before
running its code is the "before". Code that changes the fake in-process (in
the test's own thread) is not seen as it happens: call
``wandb_fake.checkpoint()`` before running it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from ._audit import AuditReport, audit
from ._policy import Policy
from ._snapshot import Snapshot, capture

if TYPE_CHECKING:
    from fakes import FakeWandb

__all__ = ["STRICT_MARKER", "AuditRecorder", "strict_marker_line"]

STRICT_MARKER = "wandb_strict"

# Every FakeWandb method that changes state: the first call from a server
# thread takes the baseline before it runs.
_MUTATORS = (
    "delete_version",
    "delete_collection",
    "remove_aliases",
    "add_aliases",
    "unlink",
    "link",
    "delete_run",
    "expire_ttl",
    "set_ttl",
    "log_artifact",
    "commit",
    "use_artifact",
    "create_run",
    "finish_run",
)


def strict_marker_line() -> str:
    """The marker's documentation line for ``pytest --markers``."""
    return (
        f"{STRICT_MARKER}(policy=None): fail the test if its code made a deletion, alias removal or "
        "unlink through wandb_fake that breaks a safety rule of the policy, even if the test never "
        "called wandb_fake.audit(); needs the wandb_fake fixture (artifact-guard)"
    )


class AuditRecorder:
    """Keeps the audit baseline of one test's fake."""

    def __init__(self, fake: FakeWandb) -> None:
        self.fake = fake
        self._test_thread = threading.get_ident()
        self._lock = threading.Lock()
        self._baseline: dict[str, Snapshot] | None = None
        self._explicit = False
        self.reported_failure = False

    # ------------------------------------------------------------------ baseline

    def checkpoint(self) -> None:
        """Take the baseline now: later changes, from any thread, are what the audit judges."""
        with self._lock:
            self._baseline = self._capture()
            self._explicit = True

    def _capture(self) -> dict[str, Snapshot]:
        fake = self.fake
        now = fake.now()
        return {
            str(scope): capture(fake.repository(), scope, dedupe=fake.dedupe, now=now)
            # Projects holding source versions: registry projects only hold links to them.
            for scope in sorted({v.scope for v in fake.versions()}, key=str)
        }

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the fake's mutators (undone by ``monkeypatch`` after the test)."""
        for name in _MUTATORS:
            original = getattr(self.fake, name, None)
            if original is not None:
                monkeypatch.setattr(self.fake, name, self._guarded(original))

    def _guarded(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._baseline is None and threading.get_ident() != self._test_thread:
                with self._lock:
                    if self._baseline is None:
                        self._baseline = self._capture()
            return method(*args, **kwargs)

        return wrapper

    # ------------------------------------------------------------------ audit

    def reports(self, policy: Policy | None, *, strict: bool = False) -> list[AuditReport]:
        """One report per project the baseline holds (or the fake holds, when nothing reached it)."""
        baseline = self._baseline
        untouched = baseline is None
        if baseline is None:
            baseline = self._capture()
        out = []
        for snap in baseline.values():
            report = audit(snap, self.fake, policy, strict=strict)
            if untouched:
                report = replace(
                    report,
                    notes=(
                        *report.notes,
                        "no change reached the fake through the server; for code that changes it "
                        "in-process, call wandb_fake.checkpoint() before running it",
                    ),
                )
            out.append(report)
        return out

    def audit(
        self, policy: Policy | None, *, project: str | None, check: bool, strict: bool = False
    ) -> AuditReport:
        reports = self.reports(policy, strict=strict)
        if project is not None:
            chosen = [r for r in reports if str(r.scope) == project]
            if not chosen:
                known = ", ".join(str(r.scope) for r in reports) or "none"
                raise pytest.UsageError(
                    f"wandb_fake.audit: no project {project!r} in the fake (known: {known})"
                )
        elif len(reports) == 1:
            chosen = reports
        elif not reports:
            raise pytest.UsageError("wandb_fake.audit: the fake holds no project with artifact versions")
        else:
            known = ", ".join(str(r.scope) for r in reports)
            raise pytest.UsageError(
                f"wandb_fake.audit: several projects ({known}); pass project='entity/name'"
            )
        report = chosen[0]
        if check and not report.ok:
            self.reported_failure = True
            pytest.fail(failure_message(report, how="wandb_fake.audit(policy)"), pytrace=False)
        return report

    def strict_check(self, policy: Policy | None) -> None:
        """Fail the test if any project saw an unsafe change (the strict marker's teardown)."""
        if self.reported_failure:
            return  # the test already failed on its own audit: one message is enough
        bad = [r for r in self.reports(policy) if not r.ok]
        if bad:
            pytest.fail(
                "\n\n".join(failure_message(r, how=f"@pytest.mark.{STRICT_MARKER}") for r in bad),
                pytrace=False,
            )


_WAIVERS: dict[str, str] = {
    "has-aliases": "Policy(allow_delete_aliases=True)",
    "consumed": "Policy(allow_consumed=True)",
    "registry-linked": "Policy(allow_registry_linked=True)",
    "last-version": "Policy(allow_empty_collection=True)",
    "referenced": "Policy(waive={'referenced'})",
    "grace-period": "Policy(grace_period=timedelta(0)) or Policy(waive={'grace-period'})",
    "protected-alias": "a Policy(protected_aliases=...) without that alias (registry-protected aliases "
    "are never waived)",
    "in-flight": "nothing: finish the run (fake.finish_run(run)) or commit the version first",
}
"""Per safety rule: the setting that waives it, as a test writes it."""


def hints(report: AuditReport) -> list[str]:
    """One line per rule that fired: the rule, and the setting that waives it (or why none does)."""
    fired = sorted({v.rule for v in report.violations})
    lines = [f"  {rule}: waived by {_WAIVERS.get(rule, f'Policy(waive={{{rule!r}}})')}" for rule in fired]
    if "grace-period" in fired:
        lines.append(
            "  (versions logged without created_at= are as old as the fake's clock made them, seconds: "
            "pass created_at= to fake.log_artifact, or advance the fake's clock, if the test means old ones)"
        )
    conformance = report.conformance
    if conformance is not None and conformance.kept_but_deleted:
        lines.append(
            "  the policy's retention (keep-last, keep-within, types, collections) keeps what was deleted: "
            "fix the script, or audit under the policy the script is meant to follow"
        )
    if conformance is not None and conformance.strict and conformance.left:
        lines.append("  versions the policy deletes were left: audit(strict=False) makes that a warning")
    return lines


def failure_message(report: AuditReport, *, how: str) -> str:
    """The report as the CLI prints it, then, per rule that fired, the setting that waives it."""
    count = len(report.violations) + (report.conformance.failures if report.conformance else 0)
    lines = [f"unsafe change to {report.scope} ({count} violation(s), found by {how}):"]
    lines.extend(report.explain().splitlines())
    tips = hints(report)
    if tips:
        lines.append("If the test means to allow this, say so in the policy:")
        lines.extend(tips)
    return "\n".join(lines)
