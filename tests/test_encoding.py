"""The encoding layer (featimp/_encoding.py): dummies, codes, missing values and
the aggregation back to columns."""

import numpy as np
import pandas as pd
import pytest

from featimp._encoding import encode_table

pl = pytest.importorskip("polars")


def test_onehot_names_dummies_and_missing_indicators():
    X = pd.DataFrame(
        {"grade": ["a", "b", None, "a"], "amount": [1.0, np.nan, 3.0, 5.0]}
    )
    table = encode_table(X, "onehot")
    assert table.encoded_names == [
        "grade=a",
        "grade=b",
        "grade=<missing>",
        "amount",
        "amount=<missing>",
    ]
    np.testing.assert_array_equal(table.groups, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(table.values[:, 3], [1.0, 3.0, 3.0, 5.0])  # median
    np.testing.assert_array_equal(table.values[:, 4], [0, 1, 0, 0])


def test_codes_keep_missing_as_nan_and_mark_categories():
    X = pd.DataFrame({"grade": pd.Categorical(["b", "a", None]), "n": [1, 2, 3]})
    table = encode_table(X, "codes")
    np.testing.assert_array_equal(table.categorical, [True, False])
    assert np.isnan(table.values[2, 0]) and table.values[0, 0] != table.values[1, 0]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("sum", [3.0, 4.0]), ("max", [2.0, 4.0]), ("l2", [5**0.5, 4.0])],
)
def test_aggregation_rules(rule, expected):
    X = pd.DataFrame({"grade": ["a", "b", "a"], "amount": [1.0, 2.0, 3.0]})
    table = encode_table(X, "onehot")
    np.testing.assert_allclose(
        table.aggregate(np.array([1.0, 2.0, 4.0]), rule), expected
    )
