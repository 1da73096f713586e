"""``python -m fakes.server [--seed demo|SNAPSHOT] [--pagination stable|offset]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from types import FrameType

from .._backend import FakeWandb
from ._http import FakeWandbServer


def main(argv: list[str] | None = None) -> int:
    """Start a fake W&B server, print how to reach it, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m fakes.server", description=__doc__)
    parser.add_argument("--seed", help="'demo' for the demo project, or a snapshot file to load")
    parser.add_argument("--pagination", choices=["stable", "offset"], default="stable")
    parser.add_argument("--entity", help="WANDB_ENTITY to print for clients")
    parser.add_argument("--project", help="WANDB_PROJECT to print for clients")
    args = parser.parse_args(argv)
    fake = FakeWandb()
    server = FakeWandbServer(fake, pagination=args.pagination, entity=args.entity, project=args.project)
    with server:
        if args.seed:
            try:
                server.seed({"demo": True} if args.seed == "demo" else {"snapshot": args.seed})
            except ValueError as e:
                print(f"error: cannot seed: {e}", file=sys.stderr)
                return 2
        stop = threading.Event()

        def _on_sigterm(signum: int, frame: FrameType | None) -> None:
            # A service manager (or `kill`) stops us with SIGTERM: leave the same
            # way as Ctrl-C, so the server closes and removes its temporary folder.
            stop.set()

        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            # Ctrl-C may come at any moment, even while we still print.
            with contextlib.suppress(KeyboardInterrupt):
                print(f"fake W&B server at {server.url}", flush=True)
                print(f"API key: {server.api_key}", flush=True)
                print("environment for clients:", flush=True)
                for name, value in server.env().items():
                    print(f"  export {name}={value}", flush=True)
                stop.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
