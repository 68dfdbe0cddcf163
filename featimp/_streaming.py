"""Ranking a partitioned Parquet or CSV dataset that need not fit in memory.

The binned mutual information of :func:`featimp.mutual_info_importances` is
built from contingency tables, and tables of disjoint parts of a dataset
add up. So the dataset is read twice, in record batches of bounded size:

Pass 1 (what the codes are)
    For every column: whether it has missing values, whether a numeric
    column is integer-valued (``discrete_features="auto"``), the distinct
    values of discrete columns (categories, text, integers) up to
    ``max_categories``, and for continuous columns a seeded bottom-k sample
    of ``sample_size`` observed values (each row gets a pseudo-random key
    from its position and ``random_state``; the rows with the smallest keys
    are kept, a uniform sample without replacement whatever the batch
    size). The target column is read whole (one value per row): the
    permutation null permutes it across the whole dataset.
Pass 2 (counting)
    Continuous columns are cut at the quantiles of their sample (the rank
    rule of :func:`featimp._binning.quantile_codes`), discrete ones coded by
    sorted value; missing values get a code of their own. Each batch's
    joint tables with the target and its permutations are counted by
    :func:`featimp._binning.dense_tables` and added up; the MI and its null
    correction then come from the totals with the in-memory formulas.
Per mRMR pick (``method="mrmr"``)
    The relevance is the MI of pass 2. Each pick reads its column's codes
    alone, then one more pass counts every remaining column against that
    column (and, for MID with the null correction, against its
    permutations, the same ones the target got) and adds the MI to the
    remaining columns' redundancy sums: the greedy loop of
    :func:`featimp._mutual_info.mrmr_order` on streamed counts, so the
    work is rows x columns x picks, never columns squared.

A column with more than ``max_categories`` distinct values is hashed into
``max_categories`` buckets (pandas' seeded SipHash, the same in every
process); the share of its values that share a bucket with another value,
estimated by linear counting from the occupied buckets, is reported in the
result's ``attrs["hashed"]``.

When every continuous column has at most ``sample_size`` observed values
the sample is the column and the edges are the in-memory ones, and no
column is hashed, the result equals :func:`featimp.mutual_info_importances`
(or :func:`featimp.mrmr_importances`) on the concatenated files to the
bit. Files are read in sorted path order, so the order in which they are
given does not change the result.
"""

from __future__ import annotations

import glob
import numbers
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_parameter_constraints

from featimp._binning import (
    _dense_tables_mi,
    _target_codes,
    code_dtype,
    dense_tables,
    expected_plugin_mi,
    null_scores,
    resolve_n_bins,
)
from featimp._mutual_info import (
    _MI_CONSTRAINTS,
    _MRMR_CONSTRAINTS,
    _permutations,
    expected_redundancy,
    greedy_mrmr_order,
    importances_from_order,
)
from featimp._progress import track
from featimp._selection import ranking_from_importances
from featimp._validation import infer_task

METHODS = ("mi", "mrmr")
_DEFAULT_BATCH = 65_536
_READAHEAD = 2
_SAMPLE_SIZE = 100_000
_MAX_CATEGORIES = 10_000
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
    except ImportError as exc:  # pragma: no cover - pyarrow is in the test extra
        raise ImportError(
            "rank_dataset reads Parquet and CSV through pyarrow: "
            "pip install 'featimp-toolkit[parquet]'"
        ) from exc
    return pa, pc, ds


@dataclass
class _Part:
    """One file of the dataset, opened as a pyarrow dataset of its own."""

    path: str
    dataset: object


def _paths(source) -> list[str]:
    sources = [source] if isinstance(source, str | os.PathLike) else list(source)
    paths = []
    for item in sources:
        item = os.fspath(item)
        if os.path.isdir(item):
            found = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(item)
                for name in names
                if name.endswith((".parquet", ".pq", ".csv"))
            )
        elif glob.has_magic(item):
            found = sorted(glob.glob(item))
        else:
            found = [item]
        if not found:
            raise FileNotFoundError(f"no files match {item!r}")
        paths.extend(found)
    return sorted(set(paths))


