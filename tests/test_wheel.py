"""A regular (non-editable) install carries the browser client and serves it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from conftest import REPO, ServerProcess
from test_static import fetch


def test_wheel_install_serves_the_client(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True, cwd=tmp_path, timeout=300,
    )
    wheel = next(dist.glob("hotreload-*.whl"))
    env_dir = tmp_path / "venv"
    # System site packages provide aiohttp and watchdog without a download; the
    # wheel itself is installed into the venv and shadows any other copy.
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True, timeout=300)
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(python), "-c", "import hotreload.server as s; print(s.__file__); print(s.client_dir())"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env=clean_env,
    ).stdout.split()
    assert where[0].startswith(str(env_dir)), where
    assert where[1].startswith(str(env_dir)), where
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>x</title><p>hi</p>")
    server = ServerProcess(["serve", str(site), "--port", "0"], cwd=tmp_path, env=clean_env, python=python).start()
    try:
        status, headers, body = fetch(server.url, "/__hotreload/client.js")
        assert status == 200 and b"WebSocket" in body
        status, _, body = fetch(server.url, "/", headers={"Sec-Fetch-Dest": "document"})
        assert b'src="/__hotreload/client.js?' in body
        # The console script is installed too.
        assert (env_dir / "bin" / "hotreload").exists()
    finally:
        server.stop()
