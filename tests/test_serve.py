"""`portal serve` on an empty data dir: migrates, (optionally) seeds, answers /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_health(url: str, proc: subprocess.Popen, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            time.sleep(0.3)
    raise AssertionError("server did not answer in time")


@pytest.mark.parametrize("demo", [False, True], ids=["plain", "demo"])
def test_serve_on_empty_data_dir(tmp_path, demo):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(tmp_path / "fresh")
    args = [sys.executable, "-m", "portal", "serve", "--port", str(port)]
    if demo:
        args += ["--demo"]
    # Output to a file: an unread pipe fills up and blocks the server once it logs a lot
    # (the scheduler's first job runs on the demo data do).
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
    proc.log_path = log_path
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", proc)
        assert health["status"] == "ok"
        assert health["migrations"]["ok"] is True
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200
            assert r.headers["Server"] == "samspill"
        files = {p.name for p in (tmp_path / "fresh").iterdir()}
        assert "portal.db" in files and [f for f in files if f.endswith(".db")] == ["portal.db"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