def _open_parts(source) -> list[_Part]:
    """The files of ``source`` in sorted path order, each opened."""
    pa, _, ds = _arrow()
    if isinstance(source, ds.Dataset):
        fragments = sorted(source.get_fragments(), key=lambda f: f.path)
        return [
            _Part(f.path, ds.dataset(f.path, format=f.format, filesystem=f.filesystem))
            for f in fragments
        ]
    parts = []
    for path in _paths(source):
        fmt = "csv" if path.endswith(".csv") else "parquet"
        try:
            parts.append(_Part(path, ds.dataset(path, format=fmt)))
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"cannot read {path!r}: {exc}") from exc
    if not parts:
        raise ValueError("the dataset has no files")
    return parts


def _sizes(parts) -> list[float]:
    """Each file's share of the reading: its size on disk (1 each when a
    size is unknown, e.g. behind a URL)."""
    sizes = []
    for part in parts:
        try:
            sizes.append(float(os.path.getsize(part.path)) or 1.0)
        except OSError:
            sizes.append(1.0)
    return sizes


def _check_schemas(parts, target: str):
    """The common schema; an error naming the first file that differs."""
    first = parts[0].dataset.schema
    for part in parts:
        schema = part.dataset.schema
        if target not in schema.names:
            raise ValueError(f"target column {target!r} is missing in {part.path!r}")
        if not schema.equals(first):
            raise ValueError(
                f"{part.path!r} has a different schema from {parts[0].path!r}: "
                f"{_schema_difference(first, schema)}"
            )
    return first


def _schema_difference(a, b) -> str:
    only_a = [n for n in a.names if n not in b.names]
    only_b = [n for n in b.names if n not in a.names]
    if only_a or only_b:
        return f"columns only in the first: {only_a}, only in this one: {only_b}"
    changed = [
        f"{n} ({a.field(n).type} vs {b.field(n).type})"
        for n in a.names
        if a.field(n).type != b.field(n).type
    ]
    return f"types differ: {', '.join(changed)}" if changed else "column order differs"


def _batches(part, columns, batch_size: int):
    """Record batches of one file; a read error names the file.

    Parquet is read page by page through a 1 MiB buffer, a row group at a
    time (memory is set by the batch and the file's row groups, never by
    the dataset's rows); CSV block by block."""
    pa, _, _ = _arrow()
    try:
        if part.path.endswith(".csv"):
            yield from part.dataset.to_batches(
                columns=columns, batch_size=batch_size, batch_readahead=_READAHEAD
            )
        else:
            import pyarrow.parquet as pq

            with pq.ParquetFile(
                part.path,
                buffer_size=1 << 20,
                pre_buffer=False,
                filesystem=part.dataset.filesystem,
            ) as file:
                yield from file.iter_batches(batch_size=batch_size, columns=columns)
        pa.default_memory_pool().release_unused()
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"cannot read {part.path!r}: {exc}") from exc


def _kind(arrow_type) -> str | None:
    pa, _, _ = _arrow()
    t = pa.types
    if (
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_boolean(arrow_type)
    ):
        return "numeric"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "categorical"
    if t.is_dictionary(arrow_type):
        return "categorical"
    return None  # dates, durations, nested types: unusable, score 0


def _floats(array) -> np.ndarray:
    pa, pc, _ = _arrow()
    values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=float)


def _texts(array):
    pa, pc, _ = _arrow()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.cast(array, pa.large_string())


def _row_keys(start: int, n: int, seed: int) -> np.ndarray:
    """splitmix64 of the rows' positions: pseudo-random, seeded, and the same
    whatever the batches."""
    z = np.arange(start, start + n, dtype=np.uint64)
    # Arrays wrap around silently, as the hash wants; NumPy scalars would warn.
    z += np.full(1, seed % 2**64, dtype=np.uint64) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass
