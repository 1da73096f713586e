"""The ``wandb_fake`` pytest fixture, tested in-process with ``pytester``."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def test_fixture_sets_the_sdk_environment_and_restores_it(pytester: pytest.Pytester) -> None:
    # given a test module using the fixture, and one that runs after it without it
    pytester.makepyfile(
        """
        import os

        NAMES = ("WANDB_BASE_URL", "WANDB_API_KEY", "WANDB_ENTITY", "WANDB_CONFIG_DIR", "WANDB_DIR")
        BEFORE = {name: os.environ.get(name) for name in NAMES}

        def test_env(wandb_fake):
            assert os.environ["WANDB_BASE_URL"] == wandb_fake.url
            assert os.environ["WANDB_API_KEY"] == wandb_fake.server.api_key
            assert len(os.environ["WANDB_API_KEY"]) >= 40
            assert os.environ["WANDB_ERROR_REPORTING"] == "false"
            assert "WANDB_ENTITY" not in os.environ
            for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_DIR"):
                assert os.path.isdir(os.environ[name])
            assert wandb_fake.env["WANDB_BASE_URL"] == wandb_fake.url

        def test_after():
            assert {name: os.environ.get(name) for name in NAMES} == BEFORE
        """
    )
    # when pytest runs it, then both pass
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_state_is_reset_for_each_test_and_the_server_shared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        urls = []

        def test_one(wandb_fake):
            urls.append(wandb_fake.url)
            run = wandb_fake.fake.create_run("team/proj", "r1")
            wandb_fake.fake.log_artifact(run, "model", "model", {"w": b"x"})
            assert len(wandb_fake.fake.versions()) == 1

        def test_two(wandb_fake):
            urls.append(wandb_fake.url)
            assert wandb_fake.fake.versions() == []
            assert wandb_fake.requests == []
            assert urls[0] == urls[1]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_marker_options_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        pytestmark = pytest.mark.wandb_fake(entity="module-team", project="p")

        def test_module_marker(wandb_fake):
            assert os.environ["WANDB_ENTITY"] == "module-team"
            assert os.environ["WANDB_PROJECT"] == "p"

        @pytest.mark.wandb_fake(entity="test-team", seed="demo", pagination="offset")
        def test_own_marker(wandb_fake):
            assert os.environ["WANDB_ENTITY"] == "test-team"
            assert "WANDB_PROJECT" not in os.environ
            assert wandb_fake.server.pagination == "offset"
            assert any(v.collection == "imagenet-subset" for v in wandb_fake.fake.versions())

        @pytest.mark.wandb_fake(colour="red")
        def test_bad_option(wandb_fake):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*unknown @pytest.mark.wandb_fake options*colour*"])


def test_unsupported_request_fails_the_test_with_a_fix(pytester: pytest.Pytester) -> None:
    # given tests that send an operation outside the fake's schema
    pytester.makepyfile(
        """
        import json, urllib.request
        import pytest

        def send(wandb_fake):
            body = json.dumps({"query": "query Bogus { nothing }"}).encode()
            req = urllib.request.Request(wandb_fake.url + "/graphql", body, method="POST")
            req.add_header("Authorization", "Bearer " + wandb_fake.server.api_key)
            req.add_header("Content-Type", "application/json")
            return json.load(urllib.request.urlopen(req, timeout=10))

        def test_strict(wandb_fake):
            assert "errors" in send(wandb_fake)

        @pytest.mark.wandb_fake(allow_unsupported=True)
        def test_allowed(wandb_fake):
            assert "Bogus" in send(wandb_fake)["errors"][0]["message"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    # then the strict one errors at teardown, naming the operation and the switch
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*could not answer 1 request(s)*", "*Bogus*", "*allow_unsupported=True*"])


def test_a_subprocess_script_reaches_the_fake_through_the_real_sdk(pytester: pytest.Pytester) -> None:
    # given a user's unmodified cleanup script and a test that runs it against the fake
    pytester.makepyfile(
        cleanup="""
        import wandb

        api = wandb.Api(timeout=20)
        for v in api.artifacts("model", "team/proj/model"):
            if not v.aliases:
                v.delete()
        """,
        test_cleanup="""
        import subprocess, sys
        import pytest

        @pytest.mark.timeout(90)
        def test_script(wandb_fake):
            run = wandb_fake.fake.create_run("team/proj", "r1")
            for i in range(3):
                wandb_fake.fake.log_artifact(run, "model", "model", {"w": bytes([i])})
            subprocess.run([sys.executable, "cleanup.py"], env=wandb_fake.env, timeout=80, check=True)
            assert [v.name for v in wandb_fake.fake.versions()] == ["model:v2"]
            assert wandb_fake.operations().count("DeleteArtifact") == 2
        """,
    )
    # when pytest runs it, then the script deleted exactly the versions without aliases
    pytester.runpytest("-p", "no:cacheprovider", "test_cleanup.py").assert_outcomes(passed=1)


def test_in_process_sdk_sees_each_tests_own_state(pytester: pytest.Pytester) -> None:
    # given two tests that build different states under the same names and ids
    pytester.makepyfile(
        """
        import pytest
        import wandb

        @pytest.mark.timeout(60)
        @pytest.mark.parametrize("alias", ["first", "second"])
        def test_sdk(wandb_fake, alias):
            run = wandb_fake.fake.create_run("team/proj", "r1")
            wandb_fake.fake.log_artifact(run, "model", "model", {"w": alias.encode()}, aliases=[alias])
            artifact = wandb.Api(timeout=20).artifact("team/proj/model:v0")
            assert sorted(artifact.aliases) == sorted([alias, "latest"])
            assert wandb_fake.operations()[-1] == "ArtifactMembershipByName"
        """
    )
    # when they run in this very process, then each sees its own state
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_subprocess_env_never_points_at_this_process_wandb_core(pytester: pytest.Pytester) -> None:
    # A test that used the SDK in-process leaves WANDB_SERVICE set; children must start their own.
    pytester.makeconftest(
        """
        import os, pytest

        @pytest.fixture(autouse=True)
        def _sdk_used_in_process(monkeypatch):
            monkeypatch.setenv("WANDB_SERVICE", "2-12345-tcp-localhost-1")
        """
    )
    pytester.makepyfile(
        """
        def test_env(_sdk_used_in_process, wandb_fake):
            assert "WANDB_SERVICE" not in wandb_fake.env
            assert wandb_fake.env["WANDB_BASE_URL"] == wandb_fake.url
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
