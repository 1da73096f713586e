"""Seed page sample "Delete multiple artifacts with aliases": delete every version a run logged.

As on W&B's "Delete artifacts" page, with the run path taken from the command
line instead of the placeholder ``'entity/project/run_id'`` (and the ``api``
object the page forgets to create). Try it safely against a fake W&B::

    artifact-guard simulate examples/delete_run_artifacts.py demo-team/vision/train-000 --seed demo

It deletes the ``best`` checkpoint, ``latest``, two versions an evaluation run
consumed, and empties the collection: the audit flags each one (exit 1). With
``train-004`` it also deletes a registry-linked source, then W&B refuses to
delete the registry's protected ``production`` model and the script crashes
half-way (exit 2, with the audit of what it had already deleted).
"""

import sys

import wandb

api = wandb.Api()

run = api.run(sys.argv[1])

for artifact in run.logged_artifacts():
    # To delete artifacts with one or more aliases, pass delete_aliases=True.
    artifact.delete(delete_aliases=True)
