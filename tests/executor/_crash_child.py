"""Child process of the crash test: apply a pickled plan through the parent's RPC repository.

Usage: python -m tests.executor._crash_child HOST PORT PLAN_PICKLE JOURNAL CONCURRENCY
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import artifact_guard as ag
from tests.executor._rpc import RpcRepository


def main(argv: list[str]) -> int:
    host, port, plan_path, journal, concurrency = argv
    plan = pickle.loads(Path(plan_path).read_bytes())
    repo = RpcRepository((host, int(port)))
    result = ag.apply(plan, repo, journal=journal, concurrency=int(concurrency), rate=None)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