class _Column:
    """What pass 1 learns about one feature column."""

    name: str
    kind: str | None
    n_missing: int = 0
    n_observed: int = 0
    integer: bool = True
    values: set = field(default_factory=set)
    overflow: bool = False
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    sample: np.ndarray = field(default_factory=lambda: np.empty(0))
    low: float = np.inf
    high: float = -np.inf
    #: Whether its quantile edges may be needed: not for a column that is
    #: discrete whatever its values (integers with "auto", or every column
    #: with discrete_features=True).
    sampled: bool = True

    def add_values(self, distinct, cap: int) -> None:
        if not self.overflow:
            self.values.update(distinct)
            self.overflow = len(self.values) > cap
            if self.overflow:
                self.values = set()

    def add_sample(self, keys, values, size: int) -> None:
        keys = np.concatenate([self.keys, keys])
        values = np.concatenate([self.sample, values])
        if keys.size > size:
            keep = np.argpartition(keys, size - 1)[:size]
            keys, values = keys[keep], values[keep]
        self.keys, self.sample = keys, values


def _observe(column: _Column, array, start: int, settings) -> None:
    """Pass 1 on one batch of one column."""
    _, pc, _ = _arrow()
    n_missing = array.null_count
    if column.kind == "categorical":
        texts = _texts(array)
        column.add_values(pc.unique(texts.drop_null()).to_pylist(), settings.cap)
        column.n_missing += n_missing
        column.n_observed += len(array) - n_missing
        return
    values = _floats(array)
    missing = np.isnan(values)
    observed = values[~missing]
    if np.isinf(observed).any():
        raise ValueError(f"column {column.name!r} contains infinity")
    column.n_missing += int(missing.sum())
    column.n_observed += observed.size
    if observed.size:
        column.low = min(column.low, float(observed.min()))
        column.high = max(column.high, float(observed.max()))
    if column.integer and not np.all(observed == np.round(observed)):
        column.integer = False
    if not column.overflow:
        column.add_values(np.unique(observed).tolist(), settings.cap)
    if column.sampled:
        keys = _row_keys(start, values.size, settings.seed)[~missing]
        column.add_sample(keys, observed, settings.sample_size)


@dataclass
class _Settings:
    batch_size: int
    sample_size: int
    cap: int
    seed: int
    discrete: object


@dataclass
class _Coder:
    """How pass 2 turns one column's values into codes ``0 .. card - 1``."""

    name: str
    how: str  # "categories", "values", "offsets", "edges", "hash"
    lookup: object
    card: int
    has_missing: bool


def _coder(column: _Column, n_bins: int, settings) -> _Coder | None:
    """The coder of a usable, non-constant column, or None (it scores 0)."""
    if column.kind is None or column.n_observed == 0:
        return None
    has_missing = column.n_missing > 0
    extra = int(has_missing)
    if column.kind == "numeric" and column.low == column.high and not has_missing:
        return None
    discrete = column.kind == "categorical" or (
        column.integer if settings.discrete == "auto" else bool(settings.discrete)
    )
    if discrete and column.overflow:
        return _Coder(column.name, "hash", None, settings.cap + extra, has_missing)
    if discrete and column.kind == "categorical":
        categories = sorted(column.values)
        if len(categories) == 1 and not has_missing:
            return None
        return _Coder(
            column.name, "categories", categories, len(categories) + extra, has_missing
        )
    if discrete:
        values = np.array(sorted(column.values))
        lookup = _dense_lookup(values)
        how = "values" if lookup is None else "offsets"
        return _Coder(
            column.name, how, values if lookup is None else lookup,
            values.size + extra, has_missing,
        )  # fmt: skip
    return _edges_coder(column, n_bins, has_missing)


def _edges_coder(column: _Column, n_bins: int, has_missing: bool) -> _Coder:
    """Quantile bins from the column's sample, with the ranks of
    :func:`featimp._binning.quantile_codes`: ceil(k m / n_bins) - 1."""
    sample = np.sort(column.sample)
    m = sample.size
    ranks = (np.arange(1, n_bins) * m + n_bins - 1) // n_bins - 1
    extra = int(has_missing)
    return _Coder(column.name, "edges", sample[ranks], n_bins + extra, has_missing)


