"""The one read of a streamed MI: every column's joint table with the target.

:mod:`featimp._streaming` reads the target column first (its classes or
quantile edges, and the whole column for a permutation null), then reads
the feature columns once. Each batch of each column is counted into a
:class:`ColumnCounts` with each target, in a form that needs nothing known
before the read:

Discrete columns (text, categories, integers; integer-valued floats while
they stay so under ``discrete_features="auto"``)
    Exact counts per value: a table indexed by ``value - low`` while the
    values span at most ``_DENSE_CELLS`` cells, else the sorted distinct
    values and their counts. Past ``max_categories`` distinct values the
    column is hashed into ``max_categories`` buckets: the counts held are
    folded into the buckets by hashing each distinct value (the same
    buckets as hashing every row), and later rows are hashed as they come.
    Text is counted per batch by its dictionary, whose entries are mapped
    to the column's values (or hashed) once per batch.
Continuous columns
    The first ``sample_size`` observed values are kept with their targets:
    a column that has no more than that gets the in-memory quantile edges
    of all its values. Beyond, every value is counted in a fine histogram
    of its distance from an ``offset``, the median of the column's first
    rows: ``d = value - offset`` falls in the cell of its sign, its binary
    exponent among the ``OCTAVES`` octaves from ``e_low`` (the typical
    distance's octave less 64: distances are clipped to the window, whose
    top is 2**63 times its bottom) and the first ``MANTISSA`` bits of its
    mantissa. A cell is at most 2**-8 of ``|d|`` wide (0.4 %), and the
    cells are ordered as the values, 2 * 128 * 256 = 65,536 of them. The
    quantile edges are the cells that hold the ranks ``ceil(k m / n_bins)
    - 1`` of all ``m`` observed values (not of a sample), and every value
    of a cell gets its code: the tables are those of the in-memory MI with
    the cells' lower bounds as edges (:func:`fine_cells` is the rule).

Tables of disjoint rows add up, so parts counted apart merge
(:func:`merge_counts`): tables add, value lists join, a hashed side hashes
the other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Mantissa bits of a fine cell, and octaves of distance a column's cells span.
MANTISSA = 8
OCTAVES = 128
FINE_CELLS = 2 * OCTAVES << MANTISSA
_HALF = OCTAVES << MANTISSA
_ABS = np.int64(np.iinfo(np.int64).max)
#: Most cells (values x targets x classes) of a dense table of values.
_DENSE_CELLS = 1 << 21


def low_octave(distances) -> int:
    """The first octave of a column's cells: its typical distance from the
    offset (the median of the nonzero ``distances``) less 64 octaves."""
    distances = np.abs(np.asarray(distances, dtype=np.float64))
    distances = distances[(distances > 0) & np.isfinite(distances)]
    typical = float(np.median(distances)) if distances.size else 1.0
    exponent = int(np.frexp(typical)[1]) - 1 + 1023  # the biased exponent
    return min(max(exponent - OCTAVES // 2, 0), 2047 - OCTAVES)


def fine_cells(values, offset: float, e_low: int) -> np.ndarray:
    """The fine cell of each (observed, finite) value, as the compiled count
    computes it: the sign of ``d = value - offset``, the octave of ``|d|``
    clipped to ``e_low .. e_low + OCTAVES - 1`` and the top ``MANTISSA``
    bits of its mantissa, in the order of the values."""
    shifted = (np.asarray(values, dtype=np.float64) - offset) + 0.0
    bits = shifted.view(np.int64)
    step = ((bits & _ABS) >> (52 - MANTISSA)) - (e_low << MANTISSA)
    step = np.clip(step, 0, _HALF - 1)
    return np.where(bits < 0, _HALF - 1 - step, _HALF + step).astype(np.intp)


@functools.cache
def _kernels():
    """``(count_fine, count_dense)``, or None without numba."""
    try:
        from featimp._mi_compiled import count_dense, count_fine
    except ImportError:
        return None
    return count_fine, count_dense


def _kernel_targets(targets) -> np.ndarray:
    """Targets as the compiled counts read them: one contiguous column for
    one target (the common case, counted by a lighter loop), else rows."""
    targets = np.asarray(targets)
    if targets.shape[1] == 1:
        return np.ascontiguousarray(targets[:, 0])
    return np.ascontiguousarray(targets)


def bincount_rows(rows, targets, n_target: int, n_rows: int) -> np.ndarray:
    """``(n_rows, n_targets * n_target)`` counts of ``rows`` (one per
    entry, in ``0 .. n_rows - 1``) with each target column."""
    n_targets = targets.shape[1]
    width = n_targets * n_target
    out = np.empty((n_rows, width), dtype=np.int64)
    base = np.asarray(rows, dtype=np.intp) * n_target
    for k in range(n_targets):
        cells = base + targets[:, k]
        out[:, k * n_target : (k + 1) * n_target] = np.bincount(
            cells, minlength=n_rows * n_target
        ).reshape(n_rows, n_target)
    return out


def _hash_buckets(values, cap: int) -> np.ndarray:
    """The bucket of each value: pandas' seeded SipHash modulo ``cap``, as
    the streamed codes hash them (floats as float64, text as str)."""
    return (pd.util.hash_array(values) % np.uint64(cap)).astype(np.intp)


@dataclass
class ColumnCounts:
    """What the one read learns of one feature column.

    ``discrete``: the column may be coded by value (text, categories,
    integers, or floats that may turn out integer-valued); ``continuous``:
    it may be binned by quantiles. A float column under
    ``discrete_features="auto"`` is both until a value that is not an
    integer ends its value counts.
    """

    name: str
    kind: str | None
    n_target: int
    n_targets: int
    discrete: bool
    continuous: bool
    cap: int
    sample_size: int
    offset: float = 0.0
    e_low: int = 0
    n_missing: int = 0
    n_observed: int = 0
    integer: bool = True
    low: float = np.inf
    high: float = -np.inf
    missing: np.ndarray = None
    # Value counts: "dense" (rows value - dense_low), "sparse" (values,
    # counts), "hash" (cap buckets); text keeps its values in ``index``.
    mode: str = "dense"
    dense_low: int = 0
    dense: np.ndarray = None
    values: np.ndarray = None
    counts: np.ndarray = None
    index: dict = field(default_factory=dict)
    # Continuous: the first values and their targets, then the fine cells.
    kept_values: list = field(default_factory=list)
    kept_targets: list = field(default_factory=list)
    kept: int = 0
    fine: np.ndarray = None

    @property
    def width(self) -> int:
        return self.n_targets * self.n_target

    def __post_init__(self):
        if self.missing is None:
            self.missing = np.zeros(self.width, dtype=np.int64)
        if self.kind == "categorical":
            self.mode = "text"
            self.counts = np.zeros((0, self.width), dtype=np.int64)

    # -- reading --------------------------------------------------------

    def add(self, array, targets) -> None:
        """Count one batch (an Arrow array) with ``targets`` ``(n, k)``."""
        if self.kind is None:
            return
        if self.kind == "categorical":
            self._add_text(array, targets)
            return
        values = array.to_numpy(zero_copy_only=False)
        if values.dtype == bool:
            values = values.astype(np.int8)
        elif values.dtype.kind not in "iuf":  # booleans with nulls: objects
            import pyarrow as pa

            values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        floating = values.dtype.kind == "f"
        if self.fine is not None and not self.discrete:
            # Binned, and past the kept values: the compiled count finds the
            # missing values (NaN) itself.
            n_missing = self._count_fine(values, targets)
            self.n_missing += n_missing
            self.n_observed += values.size - n_missing
            return
        if floating:
            missing = np.isnan(values)
            n_missing = int(missing.sum())
        else:
            missing, n_missing = None, 0
        self.n_missing += n_missing
        self.n_observed += values.size - n_missing
        if self.continuous:
            self._add_continuous(values, missing, n_missing, targets)
        elif n_missing:
            self.missing += self._row_counts(targets[missing])
        if self.discrete:
            observed, rows = values, targets
            if n_missing:
                observed, rows = values[~missing], targets[~missing]
            if floating and self.integer:
                self.integer = bool(np.all(observed == np.round(observed)))
            if not self.integer and not self.continuous:
                self._add_values(observed.astype(np.float64), rows)
            elif not self.integer:
                self._drop_values()  # "auto": a float column that is binned
            else:
                self._add_values(observed, rows)
            if observed.size and not self.continuous:
                self.low = min(self.low, float(observed.min()))
                self.high = max(self.high, float(observed.max()))

    def _row_counts(self, targets) -> np.ndarray:
        return bincount_rows(
            np.zeros(len(targets), np.intp), targets, self.n_target, 1
        )[0]

    def _add_continuous(self, values, missing, n_missing, targets) -> None:
        if self.fine is None and self.kept + values.size - n_missing <= (
            self.sample_size
        ):
            observed = values if missing is None else values[~missing]
            if np.isinf(observed).any():
                raise ValueError(f"column {self.name!r} contains infinity")
            if n_missing:
                self.missing += self._row_counts(targets[missing])
            rows = targets if missing is None else targets[~missing]
            self.kept_values.append(np.asarray(observed, dtype=np.float64))
            self.kept_targets.append(np.array(rows, dtype=np.intp))
            self.kept += observed.size
            if observed.size:
                self.low = min(self.low, float(observed.min()))
                self.high = max(self.high, float(observed.max()))
            return
        if self.fine is None:
            self._start_fine()
        self._count_fine(values, targets)

    def _start_fine(self) -> None:
        """From kept values to fine cells (the column has outgrown them)."""
        self.fine = np.zeros((FINE_CELLS, self.width), dtype=np.int64)
        if self.kept:
            values = np.concatenate(self.kept_values)
            targets = np.concatenate(self.kept_targets)
            self._count_fine(values, targets, observed_only=True)
        self.kept_values, self.kept_targets, self.kept = [], [], 0

    def _count_fine(self, values, targets, observed_only=False) -> int:
        """Count into the fine cells; returns how many values were missing."""
        kernels = _kernels()
        if kernels is not None:
            missing = np.zeros(self.width, dtype=np.int64)
            extremes = np.array([self.low, self.high])
            infinite = kernels[0](
                np.ascontiguousarray(values),
                float(self.offset),
                np.int64(self.e_low),
                _kernel_targets(targets),
                self.n_target,
                self.fine.reshape(-1),
                missing,
                extremes,
            )
            self.low, self.high = float(extremes[0]), float(extremes[1])
        else:
            values = np.asarray(values, dtype=np.float64)
            nan = np.isnan(values)
            missing = self._row_counts(targets[nan])
            observed, rows = values[~nan], targets[~nan]
            infinite = int(np.isinf(observed).sum())
            if observed.size:
                self.low = min(self.low, float(observed.min()))
                self.high = max(self.high, float(observed.max()))
            self.fine += bincount_rows(
                fine_cells(observed, self.offset, self.e_low),
                rows,
                self.n_target,
                FINE_CELLS,
            )
        if infinite:
            raise ValueError(f"column {self.name!r} contains infinity")
        if not observed_only:
            self.missing += missing
        return int(missing[: self.n_target].sum())

    def _drop_values(self) -> None:
        self.mode, self.dense, self.values, self.counts = "none", None, None, None
        self.discrete = False

    def _add_values(self, observed, targets) -> None:
        if self.mode == "none" or not observed.size:
            return
        if self.mode == "dense":
            done = self._add_dense(observed, targets)
            if done == observed.size:
                return
            self._to_sparse()
            observed, targets = observed[done:], targets[done:]
        if self.mode == "sparse":
            self._add_sparse(observed, targets)
            if self.values.size > self.cap:
                self._to_hash()
            return
        self.counts += bincount_rows(
            _hash_buckets(np.asarray(observed, dtype=np.float64), self.cap),
            targets,
            self.n_target,
            self.cap,
        )

    def _add_dense(self, observed, targets) -> int:
        """Count into the dense table, grown to the values' range while it
        stays small enough; returns how many values (from the first) were
        counted."""
        if observed.dtype.kind == "f":
            if not self.integer:
                return 0
            observed = observed.astype(np.int64)
        elif observed.dtype == np.uint64:
            if observed.max() > np.iinfo(np.int64).max:
                return 0
            observed = observed.astype(np.int64)
        kernels = _kernels()
        done = 0
        while done < observed.size:
            if kernels is not None and self.dense is not None:
                # Counts until a value falls outside the table (rare).
                stop = kernels[1](
                    np.ascontiguousarray(observed[done:]),
                    np.int64(self.dense_low),
                    np.int64(len(self.dense)),
                    _kernel_targets(targets[done:]),
                    self.n_target,
                    self.dense.reshape(-1),
                )
                if stop < 0:
                    return observed.size
                done += stop
            rest = observed[done:]
            low, high = int(rest.min()), int(rest.max())
            if self.dense is not None:
                low = min(low, self.dense_low)
                high = max(high, self.dense_low + self.dense.shape[0] - 1)
            span = high - low + 1
            if span * self.width > _DENSE_CELLS:
                return done
            if self.dense is None or low != self.dense_low or span > len(self.dense):
                grown = np.zeros((span, self.width), dtype=np.int64)
                if self.dense is not None:
                    start = self.dense_low - low
                    grown[start : start + len(self.dense)] = self.dense
                self.dense, self.dense_low = grown, low
            if kernels is None:
                self.dense += bincount_rows(
                    rest.astype(np.intp) - low, targets[done:], self.n_target, span
                )
                return observed.size
        return observed.size

    def _to_sparse(self) -> None:
        if self.dense is None:
            self.values = np.empty(0)
            self.counts = np.zeros((0, self.width), dtype=np.int64)
        else:
            rows = np.flatnonzero(self.dense.any(axis=1))
            self.values = (rows + self.dense_low).astype(np.float64)
            self.counts = self.dense[rows]
        self.mode, self.dense = "sparse", None

    def _add_sparse(self, observed, targets) -> None:
        distinct, inverse = np.unique(
            np.asarray(observed, dtype=np.float64), return_inverse=True
        )
        batch = bincount_rows(inverse, targets, self.n_target, distinct.size)
        self._join(distinct, batch)

    def _join(self, values, counts) -> None:
        """Add the counts of other sorted distinct ``values``."""
        union = np.union1d(self.values, values)
        joined = np.zeros((union.size, self.width), dtype=np.int64)
        joined[np.searchsorted(union, self.values)] += self.counts
        joined[np.searchsorted(union, values)] += counts
        self.values, self.counts = union, joined

    def _to_hash(self) -> None:
        """Fold the value counts into ``cap`` buckets: the buckets that
        hashing each row would have filled."""
        buckets = np.zeros((self.cap, self.width), dtype=np.int64)
        if self.mode == "text":
            values = np.array(list(self.index), dtype=object)
        elif self.mode == "dense" and self.dense is not None:
            self._to_sparse()
            values = self.values
        else:
            values = self.values
        if values is not None and len(values):
            np.add.at(buckets, _hash_buckets(values, self.cap), self.counts)
        self.mode, self.counts, self.values, self.index = "hash", buckets, None, {}

    def _add_text(self, array, targets) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_dictionary(array.type):
            array = pc.dictionary_encode(array)
        indices = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        entries = pc.cast(array.dictionary, pa.large_string()).to_numpy(
            zero_copy_only=False
        )
        missing = indices < 0
        n_missing = int(missing.sum())
        self.n_missing += n_missing
        self.n_observed += indices.size - n_missing
        if n_missing:
            self.missing += self._row_counts(targets[missing])
            indices, targets = indices[~missing], targets[~missing]
        used = np.flatnonzero(np.bincount(indices, minlength=len(entries)))
        if self.mode == "text":
            index = self.index
            for value in entries[used]:
                index.setdefault(value, len(index))
            if len(index) > self.cap:
                self._grow_text()
                self._to_hash()
        if self.mode == "hash":
            where = np.zeros(len(entries), dtype=np.intp)
            where[used] = _hash_buckets(entries[used], self.cap)
            self.counts += bincount_rows(
                where[indices], targets, self.n_target, self.cap
            )
            return
        where = np.zeros(len(entries), dtype=np.intp)
        where[used] = [self.index[value] for value in entries[used]]
        self._grow_text()
        self.counts += bincount_rows(
            where[indices], targets, self.n_target, len(self.index)
        )

    def _grow_text(self) -> None:
        extra = len(self.index) - len(self.counts)
        if extra > 0:
            self.counts = np.vstack(
                [self.counts, np.zeros((extra, self.width), dtype=np.int64)]
            )

    # -- merging --------------------------------------------------------

    def merge(self, other: ColumnCounts) -> ColumnCounts:
        """These counts and ``other``'s (the same column, other rows)."""
        self.n_missing += other.n_missing
        self.n_observed += other.n_observed
        self.integer = self.integer and other.integer
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        self.missing += other.missing
        if self.continuous:
            self._merge_continuous(other)
        if self.discrete and other.discrete:
            self._merge_values(other)
        elif self.discrete:
            self._drop_values()
        return self

    def _merge_continuous(self, other: ColumnCounts) -> None:
        if (
            self.fine is None
            and other.fine is None
            and self.kept + other.kept <= self.sample_size
        ):
            self.kept_values += other.kept_values
            self.kept_targets += other.kept_targets
            self.kept += other.kept
            return
        if self.fine is None:
            self._start_fine()
        if other.fine is None:
            other._start_fine()
        self.fine += other.fine

    def _merge_values(self, other: ColumnCounts) -> None:
        if not self.integer and self.continuous:
            self._drop_values()  # "auto": a float column that is binned
            return
        if self.mode == "text" and other.mode == "text":
            order = [self.index.setdefault(v, len(self.index)) for v in other.index]
            self._grow_text()
            np.add.at(self.counts, np.array(order, dtype=np.intp), other.counts)
            if len(self.index) > self.cap:
                self._to_hash()
            return
        if other.mode == "hash" and self.mode != "hash":
            self._to_hash()
        if self.mode == "hash":
            if other.mode != "hash":
                other._to_hash()
            self.counts += other.counts
            return
        if self.mode == "dense" and other.mode == "dense":
            if other.dense is None:
                return
            if self.dense is None:
                self.dense, self.dense_low = other.dense, other.dense_low
                return
            low = min(self.dense_low, other.dense_low)
            high = max(
                self.dense_low + len(self.dense), other.dense_low + len(other.dense)
            )
            if (high - low) * self.width <= _DENSE_CELLS:
                grown = np.zeros((high - low, self.width), dtype=np.int64)
                for side in (self, other):
                    start = side.dense_low - low
                    grown[start : start + len(side.dense)] += side.dense
                self.dense, self.dense_low = grown, low
                return
        for side in (self, other):
            if side.mode == "dense":
                side._to_sparse()
        self._join(other.values, other.counts)
        if self.values.size > self.cap:
            self._to_hash()

    # -- results ----------------------------------------------------------

    def distinct(self):
        """``(values, counts)``: the sorted distinct values (text sorted as
        Python sorts str) and their counts, or None when hashed."""
        if self.mode == "text":
            values = list(self.index)
            order = sorted(range(len(values)), key=values.__getitem__)
            return [values[i] for i in order], self.counts[order]
        if self.mode == "hash":
            return None
        if self.mode == "dense":
            if self.dense is None:
                return np.empty(0), np.zeros((0, self.width), dtype=np.int64)
            rows = np.flatnonzero(self.dense.any(axis=1))
            return (rows + self.dense_low).astype(np.float64), self.dense[rows]
        return self.values, self.counts

    def kept_sample(self):
        """``(values, targets)`` of every observed value, when the column
        has no more than ``sample_size`` of them; else None."""
        if self.fine is not None:
            return None
        if not self.kept:
            return np.empty(0), np.empty((0, self.n_targets), dtype=np.intp)
        return np.concatenate(self.kept_values), np.concatenate(self.kept_targets)


def merge_counts(a: list, b: list) -> list:
    """Two parts' counts of the same columns as one."""
    return [x.merge(y) for x, y in zip(a, b, strict=True)]


def cell_edges(fine_margin: np.ndarray, n_bins: int) -> np.ndarray:
    """The cells that hold the ranks ``ceil(k m / n_bins) - 1`` (k = 1 ..
    n_bins - 1) of the ``m`` counted values: the rank rule of
    :func:`featimp._binning.quantile_codes`; a value's code is the number of
    these cells at or below its own."""
    below = np.cumsum(fine_margin)
    m = int(below[-1])
    ranks = (np.arange(1, n_bins) * m + n_bins - 1) // n_bins - 1
    return np.searchsorted(below, ranks, side="right")


def coarse_table(fine: np.ndarray, edges: np.ndarray, n_codes: int) -> np.ndarray:
    """The fine table summed into the codes that ``edges`` give its cells."""
    occupied = np.flatnonzero(fine.any(axis=1))
    codes = np.searchsorted(edges, occupied, side="right")
    table = np.zeros((n_codes, fine.shape[1]), dtype=np.int64)
    np.add.at(table, codes, fine[occupied])
    return table
