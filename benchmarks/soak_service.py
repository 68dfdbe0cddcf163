"""Soak test of the REST service: many clients for minutes, one and two replicas.

Run: ``python benchmarks/soak_service.py [--seconds 600] [--clients 50]
[--configs one two] [--database-url URL]``. Writes
``benchmarks/results/soak_service.json``.

Configurations (each replica with ``--workers 2``, all with one API key):

* ``one``: one service on SQLite in a temporary data directory.
* ``two``: two replicas on one PostgreSQL database and one data directory,
  the clients split between them. Without ``--database-url`` a throwaway
  server is started with ``.ci/postgres.sh`` and stopped at the end.

Each client thread loops: now and then upload a small CSV (a few hundred
rows of ``make_ground_truth``), submit a ``rank`` job (``mi``), poll its
status about once a second until it ends (every ``GET /v1/jobs/{id}`` is
timed: the status latency), fetch its result and check it has one row per
feature, sometimes list jobs, and delete its oldest jobs and datasets so the
disk stays bounded. A 429 (rate limit, queue full) is *throttled*, not an
error: the client sleeps for its ``Retry-After`` and retries. Errors are
5xx, connection errors, other unexpected statuses, failed jobs and results
that do not match. The RSS of every web process is sampled from
``/proc/<pid>/status``; its growth is fitted by least squares over the run
after the first 10 % (the warm-up). Targets: 0 errors, flat RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)
from _service import KEY, start_service, stop_service  # noqa: E402

from featimp.datasets import make_ground_truth  # noqa: E402

N_ROWS, N_FEATURES = 300, 10
N_CSVS = 8
MAX_DATASETS, MAX_JOBS = 3, 5  # kept per client; older ones are deleted
JOB_TIMEOUT = 300.0
WORKERS = 2


def make_csvs() -> tuple[list[bytes], list[str]]:
    """Small classification tables (``N_FEATURES`` columns plus ``target``)
    and their sorted feature names."""
    tables = []
    for seed in range(N_CSVS):
        X, y, _ = make_ground_truth(
            N_ROWS, n_informative=3, n_redundant=2, n_noise=3, random_state=seed
        )
        assert X.shape == (N_ROWS, N_FEATURES)
        csv = X.assign(target=y).to_csv(index=False, float_format="%.6g")
        tables.append(csv.encode())
    return tables, sorted(X.columns)


@dataclass
class Tally:
    """What one client saw; merged over clients at the end."""

    requests: int = 0
    throttled: int = 0
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    status_latencies: list[float] = field(default_factory=list)
    jobs_completed: int = 0
    job_seconds: list[float] = field(default_factory=list)

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 20:
            self.error_examples.append(f"{kind}: {example}"[:600])

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.throttled += other.throttled
        self.errors.update(other.errors)
        room = 20 - len(self.error_examples)
        self.error_examples.extend(other.error_examples[:room])
        self.status_latencies.extend(other.status_latencies)
        self.jobs_completed += other.jobs_completed
        self.job_seconds.extend(other.job_seconds)


class Client:
    """One simulated user of the service, in its own thread."""

    def __init__(self, url: str, csvs, features, *, seed: int, deadline: float):
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60)
        self.csvs = csvs
        self.features = features
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.tally = Tally()
        self.datasets: list[str] = []
        self.jobs: list[str] = []

    def call(self, method: str, path: str, label: str, expect=(200,), **kwargs):
        """The response, or None after counting an error; retries a 429 after
        its Retry-After while there is time."""
        while time.monotonic() < self.deadline + JOB_TIMEOUT:
            self.tally.requests += 1
            started = time.perf_counter()
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                self.tally.error(f"connection {type(exc).__name__} {label}", repr(exc))
                return None
            elapsed = time.perf_counter() - started
            if response.status_code == 429:
                self.tally.throttled += 1
                retry_after = float(response.headers.get("Retry-After", 1))
                time.sleep(min(retry_after, 10) * self.rng.uniform(1, 1.5))
                continue
            if response.status_code not in expect:
                kind = f"HTTP {response.status_code} {label}"
                self.tally.error(kind, f"{method} {path} -> {response.text[:400]}")
                return None
            if label == "GET /v1/jobs/{id}":
                self.tally.status_latencies.append(elapsed)
            return response
        return None

    def run(self) -> Tally:
        try:
            while time.monotonic() < self.deadline:
                self.step()
        finally:
            self.http.close()
        return self.tally

    def step(self) -> None:
        if not self.datasets or self.rng.random() < 0.1:
            self.upload()
        if self.datasets:
            self.rank(self.rng.choice(self.datasets))
        if self.rng.random() < 0.2:
            self.call("GET", "/v1/jobs", "GET /v1/jobs", params={"limit": 20})
        while len(self.jobs) > MAX_JOBS:
            job_id = self.jobs.pop(0)
            self.call("DELETE", f"/v1/jobs/{job_id}", "DELETE /v1/jobs/{id}", (204,))
        time.sleep(self.rng.uniform(0.5, 1.5))  # think time

    def upload(self) -> None:
        index = self.rng.randrange(len(self.csvs))
        response = self.call(
            "POST",
            "/v1/datasets",
            "POST /v1/datasets",
            (201,),
            content=self.csvs[index],
            headers={"Content-Type": "text/csv"},
            params={"name": f"soak-{index}"},
        )
        if response is None:
            return
        dataset = response.json()
        if dataset["n_rows"] != N_ROWS or len(dataset["columns"]) != N_FEATURES + 1:
            self.tally.error("dataset mismatch", json.dumps(dataset)[:400])
        self.datasets.append(dataset["id"])
        if len(self.datasets) > MAX_DATASETS:
            # Only this client's finished jobs used it: a 409 would be a bug.
            old = self.datasets.pop(0)
            self.call(
                "DELETE", f"/v1/datasets/{old}", "DELETE /v1/datasets/{id}", (204,)
            )

    def rank(self, dataset_id: str) -> None:
        body = {
            "type": "rank",
            "dataset_id": dataset_id,
            "target": "target",
            "method": "mi",
            "params": {"random_state": self.rng.randrange(1000)},
        }
        response = self.call("POST", "/v1/jobs", "POST /v1/jobs", (202,), json=body)
        if response is None:
            return
        job = response.json()
        started = time.monotonic()
        while job["status"] in ("queued", "running"):
            if time.monotonic() - started > JOB_TIMEOUT:
                self.tally.error("job timeout", f"{job['id']} still {job['status']}")
                return
            time.sleep(self.rng.uniform(0.5, 1.5))
            response = self.call("GET", f"/v1/jobs/{job['id']}", "GET /v1/jobs/{id}")
            if response is None:
                return
            job = response.json()
        self.jobs.append(job["id"])
        if job["status"] != "succeeded":
            self.tally.error(f"job {job['status']}", json.dumps(job)[:400])
            return
        self.tally.job_seconds.append(time.monotonic() - started)
        response = self.call(
            "GET", f"/v1/jobs/{job['id']}/result", "GET /v1/jobs/{id}/result"
        )
        if response is None:
            return
        rows = response.json()["data"]
        features = sorted(row["feature"] for row in rows)
        finite = all(np.isfinite(row["importance"]) for row in rows)
        if features != self.features or not finite:
            self.tally.error("result mismatch", json.dumps(rows)[:400])
        else:
            self.tally.jobs_completed += 1


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def sample_rss(pids: list[int], stop: threading.Event, every: float) -> list:
    """``[(seconds since start, [MB per pid]), ...]`` until ``stop`` is set."""
    samples = []
    started = time.monotonic()
    while True:
        samples.append((time.monotonic() - started, [rss_mb(p) for p in pids]))
        if stop.wait(every):
            return samples


def rss_summary(samples: list, index: int, warmup: float) -> dict:
    t = np.array([s[0] for s in samples if s[1][index] is not None])
    mb = np.array([s[1][index] for s in samples if s[1][index] is not None])
    after = t >= warmup
    if after.sum() < 2:
        after = np.ones_like(t, dtype=bool)
    slope = np.polyfit(t[after] / 60, mb[after], 1)[0] if after.sum() >= 2 else 0.0
    return {
        "first_mb": float(mb[0]),
        "start_mb": float(mb[after][0]),
        "end_mb": float(mb[-1]),
        "max_mb": float(mb.max()),
        "slope_mb_per_minute": float(slope),
        "samples": [
            [round(float(a), 1), round(float(b), 1)] for a, b in zip(t, mb, strict=True)
        ],
    }


def log_problems(path: Path) -> list[str]:
    """Tracebacks and ERROR lines in a service log (it logs at WARNING)."""
    lines = path.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or "ERROR" in line][:20]


def run_load(urls: list[str], pids: list[int], args) -> dict:
    csvs, features = make_csvs()
    deadline = time.monotonic() + args.seconds
    clients = [
        Client(urls[i % len(urls)], csvs, features, seed=i, deadline=deadline)
        for i in range(args.clients)
    ]
    stop = threading.Event()
    samples: list = []
    sampler = threading.Thread(
        target=lambda: samples.extend(sample_rss(pids, stop, args.sample_seconds))
    )
    load_start = list(os.getloadavg())
    started = time.monotonic()
    sampler.start()
    threads = [threading.Thread(target=c.run) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    tally = Tally()
    for c in clients:
        tally.merge(c.tally)
    ms = np.asarray(tally.status_latencies) * 1e3
    warmup = 0.1 * args.seconds
    return {
        "seconds": elapsed,
        "requests": tally.requests,
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "error_examples": tally.error_examples,
        "throttled": tally.throttled,
        "status_requests": int(ms.size),
        "status_latency_ms": {
            q: float(np.percentile(ms, p)) if ms.size else None
            for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        },
        "jobs_completed": tally.jobs_completed,
        "jobs_per_minute": tally.jobs_completed / elapsed * 60,
        "job_seconds_p50": float(np.median(tally.job_seconds))
        if tally.job_seconds
        else None,
        "rss_warmup_seconds": warmup,
        "rss": [rss_summary(samples, i, warmup) for i in range(len(pids))],
        "load_average_start": load_start,
        "load_average_end": list(os.getloadavg()),
    }


def service_code() -> dict:
    """The commit and a digest of ``service/*.py`` as the replicas load them:
    the working tree may differ from the commit."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "service").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "service"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return {
        "commit": head,
        "service_py_sha256": digest.hexdigest()[:16],
        "service_files_changed_from_commit": len(changed),
    }


def start_postgres() -> tuple[str, str]:
    """A throwaway server from ``.ci/postgres.sh``: ``(url, directory)``."""
    out = subprocess.run(
        ["bash", str(ROOT / ".ci" / "postgres.sh"), "start"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in out.splitlines()
        if line.startswith("export ")
    )
    return values["FEATIMP_TEST_DATABASE_URL"], values["FEATIMP_TEST_PGDIR"]


def run_config(name: str, args, tmp: Path) -> dict:
    n_replicas = 1 if name == "one" else 2
    data_dir = tmp / name / "data"
    data_dir.mkdir(parents=True)
    pg_dir = None
    database_url = None
    if name == "two":
        database_url = args.database_url
        if database_url is None:
            database_url, pg_dir = start_postgres()
    processes, urls, logs = [], [], []
    code = service_code()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        for i in range(n_replicas):
            log = tmp / name / f"service-{i}.log"
            process, url = start_service(
                data_dir, log, workers=WORKERS, database_url=database_url
            )
            processes.append(process)
            urls.append(url)
            logs.append(log)
        print(f"[{name}] {n_replicas} replica(s) at {', '.join(urls)}", flush=True)
        result = run_load(urls, [p.pid for p in processes], args)
    finally:
        for process in processes:
            stop_service(process)
        if pg_dir is not None:
            subprocess.run(
                ["bash", str(ROOT / ".ci" / "postgres.sh"), "stop", pg_dir], check=False
            )
    result["log_problems"] = [line for log in logs for line in log_problems(log)]
    return {
        "replicas": n_replicas,
        "database": "postgresql" if database_url else "sqlite",
        "workers_per_replica": WORKERS,
        "started_at": started_at,
        "code": code,
        **result,
    }


def print_table(results: dict) -> None:
    header = (
        f"{'config':6} {'requests':>8} {'errors':>6} {'throttled':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'jobs/min':>8}  "
        "RSS MB start/end/max, slope MB/min"
    )
    print(header)
    for name, r in results.items():
        lat = r["status_latency_ms"]
        rss = "; ".join(
            f"{x['start_mb']:.0f}/{x['end_mb']:.0f}/{x['max_mb']:.0f}, "
            f"{x['slope_mb_per_minute']:+.2f}"
            for x in r["rss"]
        )
        fmt = lambda v: f"{v:7.1f}" if v is not None else f"{'-':>7}"  # noqa: E731
        print(
            f"{name:6} {r['requests']:8d} {r['errors']:6d} {r['throttled']:9d} "
            f"{fmt(lat['p50'])} {fmt(lat['p99'])} {fmt(lat['max'])} "
            f"{r['jobs_per_minute']:8.1f}  {rss}"
        )
        for kind, count in r["errors_by_kind"].items():
            print(f"       {count} x {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--configs", nargs="+", choices=("one", "two"), default=["one", "two"]
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL for 'two' (default: a throwaway server, .ci/postgres.sh)",
    )
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument(
        "--output",
        default=str(ROOT / "benchmarks" / "results" / "soak_service.json"),
    )
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        for name in args.configs:
            results[name] = run_config(name, args, Path(tmp_name))
            print_table({name: results[name]})
    output = {
        "benchmark": "soak_service",
        "command": "python benchmarks/soak_service.py " + shlex.join(sys.argv[1:]),
        "clients": args.clients,
        "seconds": args.seconds,
        "data": {
            "n_rows": N_ROWS,
            "n_features": N_FEATURES,
            "generator": "make_ground_truth(300, n_informative=3, n_redundant=2, "
            "n_noise=3, random_state=0..7)",
            "job": {"type": "rank", "method": "mi", "params": "random_state"},
        },
        "configs": results,
        **_environment.environment("httpx", "fastapi", "uvicorn", "psycopg"),
    }
    Path(args.output).write_text(json.dumps(output, indent=2) + "\n")
    print()
    print_table(results)


if __name__ == "__main__":
    main()
