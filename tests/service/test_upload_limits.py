"""Upload limits hold before a table is in memory, and outside the web process.

The footer of a Parquet file and the header of a CSV are checked before any
data is read, the rest is read in bounded batches, and all of it happens in
a worker process with hard limits (``service.parsing``).
"""

import os
import re
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from service import parsing, tables
from service.config import Settings
from service.main import create_app
from service.tables import MAX_FOOTER_BYTES, TableError, describe_and_store
from tests.service import dying
from tests.service.conftest import assert_problem

PARQUET = {"Content-Type": "application/vnd.apache.parquet"}
CSV = {"Content-Type": "text/csv"}
MB = 1024**2


def _limits(**limits) -> dict:
    return {"max_rows": 10_000_000, "max_columns": 10_000, **limits}


def _store(tmp_path, data: bytes, **limits):
    upload = tmp_path / "upload"
    upload.write_bytes(data)
    return describe_and_store(upload, tmp_path / "out.arrow", **_limits(**limits))


@pytest.fixture
def never_whole(monkeypatch):
    """Reading an upload whole fails the test (one value, to widen a CSV
    column, may still be read from memory)."""
    real = pa_csv.read_csv

    def read_csv(source, *args, **kwargs):
        assert not isinstance(source, (str, os.PathLike)), "read a CSV whole"
        return real(source, *args, **kwargs)

    def read_table(*args, **kwargs):
        raise AssertionError("read a Parquet file whole")

    monkeypatch.setattr(pa_csv, "read_csv", read_csv)
    monkeypatch.setattr(pq, "read_table", read_table)
    # Small CSVs are parsed whole (faster); these tests check the stream.
    monkeypatch.setattr(tables, "_WHOLE_CSV_BYTES", 0)


@pytest.fixture
def footer_only(never_whole, monkeypatch):
    """Reading any data of a Parquet file fails the test."""

    def iter_batches(*args, **kwargs):
        raise AssertionError("read Parquet data")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", iter_batches)


def _repeated_parquet(path: Path, *, value_bytes: int, n_rows: int) -> Path:
    """A tiny file of one text value repeated: dictionary pages, read back as
    plain text (no stored Arrow schema), so it decodes to n_rows x value_bytes."""
    values = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n_rows, dtype="int32")), pa.array(["x" * value_bytes])
    )
    pq.write_table(pa.table({"s": values}), path, store_schema=False)
    return path


def _row_passed(detail: str) -> int:
    return int(re.search(r"passed at row (\d+)", detail).group(1))


def _wide_csv(n_columns: int, n_rows: int) -> bytes:
    header = ",".join(f"c{i}" for i in range(n_columns))
    row = ",".join(["0"] * n_columns)
    return "\n".join([header] + [row] * n_rows).encode() + b"\n"


# -- before any data is read ---------------------------------------------------


def test_a_parquet_that_decodes_past_the_limit_is_refused_from_its_footer(
    tmp_path, footer_only
):
    table = pa.table({"s": ["x" * 1000] * 20_000})  # 20 MB, in a few KB
    pq.write_table(
        table, tmp_path / "in.parquet", use_dictionary=False, compression="zstd"
    )
    assert (tmp_path / "in.parquet").stat().st_size < 100_000
    with pytest.raises(TableError, match="decodes to at least") as info:
        _store(tmp_path, (tmp_path / "in.parquet").read_bytes(), max_bytes=10 * MB)
    assert info.value.status == 413
    assert not list(tmp_path.glob("out.*"))


def test_a_parquet_with_more_rows_than_the_limit_is_refused_from_its_footer(
    tmp_path, footer_only
):
    pq.write_table(pa.table({"a": np.zeros(200_000)}), tmp_path / "in.parquet")
    with pytest.raises(TableError, match="200000 rows: the limit is 100000") as info:
        _store(tmp_path, (tmp_path / "in.parquet").read_bytes(), max_rows=100_000)
    assert info.value.status == 413


def test_nested_parquet_columns_are_named(tmp_path, footer_only):
    table = pa.table({"x": [1, 2], "tags": [["a"], ["b", "c"]]})
    pq.write_table(table, tmp_path / "in.parquet")
    with pytest.raises(TableError, match="column 'tags' is nested") as info:
        _store(tmp_path, (tmp_path / "in.parquet").read_bytes())
    assert info.value.status == 422


