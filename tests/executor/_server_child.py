"""Child process for the fake-server tests: apply or resume through the real adapter and SDK.

Usage: python -m tests.executor._server_child apply PLAN_PICKLE JOURNAL CONCURRENCY
       python -m tests.executor._server_child resume - JOURNAL CONCURRENCY
       python -m tests.executor._server_child reread IDS_JSON - -
       python -m tests.executor._server_child progress SCOPE - -

The environment comes from ``FakeWandbServer.env()``. Prints one JSON line:
the result, read back from the journal.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import artifact_guard as ag
from artifact_guard._pacing import RetryPolicy
from artifact_guard.adapters.wandb import WandbRepository


def main(argv: list[str]) -> int:
    mode, plan_path, journal, concurrency = argv
    repo = WandbRepository(timeout=20, listing_max_age=0.0)
    if mode == "progress":
        seen: dict[str, list[int]] = {"versions": [], "manifests": []}
        repo.progress = lambda what, total: seen[what].append(total)
        plan = ag.plan(repo, plan_path, ag.Policy(keep_last=2))
        print(json.dumps({"seen": seen, "deletions": len(plan.deletions)}), flush=True)
        return 0
    if mode == "reread":
        # The batch re-read and the one-by-one re-read must see the same versions, lineage and links.
        ids = json.loads(Path(plan_path).read_text())

        def facts(vid: str) -> list[object]:
            v, lin, links = repo.version(vid), repo.lineage(vid), repo.links(vid)
            consumers = sorted(r.path for r in lin.consumers)
            return [v.index, v.state.value, sorted(v.aliases), consumers, [str(k.portfolio) for k in links]]

        batch = repo.versions_by_id(ids)
        batched: dict[str, list[object]] = {}
        for vid, v in batch.items():
            lin, links = repo.lineage(vid), repo.links(vid)
            consumers = sorted(r.path for r in lin.consumers)
            batched[vid] = [
                v.index,
                v.state.value,
                sorted(v.aliases),
                consumers,
                [str(k.portfolio) for k in links],
            ]
        single = {vid: facts(vid) for vid in ids if vid in batch}
        print(json.dumps({"batch": batched, "single": single}), flush=True)
        return 0
    retry = RetryPolicy(attempts=8, base=0.05, max_wait=1.0)
    if mode == "apply":
        plan = pickle.loads(Path(plan_path).read_bytes())
        result = ag.apply(plan, repo, journal=journal, concurrency=int(concurrency), rate=None, retry=retry)
    else:
        result = ag.resume(journal, repo, concurrency=int(concurrency), rate=None, retry=retry)
    print(
        json.dumps(
            {
                "ok": result.ok,
                "done": result.done,
                "already": result.already_deleted,
                "skipped": [[vid, [r.rule for r in reasons]] for vid, reasons in result.skipped],
                "failed": result.failed,
                "pending": result.pending,
                "collections": result.collections_deleted,
                "summary": result.summary(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
