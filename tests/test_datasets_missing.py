"""Seeded missing values (featimp/datasets/_missing.py)."""

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import (
    MissingColumn,
    add_missing,
)


def test_add_missing_keeps_the_input_and_records_the_spec():
    frame = pd.DataFrame({"x": np.arange(200), "t": ["u", "v"] * 100})
    out = add_missing(
        frame, {"x": (0.25, "MCAR", None), "t": (0.1, "MCAR")}, random_state=3
    )
    assert frame.notna().all().all()
    assert out.isna().sum().tolist() == [50, 20]
    assert out["x"].dtype == float and out["t"].dtype == frame["t"].dtype
    assert out.attrs["missing"]["t"] == MissingColumn(0.1, "MCAR", None)


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"nope": (0.1, "MCAR")}, "nope"),
        ({"x": (1.0, "MCAR")}, "rate"),
        ({"x": (0.1, "MNAR")}, "mechanism"),
        ({"x": (0.1, "MCAR", "z")}, "takes no driver"),
        ({"x": (0.1, "MAR")}, "needs a driver"),
        ({"x": (0.1, "MAR", "t")}, "numeric"),
        ({"x": (0.1, "MAR", "z"), "z": (0.1, "MCAR")}, "stay complete"),
    ],
)
def test_add_missing_bad_spec(spec, match):
    frame = pd.DataFrame({"x": [1.0, 2.0], "z": [3, 4], "t": ["a", "b"]})
    with pytest.raises(ValueError, match=match):
        add_missing(frame, spec, random_state=0)
