"""Streaming on a real Dask cluster: a scheduler and two workers, each its own
OS process with its own working and scratch directory, equal the single
process to the bit, and the counting tasks run on both workers."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyarrow")
distributed = pytest.importorskip("distributed")

from featimp import rank_dataset  # noqa: E402

#: Past this many seconds the test fails instead of waiting on the cluster.
DEADLINE = 120
N_WORKERS = 2


def _frame(n=600, seed=3):
    """Every kind of column the streaming coder handles, three classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    level = y + rng.normal(0, 0.8, n)
    level[rng.random(n) < 0.1] = np.nan
    colours = np.array(["amber", "blue", "coral", "dun"])
    word = colours[(y + rng.integers(0, 2, n)) % 4].astype(object)
    word[rng.random(n) < 0.12] = None
    return pd.DataFrame(
        {
            "level": level,
            "jitter": rng.normal(size=n),
            "word": pd.Series(word, dtype=object),
            "user_id": rng.integers(0, 250, n),
            "grade": pd.Categorical(colours[(2 * y + rng.integers(0, 3, n)) % 4]),
            "active": rng.random(n) < 0.25 + 0.25 * (y == 2),
            "y": y,
        }
    )


def _files(frame, folder, sizes) -> list[str]:
    """``frame`` split into consecutive Parquet files, by absolute path."""
    folder.mkdir()
    bounds = np.cumsum([0, *sizes])
    assert bounds[-1] == len(frame)
    paths = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        path = (folder / f"part-{i}.parquet").resolve()
        frame.iloc[a:b].to_parquet(path, index=False)
        paths.append(str(path))
    return paths


class _Deadline(Exception):
    pass


@contextmanager
def _deadline(seconds: int):
    """Raise in the main thread after ``seconds``: a lost worker or a task
    that never returns fails the test instead of hanging it."""

    def expire(signum, frame):
        raise _Deadline(f"the cluster test took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _start(args, cwd, log):
    """A process of its own, in a new session (so its group can be killed
    with whatever it starts), output to ``log``."""
    env = {
        **os.environ,
        # One thread each on a shared machine; no pool sized to the CPUs.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "NUMBA_NUM_THREADS": "1",
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(processes) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    end = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # the group too: anything the process started
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


def _logs(logs) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)


@pytest.fixture
def cluster(tmp_path):
    """The scheduler and two workers as separate processes: yields the
    scheduler file, the worker processes and their directories."""
    scheduler_dir = tmp_path / "scheduler"
    scheduler_dir.mkdir()
    scheduler_file = scheduler_dir / "scheduler.json"
    processes, logs, workers = [], [scheduler_dir / "scheduler.log"], []
    try:
        processes.append(
            _start(
                [
                    "distributed.cli.dask_scheduler",
                    "--host=127.0.0.1",
                    "--port=0",
                    "--no-dashboard",
                    f"--scheduler-file={scheduler_file}",
                    # Should this process outlive the test: it ends itself.
                    "--idle-timeout=300",
                ],
                scheduler_dir,
                logs[0],
            )
        )
        for i in range(N_WORKERS):
            home = tmp_path / f"worker-{i}"
            scratch = home / "scratch"
            scratch.mkdir(parents=True)
            logs.append(home / "worker.log")
            process = _start(
                [
                    "distributed.cli.dask_worker",
                    f"--scheduler-file={scheduler_file}",
                    "--host=127.0.0.1",
                    "--nthreads=1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--memory-limit=0",
                    f"--local-directory={scratch}",
                    f"--name=worker-{i}",
                    # Without a scheduler for this long, a worker ends itself.
                    "--death-timeout=60",
                ],
                home,
                logs[-1],
            )
            processes.append(process)
            workers.append({"process": process, "cwd": home, "scratch": scratch})
        yield {"scheduler_file": scheduler_file, "workers": workers, "logs": logs}
    finally:
        _stop(processes)


def _connect(scheduler_file, logs):
    end = time.monotonic() + 60
    while not scheduler_file.exists():
        assert time.monotonic() < end, "no scheduler file\n" + _logs(logs)
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    return distributed.Client(address, timeout=60)


def _counting_workers(records) -> dict[str, int]:
    """Per worker address, how many counting tasks (``_count_once_part``,
    MI's read, and ``_count_part``, mRMR's per pick) it ran."""
    counts = {}
    for record in records:
        key = record["key"]
        name = key[0] if isinstance(key, tuple) else key
        if str(name).startswith(("_count_part-", "_count_once_part-")):
            counts[record["worker"]] = counts.get(record["worker"], 0) + 1
    return counts


def test_two_worker_processes_equal_one_process(tmp_path, cluster):
    frame = _frame()
    paths = _files(frame, tmp_path / "data", [90, 110, 100, 80, 120, 100])
    local = {
        method: rank_dataset(paths, "y", method=method, random_state=0)
        for method in ("mi", "mrmr")
    }
    try:
        with (
            _deadline(DEADLINE),
            _connect(cluster["scheduler_file"], cluster["logs"]) as client,
        ):
            client.wait_for_workers(N_WORKERS, timeout=60)
            # Each worker is one of the processes started here, in its own
            # working directory with its own scratch directory.
            pids = client.run(os.getpid)
            cwds = client.run(os.getcwd)
            dirs = client.run(lambda dask_worker: dask_worker.local_directory)
            expected_pids = {w["process"].pid for w in cluster["workers"]}
            assert set(pids.values()) == expected_pids
            assert os.getpid() not in expected_pids
            by_pid = {w["process"].pid: w for w in cluster["workers"]}
            for address, pid in pids.items():
                worker = by_pid[pid]
                assert cwds[address] == str(worker["cwd"])
                assert dirs[address].startswith(str(worker["scratch"]))
            for method, expected in local.items():
                with distributed.get_task_stream(client=client) as stream:
                    remote = rank_dataset(
                        paths, "y", method=method, random_state=0, client=client
                    )
                pd.testing.assert_frame_equal(remote, expected)
                assert remote.attrs == expected.attrs
                ran = _counting_workers(stream.data)
                # Every counting task of this run, and on both workers.
                assert set(ran) == set(pids), (method, ran)
                # One task per file and pass: MI counts once, mRMR once
                # more per pick.
                passes, left = divmod(sum(ran.values()), len(paths))
                assert left == 0, (method, ran)
                if method == "mi":
                    assert passes == 1, ran
                else:
                    assert passes > 1, ran
    except Exception as exc:  # the workers' logs tell why
        raise AssertionError(f"{exc!r}\n{_logs(cluster['logs'])}") from exc
