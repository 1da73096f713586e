"""The public apply surface: the journaled executor lives in :mod:`artifact_guard._executor`.

Kept as a module so that ``from artifact_guard._apply import apply, ApplyResult``
keeps working for code written against the first, sequential apply.
"""

from __future__ import annotations

from ._executor import ApplyResult, apply, journal_status, resume

__all__ = ["ApplyResult", "apply", "journal_status", "resume"]