def _dense_lookup(values: np.ndarray):
    """``(low, table)`` with ``table[v - low]`` the code of integer value
    ``v``, when the values' span is small enough for a table (a lookup per
    value instead of a binary search), else None."""
    if not values.size or not np.all(values == np.round(values)):
        return None
    low, span = values[0], values[-1] - values[0]
    if span > max(4 * values.size, 1 << 16):
        return None
    table = np.full(int(span) + 1, -1, dtype=np.intp)
    table[(values - low).astype(np.intp)] = np.arange(values.size)
    return low, table


def _codes(coder: _Coder, array) -> np.ndarray:
    """Codes of one batch of one column; missing values get the last code."""
    pa, pc, _ = _arrow()
    missing_code = coder.card - 1
    if coder.how == "categories":
        index = pc.index_in(_texts(array), value_set=pa.array(coder.lookup))
        return index.fill_null(missing_code).to_numpy().astype(np.intp)
    if coder.how == "hash":
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False))
        if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
            values = _floats(array)
        else:
            values = _texts(array).to_numpy(zero_copy_only=False)
        codes = pd.util.hash_array(values) % np.uint64(
            coder.card - int(coder.has_missing)
        )
        codes = codes.astype(np.intp)
        codes[missing] = missing_code
        return codes
    values = _floats(array)
    missing = np.isnan(values)
    if coder.how == "offsets":  # every value was seen in pass 1
        low, table = coder.lookup
        codes = np.full(values.size, missing_code, dtype=np.intp)
        codes[~missing] = table[(values[~missing] - low).astype(np.intp)]
        return codes
    side = "left" if coder.how == "values" else "right"
    codes = np.searchsorted(coder.lookup, values, side=side).astype(np.intp)
    codes[missing] = missing_code
    return codes


def _first_pass(parts, features, target, settings, keep_target=True):
    """Pass 1 over every file. Returns the feature observations, the target
    observed like a column (its values, a sample), the target's values
    whole when ``keep_target`` (the permutation null permutes them), else
    None, the rows per file and their total."""
    schema = parts[0].dataset.schema
    columns = {
        name: _Column(name, kind, sampled=_sampled(schema.field(name).type, settings))
        for name, kind in features.items()
    }
    observed = _Column(target, _kind(schema.field(target).type))
    target_values, rows, n = [], [], 0
    for part in track(parts, "pass 1: samples and values", weights=_sizes(parts)):
        rows.append(n)
        for batch in _batches(part, [*features, target], settings.batch_size):
            y = batch.column(target)
            if y.null_count:
                raise ValueError(
                    f"target {target!r} has missing values in {part.path!r}"
                )
            if keep_target:
                target_values.append(y.to_numpy(zero_copy_only=False))
            if observed.kind is not None:
                _observe(observed, y, n, settings)
            for name, column in columns.items():
                if column.kind is not None:
                    _observe(column, batch.column(name), n, settings)
            n += batch.num_rows
    if n < 2:
        raise ValueError(f"the dataset has {n} row(s); at least 2 are required")
    rows = np.diff([*rows, n])
    y = np.concatenate(target_values) if keep_target else None
    return columns, observed, y, rows, n


def _sampled(arrow_type, settings) -> bool:
    """Whether a column of this type can turn out continuous (and so needs
    a sample for its quantile edges)."""
    pa, _, _ = _arrow()
    if settings.discrete is True:
        return False
    integral = pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type)
    return not (settings.discrete == "auto" and integral)


def _stream_task(observed: _Column, arrow_type, n: int, settings) -> str:
    """:func:`featimp._validation.infer_task`'s ``"auto"`` rule from what
    pass 1 saw of the target, without its values: text, booleans and
    integers are classes; floats are classes when integer-valued with at
    most ``max(20, sqrt(n))`` distinct values (more than ``max_categories``
    distinct values count as regression)."""
    pa, _, _ = _arrow()
    if observed.kind is None:
        raise ValueError(f"target {observed.name!r} has type {arrow_type}: unusable")
    if observed.kind == "categorical" or not pa.types.is_floating(arrow_type):
        return "classification"
    few = not observed.overflow and len(observed.values) <= max(20, int(np.sqrt(n)))
    return "classification" if observed.integer and few else "regression"


