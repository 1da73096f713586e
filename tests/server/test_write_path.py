"""The write path through the real SDK: ``wandb.init``, ``log_artifact``, ``use_artifact``, downloads.

Each test runs a script in a subprocess (wandb-core included) against the
module's fake server, then asserts the exact :class:`fakes.FakeWandb` state and
the bytes the SDK downloaded. Given / when / then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from artifact_guard._model import ManifestEntry, VersionState
from fakes import FakeWandb
from fakes.server import FakeWandbServer

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

RunSdk = Callable[..., Any]


@pytest.fixture(autouse=True)
def _every_request_answered(server: FakeWandbServer) -> Iterator[None]:
    """Strict: whatever the SDK sent during a test, the fake answered (no error, no unknown route)."""
    yield
    unanswered = [
        (r.operation, r.status, r.errors[:1]) for r in server.requests if r.status >= 400 or r.errors
    ]
    assert unanswered == [], f"the fake did not answer everything the SDK sent: {unanswered}"


def _md5(data: bytes) -> str:
    from fakes._backend import md5_b64

    return md5_b64(data)


def _ops(server: FakeWandbServer) -> list[str]:
    return [r.operation for r in server.requests]


def test_init_log_artifact_finish_makes_a_finished_run_and_a_committed_version(
    fresh: FakeWandbServer, run_sdk: RunSdk
) -> None:
    # Given an empty fake; when a training script logs metrics and a checkpoint with an alias
    out = run_sdk(
        fresh,
        """
        import json, wandb
        run = wandb.init(project="proj", entity="team", job_type="train", config={"lr": 0.1})
        for step in range(3):
            run.log({"loss": 1.0 / (step + 1)})
        state_while_running = wandb.Api().run(f"team/proj/{run.id}").state
        art = wandb.Artifact("ckpt", type="model")
        with art.new_file("weights.bin", mode="wb") as f:
            f.write(b"w" * 1000)
        with art.new_file("config.json", mode="w") as f:
            f.write('{"layers": 2}')
        run.log_artifact(art, aliases=["best"])
        run.finish()
        print(json.dumps({"id": run.id, "running": state_while_running}))
        """,
    )
    fake = fresh.fake
    path = f"team/proj/{out['id']}"
    # Then the run was running while the process lived, and is finished after
    assert out["running"] == "running"
    assert fake.run(path).state == "finished"
    details = fake.run_details(path)
    assert details.job_type == "train" and details.config["lr"] == 0.1
    assert [h["loss"] for h in details.history] == [1.0, 0.5, 1.0 / 3]
    assert details.summary["loss"] == pytest.approx(1.0 / 3)
    assert details.exit_code == 0
    assert {"wandb-metadata.json", "config.yaml"} <= set(details.files)
    # And the checkpoint is committed with its alias and latest, its manifest exact, its bytes stored
    (v,) = fake.versions(scope="team/proj")
    assert (v.collection, v.type, v.index, v.state) == ("ckpt", "model", 0, VersionState.COMMITTED)
    assert v.aliases == {"best", "latest"}
    assert v.producer == path and v.size == 1013
    assert sorted(fake.manifest(v.id)) == [
        ManifestEntry("config.json", _md5(b'{"layers": 2}'), 13),
        ManifestEntry("weights.bin", _md5(b"w" * 1000), 1000),
    ]
    assert fake.stored_objects() == {
        ("team/proj/ckpt", _md5(b"w" * 1000)): 1000,
        ("team/proj/ckpt", _md5(b'{"layers": 2}')): 13,
    }
    assert fake.blobs.get(_md5(b"w" * 1000)) == b"w" * 1000
    assert fake.lineage(v.id).producer == fake.run(path)


def test_a_script_that_raises_leaves_a_failed_run(fresh: FakeWandbServer, run_sdk: RunSdk) -> None:
    out = run_sdk(
        fresh,
        """
        import json, subprocess, sys
        code = "import wandb; run = wandb.init(project='proj', entity='team', id='boom'); 1 / 0"
        proc = subprocess.run([sys.executable, "-c", code], timeout=90)
        print(json.dumps({"rc": proc.returncode}))
        """,
    )
    assert out["rc"] == 1
    # wandb-core (a separate process) may send the stream's last request just after the script exits
    deadline = time.monotonic() + 30
    while fresh.fake.run("team/proj/boom").state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fresh.fake.run("team/proj/boom").state == "failed", [
        (r.operation, r.variables) for r in fresh.requests if "file_stream" in r.operation
    ]
    assert fresh.fake.run_details("team/proj/boom").exit_code == 1


def test_resume_continues_the_same_run(fresh: FakeWandbServer, run_sdk: RunSdk) -> None:
    run_sdk(
        fresh,
        """
        import json, wandb
        with wandb.init(project="proj", entity="team", id="r1") as run:
            run.log({"x": 1})
        with wandb.init(project="proj", entity="team", id="r1", resume="must") as run:
            run.log({"x": 2})
        edited = wandb.Api().run("team/proj/r1")
        edited.tags = ["reviewed"]
        edited.update()
        print(json.dumps({}))
        """,
    )
    (run,) = fresh.fake.runs()
    assert run.path == "team/proj/r1" and run.state == "finished"  # the public API's edit reopens nothing
    details = fresh.fake.run_details(run.path)
    assert [h["x"] for h in details.history] == [1, 2] and details.tags == ("reviewed",)


def test_a_stored_digest_is_not_uploaded_again_and_same_contents_reuse_the_version(
    fresh: FakeWandbServer, run_sdk: RunSdk
) -> None:
    run_sdk(
        fresh,
        """
        import json, wandb
        def log(run, files, aliases):
            art = wandb.Artifact("data", type="dataset")
            for name, text in files.items():
                with art.new_file(name, mode="w") as f:
                    f.write(text)
            run.log_artifact(art, aliases=aliases)
            art.wait()
        with wandb.init(project="proj", entity="team") as run:
            log(run, {"a.txt": "aaa", "b.txt": "bbb"}, ["first"])
            log(run, {"a.txt": "aaa", "c.txt": "ccc"}, [])
            log(run, {"a.txt": "aaa", "c.txt": "ccc"}, ["again"])
        from datetime import timedelta
        first = wandb.Api().artifact("team/proj/data:v0")
        first.ttl = timedelta(days=30)
        first.save()
        print(json.dumps({}))
        """,
    )
    fake = fresh.fake
    v0, v1 = fake.versions(scope="team/proj")
    # a.txt went up once: three uploads in all (a, b, then c)
    assert [r.operation for r in fresh.requests].count("PUT artifacts") == 3
    assert fake.stored_bytes() == 9
    # the third log had v1's contents: W&B answers with v1 (no v2), which takes the new alias
    assert (v0.aliases, v1.aliases) == ({"first"}, {"again", "latest"})
    assert (v0.ttl, v1.ttl) == (timedelta(days=30), None)  # artifact.ttl = ...; save()
    assert [p for p, *_ in fake.manifest(v1.id)] == ["a.txt", "c.txt"]


def test_use_artifact_and_every_download_path_return_the_logged_bytes(
    fresh: FakeWandbServer, run_sdk: RunSdk
) -> None:
    out = run_sdk(
        fresh,
        """
        import json, os, wandb
        with wandb.init(project="proj", entity="team", job_type="train") as run:
            art = wandb.Artifact("data", type="dataset")
            with art.new_file("a.txt", mode="w") as f:
                f.write("alpha")
            with art.new_file("sub/b.bin", mode="wb") as f:
                f.write(bytes(range(256)))
            run.log_artifact(art)
        with wandb.init(project="proj", entity="team", job_type="eval") as run:
            used = run.use_artifact("data:latest")
            root = used.download()
            got = {
                "a": open(os.path.join(root, "a.txt")).read(),
                "b": list(open(os.path.join(root, "sub", "b.bin"), "rb").read()),
                "entry": open(used.get_entry("a.txt").download(root=root + "-entry")).read(),
                "path": open(used.get_path("sub/b.bin").download(root=root + "-path"), "rb").read().hex(),
                "files": sorted(f.name for f in used.files()),
                "eval": run.id,
            }
            used.verify(root)
            given = wandb.Artifact("given", type="dataset")  # never logged: created by the use
            with given.new_file("x.txt", mode="w") as f:
                f.write("x")
            run.use_artifact(given)
        print(json.dumps(got))
        """,
    )
    assert out["a"] == "alpha" and out["b"] == list(range(256))
    assert out["entry"] == "alpha" and out["path"] == bytes(range(256)).hex()
    assert out["files"] == ["a.txt", "sub/b.bin"]
    data, given = sorted(fresh.fake.versions(scope="team/proj"), key=lambda v: v.collection)
    assert [r.path for r in fresh.fake.lineage(data.id).consumers] == [f"team/proj/{out['eval']}"]
    lineage = fresh.fake.lineage(given.id)
    assert given.state is VersionState.COMMITTED and lineage.producer is None
    assert [r.path for r in lineage.consumers] == [f"team/proj/{out['eval']}"]


def test_new_draft_and_incremental_artifacts_keep_the_base_files(
    fresh: FakeWandbServer, run_sdk: RunSdk
) -> None:
    out = run_sdk(
        fresh,
        """
        import json, os, wandb
        with wandb.init(project="proj", entity="team") as run:
            art = wandb.Artifact("data", type="dataset")
            with art.new_file("a.txt", mode="w") as f:
                f.write("alpha")
            run.log_artifact(art)
        with wandb.init(project="proj", entity="team") as run:
            draft = run.use_artifact("data:v0").new_draft()
            with draft.new_file("b.txt", mode="w") as f:
                f.write("beta")
            run.log_artifact(draft)
            draft.wait()
        with wandb.init(project="proj", entity="team") as run:
            incremental = wandb.Artifact("data", type="dataset", incremental=True)
            with incremental.new_file("c.txt", mode="w") as f:
                f.write("gamma")
            run.log_artifact(incremental)
        api = wandb.Api()
        root = api.artifact("team/proj/data:v1").download()
        print(json.dumps({"files": sorted(os.listdir(root)), "a": open(os.path.join(root, "a.txt")).read()}))
        """,
    )
    _, v1, v2 = fresh.fake.versions(scope="team/proj")
    assert [e.path for e in fresh.fake.manifest(v1.id)] == ["a.txt", "b.txt"]
    assert v1.size == 9
    # incremental=True: a manifest of c.txt alone, applied over the latest version
    assert [e.path for e in fresh.fake.manifest(v2.id)] == ["a.txt", "b.txt", "c.txt"]
    assert v2.aliases == {"latest"} and v2.size == 14
    assert out == {"files": ["a.txt", "b.txt"], "a": "alpha"}
    assert fresh.fake.stored_bytes() == 14  # a.txt is stored once


def test_references_are_recorded_and_not_stored(
    fresh: FakeWandbServer, run_sdk: RunSdk, tmp_path: Any
) -> None:
    local = tmp_path / "local.txt"
    local.write_text("local contents")
    out = run_sdk(
        fresh,
        f"""
        import json, wandb
        with wandb.init(project="proj", entity="team") as run:
            base = wandb.Artifact("base", type="dataset")
            with base.new_file("x.txt", mode="w") as f:
                f.write("x")
            run.log_artifact(base)
            base.wait()
            art = wandb.Artifact("refs", type="dataset")
            art.add_reference("file://{local}")
            art.add_reference("https://example.invalid/data.csv", checksum=False)
            art.add_reference(base.get_entry("x.txt"), name="from-base.txt")
            run.log_artifact(art)
            art.wait()
        print(json.dumps({{"base": base.id}}))
        """,
    )
    refs = next(v for v in fresh.fake.versions(scope="team/proj") if v.collection == "refs")
    entries = {e.path: e for e in fresh.fake.manifest(refs.id)}
    assert entries["local.txt"].ref == f"file://{local}" and entries["local.txt"].size == 14
    assert entries["data.csv"].ref == "https://example.invalid/data.csv"
    assert entries["from-base.txt"].ref == f"wandb-artifact://{_b64_to_hex(out['base'])}/x.txt"
    assert fresh.fake.stored_bytes() == 1  # only base's x.txt: references are not stored
    assert fresh.fake.referrers(out["base"]) == (refs.id,)  # the referenced-rule sees the dependency


def _b64_to_hex(artifact_id: str) -> str:
    import base64

    return base64.b64decode(artifact_id).hex()


def test_link_tags_and_update_through_the_sdk(fresh: FakeWandbServer, run_sdk: RunSdk) -> None:
    run_sdk(
        fresh,
        """
        import json, wandb
        with wandb.init(project="proj", entity="team") as run:
            art = wandb.Artifact("model", type="model", description="first", metadata={"acc": 0.5})
            with art.new_file("m.bin", mode="wb") as f:
                f.write(b"m")
            run.log_artifact(art, tags=["candidate"])
            art.wait()
            run.link_artifact(art, "team/wandb-registry-model/prod", aliases=["staging"])
        a = wandb.Api().artifact("team/proj/model:v0")
        a.description = "second"
        a.metadata = {"acc": 0.9}
        a.aliases.append("golden")
        a.tags = ["reviewed"]
        a.ttl = None
        a.save()
        print(json.dumps({}))
        """,
    )
    fake = fresh.fake
    (v,) = fake.versions(scope="team/proj")
    assert v.aliases == {"golden", "latest"}
    details = fake.artifact_details(v.id)
    assert (details.description, details.metadata, details.tags) == ("second", {"acc": 0.9}, ("reviewed",))
    (link,) = fake.links(v.id)
    assert str(link.portfolio) == "team/wandb-registry-model/prod" and link.aliases == {"staging", "latest"}


def test_xxh128_digests_when_the_server_enables_them_dedupe_and_download_by_them(run_sdk: RunSdk) -> None:
    # Given a server that tells the SDK XXH128 manifest digests are enabled (by default the fake
    # does not, and the SDK falls back to MD5 even for an artifact that asks for XXH128)
    with FakeWandbServer(FakeWandb(), xxhash_digests=True) as server:
        out = run_sdk(
            server,
            """
            import json, os, wandb
            for files in ({"a.txt": "aaa"}, {"a.txt": "aaa", "b.txt": "bbb"}):
                with wandb.init(project="proj", entity="team") as run:
                    art = wandb.Artifact("x", type="dataset", digest_algorithm="XXH128")
                    for name, text in files.items():
                        with art.new_file(name, mode="w") as f:
                            f.write(text)
                    run.log_artifact(art)
                    art.wait()
            latest = wandb.Api().artifact("team/proj/x:latest")
            root = latest.download()
            latest.verify(root)
            entry = latest.manifest.entries["a.txt"]
            print(json.dumps({"a": open(os.path.join(root, "a.txt")).read(), "digest": entry.digest}))
            """,
        )
        fake = server.fake
        _, v1 = fake.versions(scope="team/proj")
        # the manifest, and so the dedupe key, carries the XXH128 digest, not the MD5
        a = next(e for e in fake.manifest(v1.id) if e.path == "a.txt")
        assert a.digest == out["digest"] != _md5(b"aaa")
        assert fake.artifact_details(v1.id).digest_algorithm == "MANIFEST_XXH128"
        assert ("team/proj/x", out["digest"]) in fake.stored_objects()
        assert [r.operation for r in server.requests].count("PUT artifacts") == 2  # a.txt once, then b.txt
        assert out["a"] == "aaa"
