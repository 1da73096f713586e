"""Testing helpers for users of artifact-guard (needs ``hypothesis``: ``pip install artifact-guard[test]``).

- :mod:`artifact_guard.testing.strategies`: hypothesis strategies generating W&B project states.
"""

from __future__ import annotations

from . import strategies

__all__ = ["strategies"]
