"""Benchmark the fake's write path through the real wandb SDK.

1. ``wandb.init`` + ``log_artifact`` of 10 small files + ``finish``, timed inside
   the script (interpreter start and ``import wandb`` excluded), against the fake
   server and with ``WANDB_MODE=offline``, alternating, in one run.
   Target: fake <= 1.5x offline (median of the repetitions).
2. A 100 MB file logged through the SDK to a fake server running in its own
   process: the server's peak RSS (``VmHWM``) grows by at most 1.2x the file
   (the upload streams to storage; the body is never held twice).

    .venv/bin/python bench/write_path.py [--repeat 5] [--big-mb 100]

Prints the machine's core count: on a shared 2-core machine timings carry the
other processes' load, so compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakes import FakeWandb  # noqa: E402
from fakes.server import FakeWandbServer  # noqa: E402

RATIO_TARGET = 1.5
RSS_TARGET = 1.2

SMALL = """
import json, os, sys, time
import wandb
started = time.perf_counter()
run = wandb.init(project="bench", entity="bench", job_type="train")
art = wandb.Artifact("ckpt", type="model")
for i in range(10):
    with art.new_file(f"f{i}.bin", mode="wb") as f:
        f.write(os.urandom(1024))
run.log_artifact(art)
run.finish()
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

BIG = """
import json, os, sys
import wandb
path = sys.argv[1]
with wandb.init(project="bench", entity="bench") as run:
    art = wandb.Artifact("big", type="dataset")
    art.add_file(path)
    run.log_artifact(art)
    art.wait()
print(json.dumps({"size": wandb.Api().artifact("bench/bench/big:latest").size}))
"""


def _run(env: dict[str, str], code: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark script failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}


def small_logs(repeat: int) -> bool:
    fake_times, offline_times = [], []
    with FakeWandbServer(FakeWandb()) as server, tempfile.TemporaryDirectory() as tmp:
        online = {**_clean_env(), **server.env()}
        offline = {**online, "WANDB_MODE": "offline", "WANDB_DIR": tmp}
        offline.pop("WANDB_BASE_URL")
        for _ in range(repeat):
            fake_times.append(_run(online, SMALL)["seconds"])
            offline_times.append(_run(offline, SMALL)["seconds"])
        logged = len(server.fake.versions())
    fake_s, offline_s = statistics.median(fake_times), statistics.median(offline_times)
    ratio = fake_s / offline_s
    verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
    print(f"init + log_artifact(10 files) + finish, median of {repeat} ({logged} versions in the fake):")
    for label, median, times in (
        ("fake server ", fake_s, fake_times),
        ("offline mode", offline_s, offline_times),
    ):
        every = ", ".join(f"{t * 1e3:.0f}" for t in times)
        print(f"  {label}  {median * 1e3:8.0f} ms   (all: {every})")
    best = min(fake_times) / min(offline_times)
    print(f"  ratio {ratio:.2f}x of medians (target <= {RATIO_TARGET}x): {verdict}")
    print(f"  fastest vs fastest {best:.2f}x")
    return verdict == "PASS"


def _hwm_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    assert match is not None
    return int(match.group(1))


def big_upload(megabytes: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [sys.executable, "-m", "fakes.server"],
            cwd=ROOT,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            env = _clean_env()
            for line in server.stdout:
                found = re.match(r"\s+export (\w+)=(.*)", line)
                if found:
                    env[found.group(1)] = found.group(2)
                if line.startswith("  export NETRC"):
                    break
            time.sleep(0.5)
            before = _hwm_kib(server.pid)
            path = Path(tmp) / "big.bin"
            with path.open("wb") as f:
                for _ in range(megabytes):
                    f.write(os.urandom(1024 * 1024))
            started = time.perf_counter()
            stored = int(_run(env, BIG, str(path))["size"])
            if stored != megabytes * 1024 * 1024:
                raise SystemExit(f"the fake committed {stored} bytes, not {megabytes} MB")
            seconds = time.perf_counter() - started
            after = _hwm_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    grown = (after - before) * 1024
    ratio = grown / (megabytes * 1024 * 1024)
    verdict = "PASS" if ratio <= RSS_TARGET else "MISS"
    print(
        f"{megabytes} MB file logged through the SDK to a fake server in its own process ({seconds:.1f} s):"
    )
    print(
        f"  server peak RSS {before / 1024:.0f} MiB -> {after / 1024:.0f} MiB: grew {grown / 2**20:.0f} MiB"
    )
    print(f"  growth {ratio:.2f}x the file (target <= {RSS_TARGET}x): {verdict}")
    return verdict == "PASS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores (shared with other work; compare ratios)")
    ok = small_logs(args.repeat)
    ok = big_upload(args.big_mb) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