def _target_coder(observed: _Column, task: str, n_bins: int, settings) -> _Coder:
    """How each batch's target becomes its codes, as the in-memory target
    codes are made: classes in sorted order, or quantile bins."""
    if task == "classification":
        if observed.overflow:
            raise ValueError(
                f"target {observed.name!r} has more than max_categories="
                f"{settings.cap} classes"
            )
        classes = sorted(observed.values)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); feature importance "
                "needs at least 2 classes"
            )
        how = "categories" if observed.kind == "categorical" else "values"
        lookup = classes if how == "categories" else np.array(classes)
        return _Coder(observed.name, how, lookup, len(classes), False)
    if observed.kind == "categorical":
        raise ValueError(f"target {observed.name!r} is text: it cannot be regressed")
    return _edges_coder(observed, n_bins, False)


def _count_part(part, coders, targets, n_target: int, batch_size: int):
    """Joint tables of every coded column of one file with each target,
    summed over its batches. ``targets`` holds this file's rows of each
    target, or is a :class:`_Coder` that codes the one target from each
    batch's own column (nothing kept per row)."""
    cards = np.array([c.card for c in coders], dtype=np.intp)
    from_batch = isinstance(targets, _Coder)
    n_targets = 1 if from_batch else len(targets)
    totals = np.zeros((n_targets, int(cards.sum()) * n_target), dtype=np.int64)
    names = [c.name for c in coders]
    read = [*names, targets.name] if from_batch and targets.name not in names else names
    dtype = code_dtype(int(cards.max(initial=1)))
    start = 0
    for batch in _batches(part, read, batch_size):
        stop = start + batch.num_rows
        codes = np.empty((len(coders), batch.num_rows), dtype=dtype)
        for j, coder in enumerate(coders):
            codes[j] = _codes(coder, batch.column(coder.name))
        if from_batch:
            batch_targets = [_codes(targets, batch.column(targets.name))]
        else:
            batch_targets = [t[start:stop] for t in targets]
        totals += dense_tables(codes, cards, batch_targets, n_target)
        start = stop
    if not from_batch and start != targets[0].size:
        raise ValueError(f"{part.path!r} changed while it was read")
    return totals


def _second_pass(parts, rows, coders, targets, n_target, settings, client):
    """Joint tables of every coded column with each target, summed over the
    files: here, or one task per file on a Dask client with the sums
    tree-reduced. Counts are integers, so the order of the sums does not
    change them."""
    bounds = np.concatenate([[0], np.cumsum(rows)])
    jobs = [
        (
            part,
            coders,
            targets if isinstance(targets, _Coder) else [t[a:b] for t in targets],
            n_target,
            settings.batch_size,
        )
        for part, a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)
    ]
    cards = np.array([c.card for c in coders], dtype=np.intp)
    if client is None:
        counted = track(jobs, "counting", weights=[float(r) for r in rows])
        return sum(_count_part(*job) for job in counted), cards
    futures = [client.submit(_count_part, *job, pure=False) for job in jobs]
    while len(futures) > 1:
        pairs = zip(futures[0::2], futures[1::2], strict=False)
        reduced = [client.submit(np.add, a, b, pure=False) for a, b in pairs]
        futures = reduced + futures[len(reduced) * 2 :]
    return futures[0].result(), cards


def _collision_rate(n_x_occupied: int, n_buckets: int, at_least: int) -> float:
    """Share of a hashed column's values that share their bucket: distinct
    values estimated by linear counting, at least ``at_least``."""
    if n_x_occupied >= n_buckets:
        return 1.0 - n_buckets / max(at_least, n_buckets)
    estimate = -n_buckets * np.log1p(-n_x_occupied / n_buckets)
    return float(max(0.0, 1.0 - n_x_occupied / max(estimate, at_least)))


def _hash_report(coders, totals, cards, n_target, settings) -> dict:
    first = np.cumsum(cards) - cards
    n_x = totals[0].reshape(-1, n_target).sum(axis=1)
    report = {}
    for j, coder in enumerate(coders):
        if coder.how == "hash":
            occupied = int(np.count_nonzero(n_x[first[j] : first[j] + settings.cap]))
            report[coder.name] = _collision_rate(
                occupied, settings.cap, settings.cap + 1
            )
    return report


