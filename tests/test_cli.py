"""The command line: flags, version, help and one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO, ServerProcess


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotreload", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_version_and_help() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("hotreload ")
    out = run_cli("serve", "--help")
    assert out.returncode == 0
    for flag in ("--host", "--port", "--strict-port", "--open", "--watch", "--ignore", "--poll", "--no-reload", "-q", "-v"):
        assert flag in out.stdout
    assert "examples:" in out.stdout


def one_line_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_root_is_a_one_line_error(tmp_path: Path) -> None:
    one_line_error(run_cli("serve", str(tmp_path / "nope")), "folder not found", "nope")


def test_root_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    one_line_error(run_cli("serve", str(f)), "not a folder")


def test_unusable_host_is_a_one_line_error(tmp_path: Path) -> None:
    one_line_error(run_cli("serve", str(tmp_path), "--host", "no-such-host.invalid"), "cannot use host")
    one_line_error(run_cli("serve", str(tmp_path), "--host", "192.0.2.1"), "not an address of this machine")


def test_privileged_port_without_rights_is_a_one_line_error(tmp_path: Path) -> None:
    # Run without the capability to bind ports below 1024 (as any non-root user is).
    out = subprocess.run(
        ["setpriv", "--bounding-set=-net_bind_service", sys.executable, "-m", "hotreload",
         "serve", str(tmp_path), "--port", "80", "--strict-port"],
        cwd=REPO, capture_output=True, text=True, timeout=20, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    one_line_error(out, "port 80", "--port")


def test_busy_port_moves_on_or_fails_with_strict_port(tmp_path: Path, serve) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = serve(str(tmp_path), "--port", str(port))
        assert not server.url.endswith(f":{port}/")
        assert any(f"port {port} is in use" in line for line in server.lines)
        one_line_error(run_cli("serve", str(tmp_path), "--port", str(port), "--strict-port"), f"port {port} is in use")


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    server = ServerProcess(["serve", str(tmp_path), "--port", "0"]).start()
    code = server.stop()
    assert code == 0
    assert not any("Traceback" in line for line in server.lines)


def test_deny_and_allow_patterns_are_checked_when_parsed(tmp_path: Path) -> None:
    out = run_cli("serve", str(tmp_path), "--allow", "*")
    assert out.returncode == 2 and "every hidden file" in out.stderr
    out = run_cli("serve", str(tmp_path), "--allow", "docs/.vitepress")
    assert out.returncode == 2 and "without '/'" in out.stderr
    out = run_cli("serve", str(tmp_path), "--deny", "/")
    assert out.returncode == 2 and "denies nothing" in out.stderr
    out = run_cli("serve", "--help")
    assert "--deny GLOB" in out.stdout and "--allow NAME" in out.stdout and "--follow-symlinks" in out.stdout
