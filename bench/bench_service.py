"""Loopback load: order-sign calls with a typical prefetch (the Argonaut low back pain vector)
from 8 concurrent clients for 30 s, side by side with a bare FastAPI endpoint returning a constant
(its ``def`` and its ``async def`` form), in the same run.  Prints p50/p99 latency, requests/s
and the servers' CPU per request.  Not a test.

    .venv/bin/python bench/bench_service.py [--seconds 30] [--clients 8] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service import fixtures  # noqa: E402

# Two constant endpoints: FastAPI's plain ``def`` form (run in its thread pool: the baseline of
# the target, as measured since the first run) and the ``async def`` form (on the event
# loop, as the order-sign route is: the framework's own floor).
BARE = """
from fastapi import FastAPI
app = FastAPI()
@app.post("/bare")
def bare() -> dict:
    return {"cards": []}
@app.post("/bare-async")
async def bare_async() -> dict:
    return {"cards": []}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server on port {port} did not start")


def load(url: str, body: dict[str, object], seconds: float, clients: int) -> list[float]:
    """``clients`` threads, each with one keep-alive connection (stdlib http.client: a light
    client, so the load generator takes as little as possible of the two shared cores)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=10
        )
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                connection.request("POST", parts.path, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - t0)
                if response.status != 200:
                    failures.append(f"{url}: HTTP {response.status}")
                    return
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    return latencies


def server_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by a server and its worker processes (Linux /proc), or None."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total, todo = 0, [pid]
        while todo:
            current = todo.pop()
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(stat[11]) + int(stat[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        return total / ticks
    except (OSError, ValueError):
        return None


def measured(
    name: str, url: str, pid: int, body: dict[str, object], seconds: float, clients: int
) -> float:
    """Load one endpoint; print requests/s, p50/p99 and the server's CPU ms per request."""
    before = server_cpu_s(pid)
    latencies = load(url, body, seconds, clients)
    after = server_cpu_s(pid)
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[int(len(ordered) * 0.99)] * 1000
    rate = len(ordered) / seconds
    cpu = (
        f"{(after - before) * 1000 / len(ordered):>10.3f}"
        if before is not None and after is not None
        else f"{'n/a':>10}"
    )
    print(f"{name:28} {len(ordered):>8} {rate:>10.1f} {p50:>9.2f} {p99:>9.2f} {cpu}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare_app.py"
        bare_file.write_text(BARE + '@app.get("/healthz")\ndef h() -> dict:\n    return {}\n')
        env = {
            **os.environ,
            # this checkout's package, not whatever an editable install points at
            "PYTHONPATH": os.pathsep.join((tmp, str(ROOT / "src"))),
            "BACKTRIAGE_SETTINGS": json.dumps(
                {"db": f"{tmp}/bench.sqlite3", "insecure_no_auth": True}
            ),
        }
        package = subprocess.run(
            [python, "-c", "import backtriage; print(backtriage.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        service_port, bare_port = free_port(), free_port()
        common = [
            "--host",
            "127.0.0.1",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        service = start(
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                "backtriage.service.factory:app_from_env",
                "--port",
                str(service_port),
                *common,
            ],
            service_port,
            env,
        )
        bare = start(
            [python, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), *common],
            bare_port,
            env,
        )
        try:
            body = fixtures.argonaut_lbp()
            url = f"http://127.0.0.1:{service_port}/cds-services/backtriage-lumbar-imaging-sign"
            load(url, body, 2, args.clients)  # warm-up
            load1, load5, _ = os.getloadavg()
            print(f"load average before: {load1:.1f} (1 min), {load5:.1f} (5 min) — shared machine")
            print(
                f"cores: {os.cpu_count()}, server workers: {args.workers}, "
                f"clients: {args.clients}, {args.seconds:.0f} s each, loopback, "
                "auth off (JWT verification adds about one signature check per call)"
            )
            print(f"server imports backtriage from {package}")
            print(
                f"{'endpoint':28} {'requests':>8} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} "
                f"{'server CPU ms/req':>10}"
            )
            ours = measured(
                "order-sign (Argonaut LBP)", url, service.pid, body, args.seconds, args.clients
            )
            bare_url = f"http://127.0.0.1:{bare_port}/bare"
            theirs = measured(
                "bare FastAPI constant (def)", bare_url, bare.pid, body, args.seconds, args.clients
            )
            floor = measured(
                "bare constant (async def)",
                f"{bare_url}-async",
                bare.pid,
                body,
                args.seconds,
                args.clients,
            )
            print(f"order-sign throughput = {ours / theirs:.0%} of the bare endpoint (def)")
            print(f"order-sign throughput = {ours / floor:.0%} of the bare async endpoint")
        finally:
            for proc in (service, bare):
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