def _tables_mi(parts, rows, coders, targets, n_target, settings, client):
    """Plug-in MI (one row per target) of ``coders``' columns with each of
    ``targets`` (whole-dataset codes), from tables counted file by file."""
    totals, cards = _second_pass(
        parts, rows, coders, targets, n_target, settings, client
    )
    if isinstance(targets, _Coder):  # every table holds the target's margin
        first = totals[0].reshape(-1, n_target)[: cards[0]].sum(axis=0)
        n_ts = [first]
    else:
        n_ts = [np.bincount(t, minlength=n_target) for t in targets]
    return _dense_tables_mi(totals, cards, n_ts, int(rows.sum())), totals, cards


@dataclass
class _Relevance:
    """What the first two passes give: per feature its coder (None: scores
    0) and score, and what later passes over the same rows need."""

    coders: list
    scores: np.ndarray
    hashed: dict
    rows: np.ndarray
    permutations: list
    task: str
    margins: list


def _relevance(parts, features, target, params, settings, client, keep=False):
    """Pass 1 and the counting pass: the MI of every feature with the target,
    null-corrected as ``params`` say. ``keep`` keeps the permutations (in the
    smallest integer type holding a row number) for passes to come.

    Without permutations (``null_correction`` False or ``"expected"``) no
    state grows with the rows: each batch's target is coded from the batch.
    The permutation null holds one small code per row and target."""
    null_correction = params.get("null_correction", True)
    bounded = null_correction in (False, "expected")
    columns, observed, y, rows, n = _first_pass(
        parts, features, target, settings, keep_target=not bounded
    )
    n_bins = resolve_n_bins(params.get("n_bins", "auto"), n)
    kept = []
    if bounded:
        task = params.get("task", "auto")
        if task == "auto":
            arrow_type = parts[0].dataset.schema.field(target).type
            task = _stream_task(observed, arrow_type, n, settings)
        targets = _target_coder(observed, task, n_bins, settings)
        n_target = targets.card
    else:
        task = infer_task(y, params.get("task", "auto"))
        target_codes, n_target = _target_codes(y, task, n_bins)
        perms = _permutations(
            n,
            null_correction,
            params.get("n_permutations", "auto"),
            params.get("random_state"),
        )
        small = code_dtype(n_target)
        targets = [
            target_codes.astype(small),
            *(target_codes[p].astype(small) for p in perms),
        ]
        kept = [p.astype(code_dtype(n)) for p in perms] if keep else []
        del perms, target_codes, y
    coders = [_coder(columns[name], n_bins, settings) for name in features]
    used = [c for c in coders if c is not None]
    scores = np.zeros(len(features))
    if not used:
        return _Relevance(coders, scores, {}, rows, kept, task, [])
    mi, totals, cards = _tables_mi(
        parts, rows, used, targets, n_target, settings, client
    )
    positions = [i for i, c in enumerate(coders) if c is not None]
    # Each column's code counts: the margins of the exact permutation mean.
    n_x = totals[0].reshape(-1, n_target).sum(axis=1)
    if null_correction == "expected":
        n_t = totals[0].reshape(-1, n_target)[: cards[0]].sum(axis=0)
        mi = np.vstack([mi[0], expected_plugin_mi(n_x, cards, n_t, n)])
    scores[positions] = null_scores(mi, zscore=null_correction == "zscore")
    hashed = _hash_report(used, totals, cards, n_target, settings)
    margins = np.split(n_x, np.cumsum(cards)[:-1])
    return _Relevance(coders, scores, hashed, rows, kept, task, margins)


def _mi_scores(parts, features, target, params, settings, client=None):
    return _relevance(parts, features, target, params, settings, client)


def _column_codes(parts, coder, settings) -> np.ndarray:
    """The codes of one column over the whole dataset, one small int a row."""
    dtype = code_dtype(coder.card)
    return np.concatenate(
        [
            _codes(coder, batch.column(coder.name)).astype(dtype)
            for part in parts
            for batch in _batches(part, [coder.name], settings.batch_size)
        ]
    )


