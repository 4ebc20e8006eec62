"""Start and stop a throw-away local Label Studio server (integration tests, manual tries).

Label Studio is installed in its own virtualenv (`.venv-ls/`) because it pins many
packages; this module only needs its `label-studio` executable. The server binds to
127.0.0.1 on a port chosen free beforehand (Label Studio silently moves to port+1
when the port is taken), keeps all its state in `data_dir`, makes no network calls
(version check, analytics and Sentry are switched off) and gets a user and a legacy
API token on its first start, so nothing is interactive.

By hand:

    python scripts/labelstudio_server.py start --data-dir /tmp/ls   # prints URL, token, PID
    python scripts/labelstudio_server.py stop --pid PID

The token is generated for a new data dir and printed once, by this development helper
only, so a person can export it as `LABEL_STUDIO_API_KEY`; restarting the same data dir
needs that variable set (Label Studio keeps the token of its first start).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USERNAME = "test@example.com"
LOG_NAME = "label-studio-server.log"
#: Label Studio's SQLite database in its data dir: present once a server has started there.
DB_NAME = "label_studio.sqlite3"
#: Cold start (database migrations) takes ~50 s on 2 idle cores, warm ~7 s; on a loaded
#: machine migrations took over 120 s, hence the margin. Env WHOSAID_LS_START_TIMEOUT overrides.
START_TIMEOUT_S = float(os.environ.get("WHOSAID_LS_START_TIMEOUT", "300"))


@dataclass
class ServerHandle:
    """A running server. `stop()` ends exactly this process (by PID), nothing else."""

    url: str
    token: str = field(repr=False)
    pid: int
    process: subprocess.Popen = field(repr=False)
    log_path: Path | None = None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM to the server's own PID, wait, SIGKILL after `timeout`; the exit code."""
        return stop_process(self.process, timeout)


def find_executable(env: dict | None = None) -> Path | None:
    """`$WHOSAID_LS_BIN`, else `.venv-ls/bin/label-studio` in the repo, else `label-studio` on PATH."""
    env = os.environ if env is None else env
    if env.get("WHOSAID_LS_BIN"):
        path = Path(env["WHOSAID_LS_BIN"])
        return path if path.is_file() and os.access(path, os.X_OK) else None
    local = REPO / ".venv-ls" / "bin" / "label-studio"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("label-studio")
    return Path(found) if found else None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, base: dict | None = None) -> dict:
    """Environment for an offline start with all state under `data_dir`."""
    env = dict(os.environ if base is None else base)
    env.update({
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        # A model server (`whosaid serve`) on 127.0.0.1 may be connected: Label Studio refuses
        # local and private addresses for model servers (ML_BLOCK_LOCAL_IP) and for the webhook
        # it creates with the connection (the default banned subnets). A loaded machine gets
        # more than the default 1 s for the model server's health check and 3 s for setup.
        "ML_BLOCK_LOCAL_IP": "false",
        "USE_DEFAULT_BANNED_SUBNETS": "false",
        "ML_CONNECTION_TIMEOUT": "10",
        "ML_TIMEOUT_HEALTH": "20",
        "ML_TIMEOUT_SETUP": "30",
        "ML_TIMEOUT_PREDICT": "300",
    })
    # Credentials of some other server must not leak into this one's child process.
    env.pop("LABEL_STUDIO_API_KEY", None)
    return env


def wait_healthy(url: str, process: subprocess.Popen, timeout: float, log_path: Path) -> None:
    """Poll `/health` until it answers 200; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Label Studio exited with code {process.returncode} during start; "
                               f"see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Label Studio did not become healthy within {timeout:.0f} s; see {log_path}")


def start_server(bin_path: str | os.PathLike, data_dir: str | os.PathLike, port: int | None = None,
                 *, timeout: float = START_TIMEOUT_S, token: str | None = None,
                 password: str | None = None, detach: bool = False) -> ServerHandle:
    """Start `label-studio` on 127.0.0.1 with its state in `data_dir`; wait until healthy.

    The user and token are created on the first start of a fresh `data_dir`; pass the
    same `token` to reuse a data dir. On any failure the process is stopped.
    `detach` puts the server in its own session so that it outlives this process's
    terminal (the `start` command); tests keep it attached.
    """
    data_dir = Path(data_dir).resolve()
    if (data_dir / DB_NAME).exists() and token is None:
        # The user and token were created on the first start; a new token would be ignored.
        raise ValueError(f"{data_dir} already holds a Label Studio database: pass the token "
                         "it was first started with")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    token = token or secrets.token_hex(20)  # 40 hex characters, a legacy-token shape
    password = password or secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}"
    cmd = [str(bin_path), "start", "--no-browser",
           "--internal-host", "127.0.0.1", "--port", str(port),
           "--username", USERNAME, "--password", password,
           "--user-token", token, "--enable-legacy-api-token"]
    log_path = data_dir / LOG_NAME
    with open(log_path, "ab") as log:
        process = subprocess.Popen(cmd, cwd=data_dir, env=server_env(data_dir), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=detach)
    handle = ServerHandle(url=url, token=token, pid=process.pid, process=process, log_path=log_path)
    try:
        wait_healthy(url, process, timeout, log_path)
    except BaseException:
        handle.stop()
        raise
    return handle


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """SIGTERM, wait up to `timeout`, then SIGKILL; only this process's PID is signalled."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(10)


def stop_pid(pid: int, timeout: float = 30.0) -> None:
    """Stop a server started by another process (the `start` command of this script)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a server in the background and print URL, PID, token")
    start.add_argument("--data-dir", required=True, type=Path)
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--bin", type=Path, default=None, help="label-studio executable")
    stop = sub.add_parser("stop", help="stop a server started with `start`")
    stop.add_argument("--pid", type=int, required=True)
    args = parser.parse_args(argv)

    if args.command == "stop":
        stop_pid(args.pid)
        return 0
    bin_path = args.bin or find_executable()
    if bin_path is None:
        print("label-studio not found: set WHOSAID_LS_BIN or create .venv-ls "
              "(python3 -m venv .venv-ls && .venv-ls/bin/pip install label-studio==1.23.2)",
              file=sys.stderr)
        return 1
    fresh = not (args.data_dir / DB_NAME).exists()
    token = None if fresh else os.environ.get("LABEL_STUDIO_API_KEY")
    if not fresh and not token:
        print(f"{args.data_dir} was used before: set LABEL_STUDIO_API_KEY to the token printed "
              "on its first start", file=sys.stderr)
        return 1
    handle = start_server(bin_path, args.data_dir, args.port, detach=True, token=token)
    print(f"export LABEL_STUDIO_URL={handle.url}")
    if fresh:
        print(f"export LABEL_STUDIO_API_KEY={handle.token}")
    print(f"PID={handle.pid}  (stop: python scripts/labelstudio_server.py stop --pid {handle.pid})")
    print(f"log: {handle.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
