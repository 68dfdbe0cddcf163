"""The REST service end to end against the same library call in-process.

Run: ``python benchmarks/bench_service.py [--poll-seconds 30]``. Writes
``benchmarks/results/service.json``.

1. Speed: a 100,000 x 50 CSV (``make_ground_truth``, classification) ranked
   with MI. *Library*: ``pd.read_csv`` + ``MutualInfoSelector.fit`` + the
   ranking, in this process. *REST*: upload the file, submit the job, poll its
   status, fetch the JSON result, against a service started in a subprocess
   on 127.0.0.1 (its worker processes started, one small job run first).
   Best of ``--repeats`` for both; the scores must be identical. Target: REST
   within 1.5x of the library. Where the REST time goes (upload, queueing,
   the job in its worker, the rest) is recorded for every run.
2. Polling load: 50 concurrent clients poll ``GET /v1/jobs/{id}`` for
   ``--poll-seconds``; errors, throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)
from _service import KEY, start_service, stop_service, wait  # noqa: E402

from featimp.datasets import make_ground_truth  # noqa: E402
from featimp.methods import get_method  # noqa: E402

N_SAMPLES, N_FEATURES = 100_000, 50
PARAMS = {"random_state": 0}


def make_csv(path: Path) -> None:
    X, y, _ = make_ground_truth(
        N_SAMPLES,
        n_informative=10,
        n_redundant=10,
        n_noise=28,
        n_high_cardinality=2,
        random_state=0,
    )
    assert X.shape == (N_SAMPLES, N_FEATURES)
    X.assign(target=y).to_csv(path, index=False, float_format="%.6g")


def library_call(path: Path) -> tuple[float, pd.Series]:
    started = time.perf_counter()
    frame = pd.read_csv(path)
    X, y = frame.drop(columns="target"), frame["target"]
    selector = get_method("mi").make_selector(**PARAMS).fit(X, y)
    scores = pd.Series(selector.importances_, index=X.columns).sort_values(
        ascending=False, kind="stable"
    )
    return time.perf_counter() - started, scores


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def rest_call(client: httpx.Client, path: Path) -> tuple[float, pd.Series, str, dict]:
    started = time.perf_counter()
    with path.open("rb") as f:
        dataset = client.post(
            "/v1/datasets", content=f, headers={"Content-Type": "text/csv"}
        )
    dataset = dataset.raise_for_status().json()
    uploaded = time.perf_counter()
    job = (
        client.post(
            "/v1/jobs",
            json={
                "dataset_id": dataset["id"],
                "target": "target",
                "method": "mi",
                "params": PARAMS,
            },
        )
        .raise_for_status()
        .json()
    )
    job = wait(client, job["id"])
    assert job["status"] == "succeeded", job
    page = client.get(f"/v1/jobs/{job['id']}/result", params={"limit": 1000})
    rows = page.raise_for_status().json()["data"]
    elapsed = time.perf_counter() - started
    scores = pd.Series({r["feature"]: r["importance"] for r in rows})
    phases = {
        "upload_and_parse": uploaded - started,
        "queued": _seconds_between(job["created_at"], job["started_at"]),
        "job": _seconds_between(job["started_at"], job["finished_at"]),
    }
    phases["submit_poll_result"] = elapsed - sum(phases.values())
    return elapsed, scores, job["id"], phases


def warm_up(client: httpx.Client, tmp: Path) -> None:
    small = tmp / "small.csv"
    pd.DataFrame({"a": range(100), "target": [0, 1] * 50}).to_csv(small, index=False)
    rest_call(client, small)


def poll_load(url: str, job_id: str, *, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def poller():
        mine, bad = [], []
        with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30) as c:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    r = c.get(f"/v1/jobs/{job_id}")
                    if r.status_code != 200:
                        bad.append(f"HTTP {r.status_code}")
                except httpx.HTTPError as exc:
                    bad.append(repr(exc))
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=poller) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = np.asarray(latencies) * 1e3
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": int(ms.size),
        "errors": len(errors),
        "error_examples": errors[:5],
        "requests_per_second": ms.size / seconds,
        "latency_ms": {
            q: float(np.percentile(ms, p))
            for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--output", default=str(ROOT / "benchmarks" / "results" / "service.json")
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv = tmp / "data.csv"
        make_csv(csv)
        print(f"CSV: {N_SAMPLES} x {N_FEATURES}, {csv.stat().st_size / 1e6:.1f} MB")
        # The polling phase measures status reads, not the per-key rate
        # limit (50/s), which would answer most of them with 429.
        unlimited = {"FEATIMP_RATE_LIMIT_PER_SECOND": "0"}  # 0: no limit
        process, url = start_service(tmp / "data", tmp / "service.log", env=unlimited)
        try:
            with httpx.Client(
                base_url=url, headers={"X-API-Key": KEY}, timeout=300
            ) as client:
                warm_up(client, tmp)
                library, rest, phases = [], [], []
                for _ in range(args.repeats):
                    seconds, lib_scores = library_call(csv)
                    library.append(seconds)
                    seconds, rest_scores, job_id, split = rest_call(client, csv)
                    rest.append(seconds)
                    phases.append(split)
                    print(
                        f"library {library[-1]:.3f}s  REST {rest[-1]:.3f}s  ("
                        + ", ".join(f"{k} {v:.3f}" for k, v in split.items())
                        + ")"
                    )
                max_diff = float(
                    np.max(
                        np.abs(
                            rest_scores.loc[lib_scores.index].to_numpy()
                            - lib_scores.to_numpy()
                        )
                    )
                )
            load = poll_load(
                url, job_id, clients=args.clients, seconds=args.poll_seconds
            )
        finally:
            stop_service(process)

    ratio = min(rest) / min(library)
    median_ratio = float(np.median(rest) / np.median(library))
    result = {
        "benchmark": "service",
        "data": {
            "n_samples": N_SAMPLES,
            "n_features": N_FEATURES,
            "generator": "make_ground_truth(random_state=0)",
            "method": "mi",
            "params": PARAMS,
        },
        "speed": {
            "library_seconds": min(library),
            "rest_seconds": min(rest),
            "library_runs": library,
            "rest_runs": rest,
            "rest_phases": phases,
            "rest_over_library": ratio,
            "rest_over_library_medians": median_ratio,
            "target": 1.5,
            "max_abs_score_difference": max_diff,
        },
        "polling": load,
        **_environment.environment("fastapi", "pyarrow"),
    }
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"REST / library = {ratio:.2f} best-of, {median_ratio:.2f} of medians "
        f"(target <= 1.5); max |score diff| "
        f"= {max_diff:.2g}"
    )
    print(
        f"polling: {load['requests']} requests, {load['errors']} errors, "
        f"p50 {load['latency_ms']['p50']:.1f} ms, p99 "
        f"{load['latency_ms']['p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
