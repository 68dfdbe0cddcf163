"""Compiled counting of contingency tables, when numba is installed.

mRMR counts, at every pick, the table of each remaining column against the
picked column and each of its permutations. In NumPy every target costs a
few passes over the codes (offset, combine, count); the compiled loop reads
each code once for all targets. The counts are integers, so the MI computed
from them is the same to the last bit as from the NumPy count.

numba is optional: :func:`count_tables` returns None without it, and the
caller counts with NumPy. It is imported on first use only, as it takes
longer to import than a small MI takes to compute.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _kernel():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def count(codes, columns, first_code, targets, n_target, n_x_codes):
        # Targets side by side (n, k) and tables cell-major (cells, k): the
        # k counts of one entry land in one cache line.
        n, n_targets = targets.shape
        tables = np.zeros((n_x_codes * n_target, n_targets), dtype=np.int32)
        for c in range(columns.size):
            row = codes[columns[c]]
            offset = first_code[c]
            for i in range(n):
                cell = (offset + row[i]) * n_target
                for k in range(n_targets):
                    tables[cell + targets[i, k], k] += 1
        return tables

    return count


def count_tables(codes, columns, first_code, targets, n_target: int, n_x_codes: int):
    """Dense joint tables ``(len(targets), n_x_codes * n_target)`` of the
    rows ``columns`` of ``codes`` (offset by ``first_code``) with each target,
    or None when numba is not installed."""
    kernel = _kernel()
    # The kernel counts in int32, which holds any count of fewer entries.
    if kernel is None or codes.shape[1] > np.iinfo(np.int32).max:
        return None
    tables = kernel(
        np.ascontiguousarray(codes),
        np.asarray(columns, dtype=np.intp),
        np.asarray(first_code, dtype=np.intp),
        np.column_stack(targets).astype(np.intp, copy=False),
        int(n_target),
        int(n_x_codes),
    )
    return tables.T.astype(np.int64)
