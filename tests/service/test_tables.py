"""Uploads become Parquet once; bad files are named by line or byte."""

import pandas as pd
import pyarrow.feather as feather
import pytest

from featimp.datasets import load_german_credit
from service.tables import TableError, describe_and_store


def _store(tmp_path, data: bytes, **limits):
    upload = tmp_path / "upload"
    upload.write_bytes(data)
    limits = {"max_rows": 10_000, "max_columns": 100, **limits}
    return describe_and_store(upload, tmp_path / "out.arrow", **limits)


def test_csv_is_described_and_stored_as_parquet(tmp_path):
    X, y = load_german_credit()
    frame = X.assign(creditability=y)
    table = _store(tmp_path, frame.to_csv(index=False).encode())
    assert (table.format, table.n_rows, len(table.columns)) == ("csv", 1000, 21)
    kinds = {c["name"]: c["dtype"] for c in table.columns}
    assert kinds["duration_in_month"] == "int64" and kinds["creditability"] == "string"
    stored = feather.read_feather(tmp_path / "out.arrow")
    pd.testing.assert_frame_equal(stored, frame, check_dtype=False)


def test_parquet_upload(tmp_path):
    X, _ = load_german_credit()
    X.to_parquet(tmp_path / "in.parquet")
    table = _store(tmp_path, (tmp_path / "in.parquet").read_bytes())
    assert (table.format, table.n_rows) == ("parquet", 1000)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 422, "empty"),
        (b"a,b\n1,2\n\x00\x01\x02", 415, "line 3"),
        (b"a,b\n1,2\n3,\xff\n", 422, "line 3"),
        (b"a,b\n1,2\n3,4,5\n6,7\n", 422, "line 3 has 3 fields"),
        (b"a,b\n", 422, "no rows"),
        (b"a,a\n1,2\n", 422, "duplicate"),
        (b"PAR1garbage", 422, "Parquet"),
        (b"a,b,c\n1,2,3\n", 413, "columns"),
        (b"a\n1\n2\n3\n", 413, "rows"),
    ],
    ids=[
        "empty",
        "binary",
        "not-utf8",
        "ragged",
        "header-only",
        "duplicate",
        "bad-parquet",
        "too-many-columns",
        "too-many-rows",
    ],
)
def test_bad_uploads(tmp_path, data, status, message):
    with pytest.raises(TableError, match=message) as info:
        _store(tmp_path, data, max_columns=2, max_rows=2)
    assert info.value.status == status
    assert not (tmp_path / "out.arrow").exists()


def test_empty_csv_cells_are_missing_in_text_columns_too(tmp_path):
    table = _store(tmp_path, b"n,t,e\n1,x,\n,,\n3,y,\n")
    described = {c["name"]: c for c in table.columns}
    assert [described[n]["n_missing"] for n in "nte"] == [1, 1, 3]
    assert described["t"]["dtype"] == "string"
    stored = feather.read_feather(tmp_path / "out.arrow")
    assert stored["t"].tolist()[::2] == ["x", "y"] and pd.isna(stored["t"][1])


def test_parquet_types_survive(tmp_path):
    frame = pd.DataFrame(
        {
            "count": pd.array([1, None, 3], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "kind": pd.Categorical(["a", None, "b"]),
            "text": pd.array(["x", None, "y"], dtype="string"),
        }
    )
    frame.to_parquet(tmp_path / "in.parquet")
    table = _store(tmp_path, (tmp_path / "in.parquet").read_bytes())
    assert [c["n_missing"] for c in table.columns] == [1, 1, 1, 1]
    assert table.columns[2]["dtype"].startswith("dictionary")
    pd.testing.assert_frame_equal(feather.read_feather(tmp_path / "out.arrow"), frame)
