"""The demo project: a realistic W&B project to plan, apply and audit against.

``seed_demo(fake)`` fills ``demo-team/vision`` with several artifact types and
collections, a few hundred versions, ``latest``/``best``/``production``
aliases, consumer runs, a registry link with a protected alias, files shared
between versions, and one producer still running. Deterministic: the same
seed gives the same project.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ._backend import FakeWandb

__all__ = ["DEMO_NOW", "DEMO_PROJECT", "seed_demo"]

DEMO_PROJECT = "demo-team/vision"
DEMO_NOW = datetime.fromisoformat("2026-11-27T12:00:00+00:00")


def _blob(rng: random.Random, size: int) -> tuple[str, int]:
    # (digest, size) pairs keep the demo light: no real bytes are held.
    return (f"{rng.getrandbits(128):032x}==", size)


def seed_demo(fake: FakeWandb | None = None, *, seed: int = 7) -> FakeWandb:
    """Fill ``demo-team/vision`` and return the fake (a new one with the demo clock if none given)."""
    fake = fake or FakeWandb(now=DEMO_NOW)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    start = fake.now() - timedelta(days=120)

    # Datasets: a few large versions, each sharing most files with the previous one.
    prep = fake.create_run(DEMO_PROJECT, "prep-001")
    shards = {
        f"shard-{i:02d}.tfrecord": _blob(rng, 180_000_000 + rng.randrange(20_000_000)) for i in range(8)
    }
    dataset_versions = []
    for i in range(12):
        changed = rng.sample(sorted(shards), 2)
        for name in changed:
            shards[name] = _blob(rng, 180_000_000 + rng.randrange(20_000_000))
        files = dict(shards)
        files["labels.csv"] = _blob(rng, 2_000_000)
        dataset_versions.append(
            fake.log_artifact(
                prep, "imagenet-subset", "dataset", files, created_at=start + timedelta(days=i * 9)
            )
        )
    fake.add_aliases(dataset_versions[-3], ["production"])

    # Training runs: each logs checkpoints of its own model collection; evaluation runs consume some.
    trainers = []
    for r in range(6):
        run = fake.create_run(DEMO_PROJECT, f"train-{r:03d}")
        trainers.append(run)
        fake.use_artifact(run, dataset_versions[min(len(dataset_versions) - 1, r * 2)])
        collection = f"resnet50-{r:03d}"
        config = _blob(rng, 4_000)
        for step in range(40):
            when = start + timedelta(days=r * 18, hours=step * 6)
            files = {
                "model.ckpt": _blob(rng, 95_000_000),
                "optimizer.pt": _blob(rng, 190_000_000),
                "config.yaml": config,
            }
            aliases = ["best"] if step == 27 else []
            fake.log_artifact(run, collection, "model", files, aliases=aliases, created_at=when)
        fake.finish_run(run)

    # Evaluation runs consumed a few checkpoints.
    evaluator = fake.create_run(DEMO_PROJECT, "eval-001")
    for v in fake.versions(scope=DEMO_PROJECT):
        if v.type == "model" and v.index in (10, 20):
            fake.use_artifact(evaluator, v)

    # The production model is linked into the registry with a protected alias.
    champion = next(
        v for v in fake.versions(scope=DEMO_PROJECT) if v.collection == "resnet50-004" and v.index == 33
    )
    fake.add_aliases(champion, ["production"])
    fake.link(
        champion, "demo-team/wandb-registry-model/resnet50", aliases=["candidate"], protected=["production"]
    )
    older = next(
        v for v in fake.versions(scope=DEMO_PROJECT) if v.collection == "resnet50-004" and v.index == 12
    )
    fake.link(older, "demo-team/wandb-registry-model/resnet50", aliases=["baseline"])

    # Predictions with references (stored outside W&B: deleting them frees nothing).
    infer = fake.create_run(DEMO_PROJECT, "infer-001")
    for i in range(30):
        fake.log_artifact(
            infer,
            "predictions",
            "predictions",
            {"summary.json": _blob(rng, 40_000)},
            references=[(f"preds-{i}.parquet", f"s3://demo-bucket/preds/{i}.parquet", 50_000_000)],
            created_at=start + timedelta(days=60 + i * 2),
        )
    fake.finish_run(infer)

    # A run still training: its fresh checkpoints are in flight; the newest is still uploading.
    live = fake.create_run(DEMO_PROJECT, "train-live", state="running")
    for step in range(8):
        fake.log_artifact(
            live,
            "resnet50-live",
            "model",
            {"model.ckpt": _blob(rng, 95_000_000), "optimizer.pt": _blob(rng, 190_000_000)},
            created_at=fake.now() - timedelta(days=3, hours=-step * 6),
            state="PENDING" if step == 7 else "COMMITTED",
        )
    return fake
