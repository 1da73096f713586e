"""Repository implementations that talk to a real service.

- :mod:`artifact_guard.adapters.wandb`: :class:`~artifact_guard.adapters.wandb.WandbRepository`,
  the :class:`~artifact_guard.ArtifactRepository` over W&B through the public
  wandb SDK. It is the only module of artifact-guard that imports ``wandb``, and
  it does so lazily, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .wandb import WandbRepository

__all__ = ["WandbRepository"]


def __getattr__(name: str) -> Any:
    if name == "WandbRepository":
        from .wandb import WandbRepository

        return WandbRepository
    raise AttributeError(f"module 'artifact_guard.adapters' has no attribute {name!r}")
