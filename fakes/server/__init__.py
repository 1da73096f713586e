"""A loopback HTTP server speaking W&B's GraphQL over :class:`fakes.FakeWandb`.

The real wandb SDK (and users' unmodified ``wandb.Api()`` scripts) talk to it
through wandb-core exactly as they talk to W&B::

    with fakes.FakeWandbServer(fake) as server:
        subprocess.run(["python", "cleanup.py"], env={**os.environ, **server.env()}, timeout=120)

It also takes W&B's write path (``wandb.init``, ``log_artifact``, uploads,
``run.finish``), so a test can seed it with the user's own training code, and
it serves the bytes it was given for downloads.

Start one by hand with ``python -m fakes.server --seed demo``.
"""

from __future__ import annotations

from ._faults import FaultRule, Faults, RateLimit
from ._http import FakeWandbServer, RequestRecord

__all__ = ["FakeWandbServer", "FaultRule", "Faults", "RateLimit", "RequestRecord"]
