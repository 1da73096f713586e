"""Seed page sample "Delete multiple artifact versions with specific aliases", bug included.

Exactly the page's logic: the loop variable is ``artifact_version`` but the
delete goes through ``artifact``, which is never defined. The script dies with
a NameError at the first match; ``artifact-guard simulate`` reports it as a
crash with the error (exit 2)::

    artifact-guard simulate examples/delete_versions_v3_v4.py demo-team/vision/train-000 --seed demo
"""

import sys

import wandb

api = wandb.Api()

runs = api.run(sys.argv[1])

# Delete the artifacts with aliases 'v3' and 'v4'
for artifact_version in runs.logged_artifacts():
    # Write your own deletion logic here.
    if artifact_version.name[-2:] == "v3" or artifact_version.name[-2:] == "v4":
        artifact.delete(delete_aliases=True)  # noqa: F821 - the page's bug, kept on purpose