def test_a_huge_parquet_footer_is_refused_unread(tmp_path, footer_only):
    upload = tmp_path / "upload"
    size = MAX_FOOTER_BYTES + 1024
    with upload.open("wb") as f:
        f.write(b"PAR1")
        f.truncate(size)  # sparse: no disk used
        f.seek(size - 8)
        f.write((MAX_FOOTER_BYTES + 1).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(TableError, match="Parquet footer") as info:
        describe_and_store(upload, tmp_path / "out.arrow", **_limits())
    assert info.value.status == 413


def test_a_csv_with_100k_columns_is_refused_from_its_header(
    tmp_path, never_whole, monkeypatch
):
    def open_csv(*args, **kwargs):
        raise AssertionError("Arrow parsed the CSV")

    monkeypatch.setattr(pa_csv, "open_csv", open_csv)
    with pytest.raises(TableError, match="100000 columns") as info:
        _store(tmp_path, _wide_csv(100_000, 2))
    assert info.value.status == 413


def test_a_csv_header_longer_than_its_bound_is_refused(tmp_path, never_whole):
    with pytest.raises(TableError, match=r"header .* is longer than") as info:
        _store(tmp_path, b"a" * 2 * MB + b",b\n1,2\n", max_columns=10)
    assert info.value.status == 413


# -- while it is read ------------------------------------------------------------


def test_a_repeated_value_parquet_is_stopped_batch_by_batch(tmp_path, never_whole):
    path = _repeated_parquet(tmp_path / "in.parquet", value_bytes=1000, n_rows=200_000)
    with pytest.raises(TableError, match="passed at row") as info:
        _store(tmp_path, path.read_bytes(), max_bytes=20 * MB)
    assert info.value.status == 413
    assert _row_passed(str(info.value)) < 200_000
    assert not list(tmp_path.glob("out.*"))


def test_later_csv_blocks_widen_their_columns(tmp_path, never_whole):
    # The first 4 MiB block says int64 and null; later rows say otherwise.
    rows = [b"n,gap,kind"] + [b"1,,a"] * 1_200_000
    rows += [b"2,0.5,b", b"unknown,7,c"]
    table = _store(tmp_path, b"\n".join(rows) + b"\n")
    kinds = {c["name"]: c["dtype"] for c in table.columns}
    assert kinds == {"n": "string", "gap": "double", "kind": "string"}
    assert [c["n_missing"] for c in table.columns] == [0, 1_200_000, 0]
    stored = feather.read_table(tmp_path / "out.arrow", memory_map=True)
    assert stored.column("n")[-1].as_py() == "unknown"
    assert stored.column("gap").to_pylist()[-2:] == [0.5, 7.0]


def test_a_small_csv_read_whole_is_stored_as_the_stream_stores_it(
    tmp_path, monkeypatch
):
    # Types from the first block, widened by later ones, on either path.
    rows = [b"n,gap,kind,text"] + [b"1,,a,x"] * 1_200_000
    rows += [b"2,0.5,b,", b'unknown,7,c,"y, z"']
    data = b"\n".join(rows) + b"\n"
    stored = []
    for whole in (10**9, 0):
        monkeypatch.setattr(tables, "_WHOLE_CSV_BYTES", whole)
        out = tmp_path / str(whole)
        out.mkdir()
        description = _store(out, data)
        stored.append((description, feather.read_table(out / "out.arrow")))
    (whole_description, whole_table), (stream_description, stream_table) = stored
    assert whole_description == stream_description
    assert whole_table.equals(stream_table)
    assert whole_table.column("n").type == pa.string()


def test_a_ragged_line_names_its_line_when_read_whole(tmp_path):
    data = b"a,b\n" + b"1,2\n" * 1000 + b"3,4,5\n"
    with pytest.raises(TableError, match="line 1002"):
        _store(tmp_path, data)


def test_parquet_dictionaries_of_row_groups_are_unified(tmp_path, never_whole):
    kind = pa.dictionary(pa.int8(), pa.string())
    with pq.ParquetWriter(tmp_path / "in.parquet", pa.schema([("k", kind)])) as w:
        for values in (["a", "b"], ["c", "a"], ["b", None]):
            w.write_table(
                pa.table({"k": pa.array(values).dictionary_encode().cast(kind)})
            )
    table = _store(tmp_path, (tmp_path / "in.parquet").read_bytes())
    assert table.columns == [{"name": "k", "dtype": str(kind), "n_missing": 1}]
    stored = feather.read_table(tmp_path / "out.arrow")
    assert stored.column("k").to_pylist() == ["a", "b", "c", "a", "b", None]


def test_the_decoded_size_limit_follows_the_upload_limit():
    assert Settings(max_upload_bytes=10 * MB).max_dataset_bytes == 40 * MB
    assert Settings(max_upload_bytes=10, max_dataset_bytes=7).max_dataset_bytes == 7


# -- the web process -------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _peak_rss_growth(pid: int, request) -> tuple[object, float]:
    """The response of ``request()`` and how far the RSS of ``pid`` rose
    above where it was, sampled while the request ran."""
    before, peak, done = _rss_mb(pid), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            done.wait(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        response = request()
    finally:
        done.set()
        sampler.join()
    return response, max(peak[0], _rss_mb(pid)) - before


# This test and the next on the real server: the RSS is the web process's.
def test_a_parquet_bomb_leaves_the_web_process_alone(server, tmp_path):
    # 80 KB that decode to 770 MB; the test server's limit is 32 MiB.
    path = _repeated_parquet(tmp_path / "b.parquet", value_bytes=770, n_rows=1_000_000)
    with server.client() as client:
        response, growth = _peak_rss_growth(
            server.process.pid,
            lambda: client.post(
                "/v1/datasets", content=path.read_bytes(), headers=PARQUET
            ),
        )
    assert_problem(response, 413, field="file", contains="decoded")
    assert growth < 100, f"the web process grew by {growth:.0f} MB"
    assert not list((server.data_dir / "datasets").glob("*.partial"))


def test_a_100k_column_csv_leaves_the_web_process_alone(server):
    data = _wide_csv(100_000, 10)  # 2.7 MB, as in the audit
    with server.client() as client:
        response, growth = _peak_rss_growth(
            server.process.pid,
            lambda: client.post("/v1/datasets", content=data, headers=CSV),
        )
    assert_problem(response, 413, contains="100000 columns")
    assert growth < 100, f"the web process grew by {growth:.0f} MB"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An app in this process: tight limits, and ``parsing`` to monkeypatch."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("limits") / "data",
        api_keys="k",
        workers=1,
        upload_workers=1,
        upload_sandbox_memory_mb=1024,
        max_upload_bytes=16 * MB,
        max_dataset_bytes=40 * MB,
        rate_limit_per_second=0,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as client:
        yield client


def _left_behind(app) -> list[Path]:
    """Files in datasets/ and tmp/ that are no stored dataset."""
    store = app.app.state.store
    listed = app.get("/v1/datasets").json()["data"]
    stored = {store.path("datasets", r["id"]) for r in listed}
    files = [
        *(store.data_dir / "datasets").iterdir(),
        *(store.data_dir / "tmp").iterdir(),
    ]
    return [f for f in files if f not in stored]


def test_a_limit_passed_in_the_middle_of_a_csv(app):
    data = b"a,b\n" + b"1,2\n" * 3_500_000  # 14 MB, 56 MB decoded
    response = app.post("/v1/datasets", content=data, headers=CSV)
    body = assert_problem(response, 413, field="file", contains="passed at row")
    assert 0 < _row_passed(body["detail"]) < 3_500_000
    assert not _left_behind(app)


def test_out_of_memory_while_parsing_is_a_413(app, tmp_path):
    # 15 KB that decode to 1.5 GB in one batch, past the 1024 MB cap.
    path = _repeated_parquet(tmp_path / "m.parquet", value_bytes=300_000, n_rows=5000)
    response = app.post("/v1/datasets", content=path.read_bytes(), headers=PARQUET)
    assert_problem(response, 413, field="file", contains="memory")
    assert not _left_behind(app)
    assert (
        app.post("/v1/datasets", content=b"a,b\n1,2\n", headers=CSV).status_code == 201
    )


def test_a_worker_that_dies_costs_that_upload_only(app, monkeypatch):
    # In a module of its own: the worker imports it, within its memory cap.
    monkeypatch.setattr(parsing, "_parse_in_worker", dying.parse_in_worker)
    response = app.post("/v1/datasets", content=b"a,b\n1,2\n", headers=CSV)
    assert_problem(
        response, 413, field="file", contains="process parsing the upload died"
    )
    assert not _left_behind(app)
    monkeypatch.undo()
    response = app.post("/v1/datasets", content=b"a,b\n1,2\n3,4\n", headers=CSV)
    assert response.status_code == 201, response.text
    assert response.json()["n_rows"] == 2


def _parse_workers() -> set[int]:
    """This process's children that multiprocessing spawned."""
    children = set()
    for task in Path("/proc/self/task").iterdir():
        children |= {int(p) for p in _proc_read(task / "children").split()}
    return {
        pid for pid in children if b"spawn_main" in _proc_read(f"/proc/{pid}/cmdline")
    }


def _proc_read(path) -> bytes:
    """A /proc file, empty once its thread or process has ended meanwhile."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""


def test_apps_stop_their_parse_workers(tmp_path):
    before = _parse_workers()
    for i in range(2):
        settings = Settings(data_dir=tmp_path / f"d{i}", api_keys="k", workers=1)
        with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as c:
            response = c.post("/v1/datasets", content=b"a\n1\n", headers=CSV)
            assert response.status_code == 201, response.text
            assert _parse_workers() - before
        assert _parse_workers() <= before


def test_a_parse_that_blocks_ends_at_its_wall_clock_limit(tmp_path):
    """A read that never returns uses no CPU time: the wall-clock limit
    ends its worker, and the upload gets a 413 (after its one retry)."""
    fifo = tmp_path / "blocked.csv"
    os.mkfifo(fifo)  # opening it for reading waits for a writer forever
    pool = parsing.ParsePool(workers=1, memory_mb=1024, seconds=1)
    outcome = {}

    def parse():
        try:
            pool.describe_and_store(
                fifo, tmp_path / "out.parquet", max_rows=10, max_columns=10
            )
        except tables.TableError as error:
            outcome["error"] = error

    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(120)
    try:
        assert not worker.is_alive(), "the parse was not stopped"
        assert outcome["error"].status == 413
        assert "2 s of wall-clock time" in str(outcome["error"])
        # The pool starts a new worker for the next upload.
        good = tmp_path / "good.csv"
        good.write_text("a,b\n1,2\n")
        table = pool.describe_and_store(
            good, tmp_path / "good.parquet", max_rows=10, max_columns=10
        )
        assert table.n_rows == 1
    finally:
        pool.shutdown()
