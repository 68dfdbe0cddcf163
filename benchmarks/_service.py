"""Start the REST service in a subprocess and wait for jobs, for the service
benchmarks (``bench_service.py``, ``soak_service.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(
    data_dir: Path,
    log_path: Path,
    *,
    workers: int = 2,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """``python -m service`` (what ``featimp serve`` runs) on a free port of
    127.0.0.1 with the API key :data:`KEY`; returns once ``/healthz`` is 200.

    ``env`` adds ``FEATIMP_*`` settings; ``database_url`` puts the metadata
    in PostgreSQL instead of SQLite in ``data_dir``.
    """
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEATIMP_API_KEYS": KEY,
        "FEATIMP_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [sys.executable, "-m", "service", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(log_path.read_text())


def stop_service(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM (running jobs may finish), then SIGKILL after ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait(client: httpx.Client, job_id: str, interval: float = 0.02) -> dict:
    """Poll a job until it has ended; its last status."""
    for _ in range(30_000):
        job = client.get(f"/v1/jobs/{job_id}").raise_for_status().json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(interval)
    raise RuntimeError(f"job {job_id} did not finish")