def _mrmr_scores(parts, features, target, params, settings, client=None):
    """mRMR as :func:`featimp.mrmr_importances`: relevance from the counting
    pass, then per pick one read of the picked column and one pass counting
    every remaining column against it (and its permutations, for MID)."""
    n_features = params.get("n_features")
    if n_features is not None and n_features > len(features):
        raise ValueError(
            f"n_features={n_features} is larger than the {len(features)} "
            "features of the dataset"
        )
    relevance = _relevance(parts, features, target, params, settings, client, keep=True)
    positions = np.array(
        [i for i, c in enumerate(relevance.coders) if c is not None], dtype=np.intp
    )
    used = [relevance.coders[i] for i in positions]
    perms = relevance.permutations

    expected = params.get("null_correction", True) == "expected"

    bounded = params.get("null_correction", True) in (False, "expected")

    def redundancy_mi(best, remaining, null):
        if bounded or not null:  # the picked column coded from each batch
            targets = used[best]
        else:
            picked = _column_codes(parts, used[best], settings)
            targets = [picked, *(picked[p] for p in perms)]
        coders = [used[j] for j in remaining]
        mi = _tables_mi(
            parts, relevance.rows, coders, targets, used[best].card, settings, client
        )[0]
        if null and expected:
            null_mean = expected_redundancy(relevance.margins, best, remaining)
            return np.vstack([mi, null_mean])
        return mi

    depth = min(n_features or len(features), positions.size)
    order = greedy_mrmr_order(
        relevance.scores[positions],
        depth,
        params.get("criterion", "mid"),
        redundancy_mi,
    )
    relevance.scores = importances_from_order(positions[order], len(features))
    return relevance


_MI_PARAMS = {"task", "n_bins", "null_correction", "n_permutations", "random_state"}
_STREAM_PARAMS = {"discrete_features", "sample_size", "max_categories"}
# Per method: its scores, and the in-memory parameters it streams, checked
# against the in-memory function's own constraints.
_METHODS = {
    "mi": (_mi_scores, _MI_CONSTRAINTS, _MI_PARAMS),
    "mrmr": (_mrmr_scores, _MRMR_CONSTRAINTS, _MI_PARAMS | {"n_features", "criterion"}),
}


def _check_params(method: str, params: dict) -> None:
    _, constraints, names = _METHODS[method]
    unknown = set(params) - names - _STREAM_PARAMS
    if unknown:
        raise TypeError(f"rank_dataset got unexpected parameters {sorted(unknown)}")
    if method == "mrmr" and params.get("null_correction") == "zscore":
        raise ValueError(
            "null_correction='zscore' is not available for method='mrmr' "
            "(nor in memory, in mrmr_importances): use True or False"
        )
    given = {k: v for k, v in params.items() if k in names}
    validate_parameter_constraints(
        {k: constraints[k] for k in given}, given, caller_name="rank_dataset"
    )


