"""The real server, started as ``serve`` starts it (uvicorn on 127.0.0.1, a free port): signed
calls, feedback surviving ``kill -9`` and a restart, the replay cache shared through the db."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service import fixtures as f
from tests.service import keys

SERVE = (
    "import typer\n"
    "from backtriage.service.commands import serve_command\n"
    "typer.run(serve_command)\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: str, jwks: Path) -> None:
        self.db, self.jwks = db, jwks
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            sys.executable,
            "-c",
            SERVE,
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--trust",
            f"{keys.ISSUER}={self.jwks}",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()
        raise AssertionError("server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.proc = None

    def post(self, path: str, body: object, token: str | None = None) -> httpx.Response:
        token = token or keys.token(self.base + path)
        return httpx.post(
            self.base + path, json=body, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(str(tmp_path / "bt.sqlite3"), keys.write_jwks(tmp_path / "jwks.json"))
    running.start()
    yield running
    running.kill()


def test_signed_calls_feedback_kill_9_and_restart(server: Server) -> None:
    path = "/cds-services/backtriage-lumbar-imaging-sign"
    discovery = httpx.get(
        server.base + "/cds-services",
        timeout=30,
        headers={"Authorization": "Bearer " + keys.token(server.base + "/cds-services")},
    )
    assert discovery.status_code == 200
    token = keys.token(server.base + path)
    answer = server.post(path, f.argonaut_lbp(), token)
    assert answer.status_code == 200
    card = answer.json()["cards"][0]["uuid"]
    feedback = {
        "feedback": [
            {
                "card": card,
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "x"}],
                "outcomeTimestamp": "2026-11-25T01:00:00Z",
            }
        ]
    }
    assert server.post(path + "/feedback", feedback).json() == {"stored": 1}
    assert server.post(path, f.argonaut_lbp(), token).status_code == 401  # replayed jti

    server.kill()  # SIGKILL: no shutdown hook runs
    server.start()
    assert server.post(path + "/feedback", feedback).json() == {"stored": 0}  # kept, idempotent
    assert server.post(path, f.argonaut_lbp(), token).status_code == 401  # replay cache kept
    report = subprocess.run(
        [
            sys.executable,
            "-c",
            "import typer\n"
            "from backtriage.service.commands import feedback_report_command\n"
            "typer.run(feedback_report_command)\n",
            "--db",
            server.db,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "order-not-appropriate" in report.stdout and "100%" in report.stdout
