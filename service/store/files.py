"""The dataset files: each stored dataset is one Arrow file, read here.

The file is memory-mapped and only the requested columns leave Arrow, which
spares a copy of the whole table. Every job and transform reads through
:func:`read_frame`.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.feather as feather

from service.store.db import Store


def read_frame(
    store: Store,
    dataset_id: str,
    columns: list[str] | None = None,
    *,
    arrow_dtypes: bool = False,
) -> pd.DataFrame:
    """The ``columns`` of a stored dataset (all of them if None), in that order.

    With ``arrow_dtypes`` the columns are Arrow-backed and keep the stored
    types: text stays text, an integer column with gaps stays integer.
    """
    table = feather.read_table(
        store.path("datasets", dataset_id), columns=columns, memory_map=True
    )
    return table.to_pandas(types_mapper=pd.ArrowDtype if arrow_dtypes else None)