def rank_dataset(
    source, target, *, method="mi", client=None, batch_size=None, **params
) -> pd.DataFrame:
    """Rank the features of a dataset read in batches, never whole.

    Parameters
    ----------
    source : str, path, list of them, or pyarrow.dataset.Dataset
        Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) files: paths,
        globs (``"events/*.parquet"``) or directories, or a dataset. Every
        file must have the same schema and hold ``target``. Files are read
        in sorted path order.
    target : str
        The target column.
    method : {"mi", "mrmr"}, default="mi"
        ``"mi"``: the binned MI of :func:`featimp.mutual_info_importances`
        (``estimator="binned"``), with its null correction. ``"mrmr"``: the
        greedy order of :func:`featimp.mrmr_importances` and its scores
        ``(d - position) / d``; after the counting pass, each pick reads the
        picked column alone (its codes, one small integer a row, are held
        with the target's) and makes one more pass that counts every
        remaining column against it, and for ``criterion="mid"`` with the
        null correction against its permutations too (kept in memory, 4
        bytes a row each): time grows as rows x columns x picks, never
        columns squared.
    client : distributed.Client or None, default=None
        With a client, the counting passes (and mRMR's per-pick passes) run
        as one task per file on its workers (which must reach the files by
        the same path or URL) and their tables are summed pairwise, as a
        tree: the result equals the single-process one to the bit. The
        first pass (samples, values, the target) and the read of each
        picked column run in this process.
    batch_size : int or None, default=None
        Rows per record batch (None: 65,536); memory grows with it, the
        result does not depend on it. With ``null_correction=False`` or
        ``"expected"`` nothing else grows with the rows: each batch's target
        is coded from the batch (classes or quantile edges found in the
        first pass, the in-memory ones when the sample holds every value),
        and the null is the exact permutation mean of the tables' margins.
        The permutation null (``True``, ``"zscore"``) holds one small code
        per row and target, and mRMR's MID its permutations.
    **params
        ``task``, ``n_bins``, ``null_correction``, ``n_permutations``,
        ``random_state`` as in :func:`featimp.mutual_info_importances`, and
        for ``"mrmr"`` ``n_features`` (picks; None: all) and ``criterion``
        (``"mid"``, ``"miq"``) as in :func:`featimp.mrmr_importances`, whose
        ``null_correction`` is a bool or ``"expected"`` (``"zscore"`` is a
        ValueError, as it is
        not an mRMR option in memory either); ``discrete_features``
        ``"auto"`` or a bool; ``sample_size`` (100,000): observed values per
        continuous column from which its quantile edges are taken;
        ``max_categories`` (10,000): distinct values beyond which a discrete
        column is hashed into that many buckets.

    Returns
    -------
    DataFrame
        Columns ``feature``, ``importance``, ``rank`` (1 = most important,
        ties in column order), sorted by rank. ``attrs["hashed"]`` maps each
        hashed column to its estimated collision rate,
        ``attrs["n_samples"]`` is the number of rows, ``attrs["n_files"]``
        of files and ``attrs["task"]`` the task ranked for.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from featimp import rank_dataset
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> signal = y + rng.normal(0, 0.5, 400)
    >>> frame = pd.DataFrame({"noise": rng.normal(size=400), "signal": signal, "y": y})
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(2):
    ...     frame[i * 200 : (i + 1) * 200].to_parquet(f"{folder}/part{i}.parquet")
    >>> rank_dataset(f"{folder}/*.parquet", "y", random_state=0)["feature"].tolist()
    ['signal', 'noise']
    >>> mrmr = rank_dataset(folder, "y", method="mrmr", n_features=1, random_state=0)
    >>> mrmr[["feature", "importance"]].to_numpy().tolist()
    [['signal', 1.0], ['noise', 0.0]]
    """
    if method not in METHODS:
        raise ValueError(f"rank_dataset supports method in {METHODS}, got {method!r}")
    _check_params(method, params)
    discrete = params.get("discrete_features", "auto")
    if not (discrete == "auto" or isinstance(discrete, bool)):
        raise ValueError("discrete_features must be 'auto' or a bool when streaming")
    seed = params.get("random_state")
    settings = _Settings(
        batch_size=int(batch_size or _DEFAULT_BATCH),
        sample_size=int(params.get("sample_size", _SAMPLE_SIZE)),
        cap=int(params.get("max_categories", _MAX_CATEGORIES)),
        seed=int(seed) if isinstance(seed, numbers.Integral) else 0,
        discrete=discrete,
    )
    parts = _open_parts(source)
    schema = _check_schemas(parts, target)
    features = {f.name: _kind(f.type) for f in schema if f.name != target}
    if not features:
        raise ValueError("the dataset has no feature columns besides the target")
    score = _METHODS[method][0]
    found = score(parts, features, target, params, settings, client)
    scores = found.scores
    table = pd.DataFrame(
        {
            "feature": list(features),
            "importance": scores,
            "rank": ranking_from_importances(scores),
        }
    )
    table = table.sort_values("rank").reset_index(drop=True)
    table.attrs["hashed"] = found.hashed
    table.attrs["n_samples"] = int(found.rows.sum())
    table.attrs["n_files"] = len(parts)
    table.attrs["task"] = found.task
    return table
