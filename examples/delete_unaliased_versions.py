"""Seed page sample "Delete all versions of an artifact that have no aliases".

The page's loop, with the project, type and name from the command line
instead of placeholders. It deletes while paginating: with offset-style
cursors every deletion shifts the next page and versions are skipped.
``--pagination both`` runs it under both cursor styles and flags the
difference::

    artifact-guard simulate examples/delete_unaliased_versions.py \
        demo-team/sweeps model checkpoints --seed many-checkpoints --pagination both
"""

import sys

import wandb

entity, project = sys.argv[1].split("/")
artifact_type, artifact_name = sys.argv[2], sys.argv[3]

# Give the entity and project name when using the wandb.Api methods.
api = wandb.Api(overrides={"project": project, "entity": entity})

for v in api.artifact_versions(artifact_type, artifact_name):
    # Clean up versions that don't have an alias such as 'latest'.
    # NOTE: You can put whatever deletion logic you want here.
    if len(v.aliases) == 0:
        v.delete()
