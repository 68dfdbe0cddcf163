"""Streaming fits under a hard address-space limit that loading the data whole
does not fit under.

Each run is a fresh Python process whose address space is capped with
``resource.setrlimit(RLIMIT_AS)`` before it imports anything: past the cap
an allocation fails (``MemoryError`` in Python, ``ArrowMemoryError``, a
subclass, in pyarrow) instead of the machine swapping or the kernel's OOM
killer picking a victim.

The cap cannot be a fixed number. Most of a process's address space is
reserved, never touched: importing ``pyarrow.dataset`` takes the virtual
size from about 0.3 GB to 1.4 GB (its allocator and thread pools), numba
and the compiled kernels add a few hundred MB more, and every thread
reserves a stack and glibc a malloc arena; all of it grows with the
machine's cores. So the test first measures the peak virtual size
(``VmPeak`` in ``/proc/self/status``) of a process that imports featimp,
pyarrow and numba and streams one file of the dataset, with the thread
pools pinned to one thread and two malloc arenas (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``MALLOC_ARENA_MAX``), and
caps the runs at that peak plus :data:`MARGIN`.

Both capped processes start alike: the same cap, imports and warm-up (the
streamed file), then

- streaming: ``rank_dataset`` over every file, with the exact-mean null
  (nothing kept per row); it must succeed and rank the planted column first;
- in memory: ``mutual_info_importances`` on the first file's rows read
  whole (which must fit and agree), then ``pd.read_parquet`` of the folder
  and ``mutual_info_importances`` on it, which must raise ``MemoryError``.

The dataset is integers of a few distinct values: a few MB on disk
(dictionary-encoded), and :data:`IN_MEMORY_MB` (520 MB) as pandas' int64
columns, twice the margin, which ``pd.read_parquet`` holds twice over while
it converts Arrow's columns. Its files are hard links to one file (a copy
where links are not supported), so it is written in a second.

Measured on a 2-core machine: the warm-up peaks at 1.820 GB, streaming the
ten files at 1.826 GB (it would have passed with a 16 MB margin), and the
in-memory read fails allocating 520 MB; even a margin of 1.28 GB is too
small for it. Without the cap it peaks at 3.7 GB of address space and
2.4 GB resident, streaming at 0.34 GB resident.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

if not os.path.exists("/proc/self/status"):  # pragma: no cover - Linux only
    pytest.skip("reads the virtual size from /proc", allow_module_level=True)

ROWS_PER_FILE = 500_000
N_FILES = 10
N_NOISE = 11
BATCH_SIZE = 32_768
#: Room above the calibrated peak. Streaming ten times the warm-up's rows
#: needed about 5 MB of it (VmPeak 1.820 GB warm, 1.826 GB after, on 2 cores).
MARGIN = 256 << 20
#: The dataset as pandas holds it: its int64 columns.
IN_MEMORY_MB = ROWS_PER_FILE * N_FILES * (N_NOISE + 2) * 8 / 1e6
TIMEOUT = 60
ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}

# The start of every run: the cap (0: none), imports, one file streamed.
PRELUDE = """
import json, resource, sys
limit, folder, first, batch_size = int(sys.argv[1]), *sys.argv[2:4], int(sys.argv[4])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def vm(key="VmPeak"):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

import numba, numpy as np, pandas as pd, pyarrow
import featimp
from featimp import mutual_info_importances, rank_dataset

def stream(source):
    table = rank_dataset(
        source, "y", null_correction="expected", batch_size=batch_size
    )
    return table["feature"].iloc[0], table.attrs["n_samples"]

warm = stream(first)
print(json.dumps({"ready": warm, "VmPeak": vm(), "VmSize": vm("VmSize")}))
sys.stdout.flush()
"""

STREAM = """
top, rows = stream(folder)
print(json.dumps({"top": top, "rows": rows, "VmPeak": vm()}))
"""

IN_MEMORY = """
def whole(frame):
    X, y = frame.drop(columns="y"), frame["y"]
    scores = mutual_info_importances(X, y, null_correction="expected")
    return X.columns[int(np.argmax(scores))], len(frame)

print(json.dumps({"one_file": whole(pd.read_parquet(first))}))
sys.stdout.flush()
try:
    whole(pd.read_parquet(folder))
except MemoryError as exc:
    print(json.dumps({"memory_error": repr(exc)[:300], "VmPeak": vm()}))
    sys.exit(3)
print(json.dumps({"fitted": True, "VmPeak": vm()}))
"""


def _write(folder):
    """``N_FILES`` files of the same rows: ``signal`` carries the target."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, ROWS_PER_FILE)
    columns = {"signal": y + rng.integers(0, 3, ROWS_PER_FILE)}
    for j in range(N_NOISE):
        columns[f"noise_{j:02d}"] = rng.integers(0, 8, ROWS_PER_FILE)
    columns["y"] = y
    first = folder / "part-000.parquet"
    pq.write_table(pa.table(columns), first, row_group_size=BATCH_SIZE)
    for i in range(1, N_FILES):
        other = folder / f"part-{i:03d}.parquet"
        try:
            os.link(first, other)
        except OSError:
            shutil.copyfile(first, other)
    return folder, first


def _run(code, limit, folder, first):
    env = {**os.environ, **ENV}
    args = map(str, (limit, folder, first, BATCH_SIZE))
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line[:1] == "{"]
    return done, lines


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """The dataset, and the cap: the calibrated peak plus the margin."""
    folder, first = _write(tmp_path_factory.mktemp("memory") / "data")
    done, lines = _run("", 0, folder, first)
    assert done.returncode == 0, done.stderr
    baseline = lines[0]["VmPeak"]
    return {"folder": folder, "first": first, "limit": baseline + MARGIN}


def test_streaming_fits_under_the_cap(capped):
    done, lines = _run(STREAM, capped["limit"], capped["folder"], capped["first"])
    assert done.returncode == 0, done.stderr[-3000:]
    ready, result = lines
    assert ready["ready"] == ["signal", ROWS_PER_FILE]
    assert result == {
        "top": "signal",
        "rows": ROWS_PER_FILE * N_FILES,
        "VmPeak": result["VmPeak"],
    }


def test_loading_the_data_whole_does_not(capped):
    assert IN_MEMORY_MB * 1e6 > 1.5 * MARGIN  # the data alone overflows the room
    done, lines = _run(IN_MEMORY, capped["limit"], capped["folder"], capped["first"])
    assert len(lines) == 3, (done.returncode, lines, done.stderr[-3000:])
    ready, one_file, whole = lines
    assert ready["ready"] == ["signal", ROWS_PER_FILE]
    # The in-memory path itself works under the cap, on data that fits...
    assert one_file == {"one_file": ["signal", ROWS_PER_FILE]}
    # ...and runs out of address space on the whole dataset.
    assert done.returncode == 3, (done.returncode, lines, done.stderr[-3000:])
    assert "memory_error" in whole
