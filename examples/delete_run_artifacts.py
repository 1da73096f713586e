"""Seed page sample "Delete multiple artifacts with aliases": delete every version a run logged.

As on W&B's "Delete artifacts" page, with the run path taken from the command
line instead of the placeholder ``'entity/project/run_id'`` (and the ``api``
object the page forgets to create). Try it safely against a fake W&B::

    artifact-guard simulate examples/delete_run_artifacts.py demo-team/vision/train-004 --seed demo

It deletes ``best`` and ``production`` checkpoints and a registry-linked
source: the audit flags each one.
"""

import sys

import wandb

api = wandb.Api()

run = api.run(sys.argv[1])

for artifact in run.logged_artifacts():
    # To delete artifacts with one or more aliases, pass delete_aliases=True.
    artifact.delete(delete_aliases=True)
