#!/usr/bin/env bash
# W&B's own artifact system tests, unmodified, against the fake (artifact-guard's wandb_fake fixture).
#
#   bench/wandb_system_tests.sh [WANDB_REPO_GIT_DIR] [OUT_DIR]
#
# Exports tests/system_tests/test_artifacts (and the tests/ helpers they import) from a clone
# or bare mirror of github.com/wandb/wandb into OUT_DIR (outside this repository), replaces
# W&B's tests/system_tests/conftest.py (which starts W&B's server container) with a thin one
# mapping the `user`/`api` fixtures onto `wandb_fake`, and runs five files: the public API,
# the artifacts API, full workflows, linking and model workflows. Nothing of W&B's code is
# copied into this repository. Their test helpers need: pyte pytest-mock numpy pillow pandas.
set -euo pipefail
GIT_DIR=${1:-/work/.mirror/wandb+wandb/repo}
OUT=${2:-/tmp/wandb-systests}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
"$PY" -c "import pyte, pytest_mock, numpy, PIL, pandas" 2>/dev/null || {
  echo "install the helpers W&B's tests import first: $PY -m pip install pyte pytest-mock numpy pillow pandas" >&2
  exit 2
}
rm -rf "$OUT" && mkdir -p "$OUT"
cd "$OUT"
paths="tests/__init__.py tests/conftest.py tests/fixtures tests/assets tests/system_tests/__init__.py
       tests/system_tests/backend_fixtures.py tests/system_tests/test_artifacts"
for f in $(git --git-dir="$GIT_DIR" ls-tree -r --name-only HEAD $paths); do
  mkdir -p "$(dirname "$f")"
  # A partial mirror may lack some blobs (large assets): skip those files.
  git --git-dir="$GIT_DIR" show "HEAD:$f" > "$f" 2>/dev/null || rm -f "$f"
done
cat > tests/system_tests/conftest.py <<'EOF'
"""Thin mapping of W&B's system-test fixtures onto artifact-guard's wandb_fake."""
import pytest
import wandb


@pytest.fixture
def user(wandb_fake, monkeypatch):
    monkeypatch.setenv("WANDB_ENTITY", "fake-user")  # the fake's viewer
    monkeypatch.setenv("WANDB_USERNAME", "fake-user")
    monkeypatch.delenv("WANDB_SILENT", raising=False)
    monkeypatch.delenv("WANDB_ARTIFACT_DIR", raising=False)  # W&B's tests expect the default
    # The storage regions of W&B's test container (onprem/local/scripts/env.txt there).
    wandb_fake.server.set_storage_regions(["default", "minio-local"])
    yield "fake-user"
    wandb_fake.server.set_storage_regions(None)


@pytest.fixture
def module_user(user):
    yield user


@pytest.fixture
def api(user, wandb_fake):
    return wandb.Api(api_key=wandb_fake.server.api_key)


@pytest.fixture
def make_module_api(user, wandb_fake):
    return lambda: wandb.Api(api_key=wandb_fake.server.api_key)


@pytest.fixture
def module_api(make_module_api):
    return make_module_api()


@pytest.fixture
def wandb_backend_spy():
    pytest.skip("needs W&B's request spy (backend proxy)")


@pytest.fixture
def user_in_orgs_factory():
    pytest.skip("needs W&B's admin fixture service (organizations)")


@pytest.fixture
def backend_fixture_factory():
    pytest.skip("needs W&B's admin fixture service")
EOF
printf '[pytest]\naddopts = -p no:cacheprovider\n' > pytest.ini
t=tests/system_tests/test_artifacts
exec "$PY" -m pytest -q --timeout 60 -rfs --tb=line \
  $t/test_artifact_public_api.py $t/test_wandb_artifacts_api.py $t/test_wandb_artifacts_full.py \
  $t/test_link_artifacts.py $t/test_model_workflows.py
