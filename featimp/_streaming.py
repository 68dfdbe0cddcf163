"""Ranking a partitioned dataset that need not fit in memory.

A dataset is Parquet or CSV files, or a dask DataFrame (each partition a
part), read part by part in record batches of bounded size.

Which methods stream
    ``"mi"``, ``"mrmr"``, ``"ecfs"`` and ``"inffs"``: what they need of the
    rows are counts, sums and moments, which disjoint parts give separately
    and which add (or merge) up. The others do not: ``"kan"``, ``"shap"``,
    ``"permutation"``, ``"gain"``, ``"lasso"``, ``"svm_rfe"`` and
    ``"responsiveness"`` fit a model on all rows jointly (an optimisation,
    not a sum over rows), ``"consensus"`` and ``"significance"`` run such
    methods, the KSG estimator of MI (``estimator="knn"``) needs each row's
    nearest neighbours among all rows, and the Spearman-based modes of EC-FS
    and Inf-FS (a regression target, or no target) need the ranks of all
    rows (global ranks; the unsupervised graph also the whole d x d matrix).
    Those modes are a ValueError that names the parameter.

MI and mRMR
-----------
The binned mutual information of :func:`featimp.mutual_info_importances` is
built from contingency tables, and tables of disjoint parts of a dataset
add up. The feature columns are read once:

The target (its column alone)
    Its classes, or for a regression target a seeded bottom-k sample of
    ``sample_size`` values for its quantile edges (each row gets a
    pseudo-random key from its position, its part and its row in it, and
    ``random_state``; the rows with the smallest keys are kept, a uniform
    sample whatever the batch size), and the row count. With the
    permutation null the column is kept whole (one value per row): the null
    permutes it across the whole dataset.
The read (every feature column, once)
    Each batch of each column is counted with the target (and its
    permutations) by :class:`featimp._stream_counts.ColumnCounts`, in a form
    that needs nothing known beforehand: discrete columns (text,
    categories, integers, integer-valued floats under
    ``discrete_features="auto"``) by value, hashed past ``max_categories``
    values; continuous columns keep their first ``sample_size`` values and
    beyond that count every value in a fine histogram of 65,536 cells
    (cells 0.4 % of the distance from the median of the column's first
    rows wide). At the end, a column with at most ``sample_size`` observed
    values is cut at the quantiles of all of them (the rank rule of
    :func:`featimp._binning.quantile_codes`, the in-memory edges); a larger
    one at the cells that hold those ranks of all its values, its codes
    following from the cells; discrete ones are coded by sorted value.
    Missing values get a code of their own. The MI and its null correction
    then come from the tables with the in-memory formulas.
Per mRMR pick (``method="mrmr"``)
    The relevance is the MI of the read. Each pick reads its column's codes
    alone, then one more pass counts every remaining column against that
    column (and, for MID with the null correction, against its
    permutations, the same ones the target got) and adds the MI to the
    remaining columns' redundancy sums: the greedy loop of
    :func:`featimp._mutual_info.mrmr_order` on streamed counts, so the
    work is rows x columns x picks, never columns squared.

The reading is done by a thread of its own (one Arrow decoding thread,
a few batches ahead of the counting, which runs the columns on numba's
threads).

A column with more than ``max_categories`` distinct values is hashed into
``max_categories`` buckets (pandas' seeded SipHash, the same in every
process); the share of its values that share a bucket with another value,
estimated by linear counting from the occupied buckets, is reported in the
result's ``attrs["hashed"]``.

When every continuous column has at most ``sample_size`` observed values
(the edges are then the in-memory ones) and no column is hashed, the result
equals :func:`featimp.mutual_info_importances` (or
:func:`featimp.mrmr_importances`) on the concatenated files to the bit.
Beyond, the edges are those of the cells: within a cell of the in-memory
quantile (0.4 % of the distance from the offset), from all the values
rather than a sample.

EC-FS and Inf-FS
----------------
:func:`featimp.eigenvector_centrality_importances` and
:func:`featimp.inffs_importances` with a class target build their graph
from per-node statistics: per class, the size, mean, variance, minimum and
maximum (Fisher score, zero-variance rule), the equal-width (bin, class)
counts (symmetric uncertainty), and the standard deviation over all rows.
The nodes are those of the in-memory one-hot encoding
(:mod:`featimp._encoding`): one per category of a text or categorical
column (and one for missing), a numeric column with missing values imputed
with its median and given a missing-indicator node, a column that cannot
be used a node of zeros (it scores 0, with the in-memory warning).

Pass 1
    As above without samples: every column's missing and observed counts,
    minimum and maximum (the equal-width bin edges need them), and
    distinct values up to ``max_categories`` (the categories; more is a
    ValueError, each being a node); the target's classes.
The medians (only if a numeric column has missing values)
    ``np.median`` of each such column's observed values, to the bit: one
    counting pass over its distinct values when pass 1 kept them all, else
    passes that fix 12 more leading bits of the sought value's sort key
    each until at most 65,536 values share them, which one more pass
    collects (at most six passes, each holding a histogram of 4,096 counts
    per column and middle value).
The statistics pass
    Per batch and class, two-pass moments (count, mean, sum of squared
    deviations, minimum, maximum) of the observed numeric values, merged
    batch by batch and part by part by Chan, Golub and LeVeque's pairwise
    update; missing counts; (bin, class) counts of the observed values; and
    (category, class) counts. Then each node's statistics follow: imputed
    entries join as a block of medians, 0/1 nodes come from their counts.
    The Fisher score, symmetric uncertainty, spread, graph and centrality
    are the in-memory functions of :mod:`featimp._affinity` and
    :mod:`featimp._centrality` on these statistics.

To the bit equal to the in-memory code are the counts, minima, maxima and
medians, so the (bin, class) tables and every constant-column and
zero-variance decision; equal to rounding are the means and squared
deviations (merged in another order than NumPy's sums, or numba's), so the
scores: measured at most 2e-15 relative for EC-FS and 1e-12 for Inf-FS
(whose conjugate gradients stop at a relative residual of 1e-12). The
moments depend on where the batches end, so ``batch_size`` changes the
result by rounding (measured below 5e-15 relative).

Parts and Dask
--------------
Files are read in sorted path order and a dask frame's partitions in their
order, so the order in which files are given does not change the result.
With a Dask client every pass but the first runs as one task per part, and
the results merge in the same pairwise tree as without one
(:func:`_pairwise`), so the result is the same to the bit.
"""

from __future__ import annotations

import functools
import glob
import inspect
import itertools
import numbers
import os
import re
import uuid
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_parameter_constraints

from featimp._affinity import (
    _joint_counts,
    _n_bins,
    _resolve_mode,
    combined_relevance,
    equal_width_bins,
    fisher_from_moments,
    resolve_standardize,
    spread_from_moments,
    supervised_affinity,
    uncertainty_from_tables,
)
from featimp._binning import (
    _dense_tables_mi,
    _target_codes,
    code_dtype,
    dense_tables,
    expected_plugin_mi,
    null_scores,
    resolve_n_bins,
)
from featimp._centrality import (
    EigenvectorCentralitySelector,
    InfFSSelector,
    eigenvector_centrality_importances,
    inffs_importances,
    leading_eigenpair,
    path_scores,
)
from featimp._encoding import (
    MISSING,
    Column,
    EncodedTable,
    _warn_unusable,
    format_names,
)
from featimp._mutual_info import (
    _MI_CONSTRAINTS,
    _MRMR_CONSTRAINTS,
    _permutations,
    expected_redundancy,
    greedy_mrmr_order,
    importances_from_order,
)
from featimp._progress import add_rows, phases, track
from featimp._selection import parse_threshold, ranking_from_importances, support_mask
from featimp._stream_counts import (
    ColumnCounts,
    bincount_rows,
    cell_edges,
    coarse_table,
    fine_cells,
    low_octave,
    merge_counts,
)
from featimp._validation import infer_task

_DEFAULT_BATCH = 65_536
_READAHEAD = 2
_SAMPLE_SIZE = 100_000
#: Rows of the first part whose median places a column's fine cells.
_OFFSET_ROWS = 4096
_MAX_CATEGORIES = 10_000
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: A row's key hashes ``part * 2**_ROW_BITS + row``: parts of up to 2**40
#: rows, and up to 2**24 parts.
_ROW_BITS = 40


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


class _FilePart:
    """One Parquet or CSV file, opened as a pyarrow dataset of its own.

    ``path`` is the file's path on the dataset's filesystem; ``shown`` what
    the user called it (an fsspec URL, say), for messages."""

    def __init__(self, path: str, dataset, shown: str | None = None):
        self.path = path
        self.dataset = dataset
        self.shown = shown or path

    @property
    def name(self) -> str:
        """How error messages call it: its path or URL."""
        return repr(self.shown)

    @property
    def schema(self):
        return self.dataset.schema

    @property
    def weight(self) -> float:
        """Its share of a pass, for progress: its size on disk (1 when the
        size is unknown, e.g. behind a URL)."""
        try:
            return float(os.path.getsize(self.path)) or 1.0
        except OSError:
            return 1.0

    def remote(self):
        """What a task on a Dask worker gets: the part itself (the worker
        opens the file by the same path or URL), and no data."""
        return self, None

    def batches(self, columns, batch_size: int, counted: bool = True):
        """Record batches of the file; a read error names the file.
        ``counted``: each batch's rows count for progress.

        Parquet is read page by page through a 1 MiB buffer, a row group at
        a time (memory is set by the batch and the file's row groups, never
        by the dataset's rows); CSV block by block."""
        pa, _, _ = _arrow()
        try:
            count = _counted if counted else iter
            if self.path.endswith(".csv"):
                yield from count(
                    self.dataset.to_batches(
                        columns=columns,
                        batch_size=batch_size,
                        batch_readahead=_READAHEAD,
                    )
                )
            else:
                import pyarrow.parquet as pq

                with pq.ParquetFile(
                    self.path,
                    buffer_size=1 << 20,
                    pre_buffer=False,
                    filesystem=self.dataset.filesystem,
                ) as file:
                    # One decoding thread, beside the counting on the other
                    # cores (:func:`_read_ahead`), so that the two do not
                    # compete for the cores (Arrow's own threads were not
                    # benchmarked against it).
                    yield from count(
                        file.iter_batches(
                            batch_size=batch_size, columns=columns, use_threads=False
                        )
                    )
            pa.default_memory_pool().release_unused()
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"cannot read {self.name}: {exc}") from exc


def _read_ahead(batches, depth: int = _READAHEAD):
    """The batches, read by a thread of their own up to ``depth`` ahead of
    the caller: decoding (which releases the GIL) overlaps the counting.
    A read error reaches the caller at its place in the stream."""
    import queue
    import threading

    done = object()
    ahead = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read():
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        ahead.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the reader below
            ahead.put(exc)
            return
        ahead.put(done)

    thread = threading.Thread(target=read, name="featimp-read", daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _counted(batches):
    """The batches, each counted for progress as it is read (rows and rows
    per second; nothing on a Dask worker, which has no listener)."""
    for batch in batches:
        add_rows(batch.num_rows)
        yield batch


@dataclass
class _FramePart:
    """Partition ``index`` of a dask DataFrame.

    ``source`` is the partition's delayed object (computed in this process
    when read, one partition at a time), its future on a Dask client
    (fetched when read here; the tasks on the workers get the partition
    itself), or the partition (in a task on a worker)."""

    index: int
    schema: object
    source: object = None
    weight: float = 1.0

    @property
    def name(self) -> str:
        """How error messages call it (``index`` as in ``ddf.partitions``)."""
        return f"partition {self.index} of the dask frame"

    def remote(self):
        """What a task on a Dask worker gets: this part without its source,
        and the source (a future: Dask hands the task the partition)."""
        return replace(self, source=None), self.source

    def batches(self, columns, batch_size: int, counted: bool = True):
        """The partition's rows as record batches of the common schema; a
        conversion error names the partition. ``counted``: each batch's
        rows count for progress."""
        pa, _, _ = _arrow()
        frame = self._frame()
        schema = pa.schema([self.schema.field(name) for name in columns])
        for start in range(0, len(frame), batch_size):
            try:
                rows = frame.iloc[start : start + batch_size][list(columns)]
                batch = pa.RecordBatch.from_pandas(
                    rows, schema=schema, preserve_index=False
                )
            except (KeyError, TypeError, ValueError, pa.ArrowException) as exc:
                raise ValueError(f"cannot read {self.name}: {exc}") from exc
            if counted:
                add_rows(batch.num_rows)
            yield batch

    def _frame(self) -> pd.DataFrame:
        if isinstance(self.source, pd.DataFrame):
            return self.source
        import dask

        if dask.is_dask_collection(self.source):
            # Computed here, one partition, whatever the default scheduler.
            return self.source.compute(scheduler="sync")
        return self.source.result()  # a future on a Dask client


def _is_dask_frame(source) -> bool:
    return hasattr(source, "to_delayed") and isinstance(
        getattr(source, "_meta", None), pd.DataFrame
    )


def _frame_parts(frame) -> list[_FramePart]:
    """The partitions of a dask DataFrame, in order, with the schema of its
    empty prototype (``_meta``, what dask itself types the frame by: no
    partition is computed). An ``object`` column, whose prototype cannot
    tell text from numbers, is read as text (numbers in it are an error
    naming the partition); the index is not a column."""
    pa, _, _ = _arrow()
    schema = pa.Schema.from_pandas(frame._meta, preserve_index=False)
    fields = [
        field.with_type(pa.large_string()) if pa.types.is_null(field.type) else field
        for field in schema.remove_metadata()
    ]
    schema = pa.schema(fields)
    return [_FramePart(i, schema, d) for i, d in enumerate(frame.to_delayed())]


def _on_client(parts, client):
    """The parts with each dask partition computed once on ``client``: the
    tasks of every pass read it there (it never comes to this process for
    them)."""
    frames = [p for p in parts if isinstance(p, _FramePart)]
    if client is None or not frames:
        return parts
    futures = iter(client.compute([p.source for p in frames]))
    return [
        replace(p, source=next(futures)) if isinstance(p, _FramePart) else p
        for p in parts
    ]


_SUFFIXES = (".parquet", ".pq", ".csv")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _sources(source) -> list[str]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    return [os.fspath(item) for item in items]


def _is_url(item: str) -> bool:
    """An fsspec URL (``s3://``, ``gs://``, ``memory://``...); a ``file://``
    URL is read as the local path it names."""
    return bool(_URL.match(item)) and not item.startswith("file://")


def _url_files(url: str) -> list[tuple]:
    """``(filesystem, path, url)`` of each Parquet or CSV file an fsspec URL
    names: a file, a directory (recursively) or a glob."""
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:  # pragma: no cover - fsspec comes with dask
        raise ImportError(
            f"reading {url!r} needs fsspec (and the filesystem's own package, "
            "such as s3fs): pip install fsspec"
        ) from exc
    fs, path = url_to_fs(url)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if glob.has_magic(path):
        found = fs.glob(path)
    elif fs.isdir(path):
        found = [p for p in fs.find(path) if p.endswith(_SUFFIXES)]
    else:
        found = [path] if fs.exists(path) else []
    return [(fs, p, f"{protocol}://{p.lstrip('/')}") for p in sorted(found)]


def _paths(source) -> list[str]:
    paths = []
    for item in _sources(source):
        if _is_url(item):
            continue
        if item.startswith("file://"):
            item = item[len("file://") :]
        if os.path.isdir(item):
            found = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(item)
                for name in names
                if name.endswith(_SUFFIXES)
            )
        elif glob.has_magic(item):
            found = sorted(glob.glob(item))
        else:
            found = [item]
        if not found:
            raise FileNotFoundError(f"no files match {item!r}")
        paths.extend(found)
    return sorted(set(paths))


def _open_parts(source) -> list:
    """The parts of ``source``: the partitions of a dask DataFrame in order,
    or its files in sorted path order, each opened."""
    pa, _, ds = _arrow()
    if _is_dask_frame(source):
        parts = _frame_parts(source)
    elif isinstance(source, ds.Dataset):
        fragments = sorted(source.get_fragments(), key=lambda f: f.path)
        parts = [
            _FilePart(
                f.path, ds.dataset(f.path, format=f.format, filesystem=f.filesystem)
            )
            for f in fragments
        ]
    else:
        found = [(None, path, path) for path in _paths(source)]
        for url in filter(_is_url, _sources(source)):
            files = _url_files(url)
            if not files:
                raise FileNotFoundError(f"no files match {url!r}")
            found += files
        parts = []
        for fs, path, shown in sorted(found, key=lambda f: f[2]):
            fmt = "csv" if path.endswith(".csv") else "parquet"
            try:
                dataset = ds.dataset(path, format=fmt, filesystem=fs)
            except (OSError, pa.ArrowException) as exc:
                raise ValueError(f"cannot read {shown!r}: {exc}") from exc
            parts.append(_FilePart(path, dataset, shown))
    if not parts:
        raise ValueError("the dataset has no files (or partitions)")
    return parts


def _check_schemas(parts, target: str):
    """The common schema; an error naming the first part that differs."""
    first = parts[0].schema
    for part in parts:
        schema = part.schema
        if target not in schema.names:
            raise ValueError(f"target column {target!r} is missing in {part.name}")
        if not schema.equals(first):
            raise ValueError(
                f"{part.name} has a different schema from {parts[0].name}: "
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


def _run_part(job, part, data, *args):
    """``job`` on a worker: the part given its data (a dask partition) if
    it has any."""
    return job(part if data is None else replace(part, source=data), *args)


def _submit(client, job, part, args):
    """One task of ``job`` on ``part``, keyed by the job's name (the task
    stream shows which pass ran where)."""
    shell, data = part.remote()
    key = f"{job.__name__}-{uuid.uuid4().hex}"
    return client.submit(_run_part, job, shell, data, *args, key=key)


def _pairwise(items: list, merge):
    """``items`` merged in pairs, level by level, an odd one carried to the
    end of the next level: the tree of the Dask reduction."""
    while len(items) > 1:
        pairs = zip(items[0::2], items[1::2], strict=False)
        merged = [merge(a, b) for a, b in pairs]
        items = merged + items[len(merged) * 2 :]
    return items[0]


class _Tree:
    """The tree of :func:`_pairwise`, merged as the items come (a binary
    counter): at most log2(n) of them held at a time."""

    def __init__(self, merge):
        self.merge = merge
        self.stack = []  # (number of items merged, their merge)

    def push(self, item) -> None:
        size = 1
        while self.stack and self.stack[-1][0] == size:
            item = self.merge(self.stack.pop()[1], item)
            size *= 2
        self.stack.append((size, item))

    def result(self):
        item = self.stack.pop()[1]
        while self.stack:
            item = self.merge(self.stack.pop()[1], item)
        return item


def _map_reduce(
    parts, job, args, merge, client, stage: str, weights=None, any_order=False
):
    """``job(part, *args[i])`` for every part, merged in the tree of
    :func:`_pairwise`: here, or one task per part on a Dask client with the
    merges tree-reduced there. The tree is the same, so merges of floats
    (the moments of EC-FS) agree to the bit, not only integer counts.
    ``any_order``: the merge gives the same in any order (counts, sets,
    extremes), so here each part is folded into one total as it comes,
    which holds two results at a time rather than log2(parts)."""
    if client is None:
        tree = _Tree(merge)
        total = None
        weights = weights or [part.weight for part in parts]
        done = track(
            list(zip(parts, args, strict=True)), stage, weights=weights, rows=True
        )
        for part, part_args in done:
            result = job(part, *part_args)
            if not any_order:
                tree.push(result)
            else:
                total = result if total is None else merge(total, result)
        return total if any_order else tree.result()
    from distributed import as_completed

    futures = [_submit(client, job, p, a) for p, a in zip(parts, args, strict=True)]
    total = _pairwise(futures, lambda a, b: client.submit(merge, a, b, pure=False))
    for _ in track(as_completed(futures), stage, total=len(futures)):
        pass  # progress as the parts' tasks end (the merges follow them)
    return total.result()


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


def _row_keys(part: int, start: int, n: int, seed: int) -> np.ndarray:
    """splitmix64 of the rows' positions (the part, and the row in it):
    pseudo-random, seeded, distinct (splitmix64 is a bijection), and the
    same whatever the batches, and whichever process reads the part."""
    first = (part << _ROW_BITS) + start
    z = np.arange(first, first + n, dtype=np.uint64)
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
    #: Once the sample is full: its largest key, above which no candidate
    #: can enter (0 before).
    bound: int = 0
    #: Whether its quantile edges may be needed: not for a column that is
    #: discrete whatever its values (integers with "auto", or every column
    #: with discrete_features=True).
    sampled: bool = True

    def add_values(self, distinct, cap: int) -> None:
        """Add distinct values (a sequence; an array or Arrow array is made
        a list only when it fits under the cap): past ``cap`` in all, the
        column overflows and keeps none."""
        if self.overflow:
            return
        if len(distinct) > cap:  # one batch alone: no set is built for it
            self.overflow, self.values = True, set()
            return
        self.values.update(_as_list(distinct))
        self.overflow = len(self.values) > cap
        if self.overflow:
            self.values = set()

    def add_sample(self, keys, values, size: int) -> None:
        """Add candidates; the sample is the ``size`` smallest keys seen once
        :meth:`settle` has run. Up to twice ``size`` are held between
        compactions, so each costs a partition of ``2 * size`` keys every
        ``size`` candidates, not one per batch."""
        if self.keys.size >= size:
            # Keys above the ``size`` smallest held can never be among the
            # ``size`` smallest seen: an exact filter.
            below = keys < self.bound
            if not below.any():
                return
            keys, values = keys[below], values[below]
        self.keys = np.concatenate([self.keys, keys])
        self.sample = np.concatenate([self.sample, values])
        if self.keys.size >= 2 * size or (self.keys.size >= size and not self.bound):
            self.settle(size)

    def settle(self, size: int) -> None:
        """Keep the ``size`` smallest keys held (and their values)."""
        if self.keys.size > size:
            keep = np.argpartition(self.keys, size - 1)[:size]
            self.keys, self.sample = self.keys[keep], self.sample[keep]
        if self.keys.size >= size:
            self.bound = self.keys.max()

    def merge(self, other: _Column, settings) -> None:
        """Add what ``other`` saw of the same column in other rows. Every
        statistic is the one of a single pass: sums, extremes, the union of
        values (past the cap in either, past it in both), and the bottom-k
        sample of the union (row keys are distinct, so it is one set)."""
        self.n_missing += other.n_missing
        self.n_observed += other.n_observed
        self.integer = self.integer and other.integer
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        if other.overflow:
            self.overflow, self.values = True, set()
        else:
            self.add_values(other.values, settings.cap)
        if other.keys.size:
            self.add_sample(other.keys, other.sample, settings.sample_size)


def _distinct(values: np.ndarray, integer: bool) -> np.ndarray:
    """The sorted distinct values, as :func:`np.unique` gives them; integers
    in a range not much wider than the batch by counting (linear, not a
    sort)."""
    if integer and values.size:
        low, high = values.min(), values.max()
        if high - low < 4 * values.size + 1024:
            seen = np.bincount((values - low).astype(np.intp))
            return np.flatnonzero(seen).astype(np.float64) + low
    return np.unique(values)


def _as_list(values) -> list:
    """Python values of a NumPy or Arrow array (or any collection)."""
    if hasattr(values, "to_pylist"):
        return values.to_pylist()
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _observe(column: _Column, array, keys, settings) -> None:
    """Pass 1 on one batch of one column; ``keys`` are the batch's row keys
    (:func:`_row_keys`), None when no column is sampled."""
    _, pc, _ = _arrow()
    n_missing = array.null_count
    if column.kind == "categorical":
        texts = _texts(array)
        column.add_values(pc.unique(texts.drop_null()), settings.cap)
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
        column.add_values(_distinct(observed, column.integer), settings.cap)
    if column.sampled:
        column.add_sample(keys[~missing], observed, settings.sample_size)


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
    how: str  # "categories", "values", "offsets", "edges", "cells", "hash"
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
    if coder.how == "cells":  # quantile edges of a fine histogram's cells
        offset, e_low, edges = coder.lookup
        codes = np.full(values.size, missing_code, dtype=np.intp)
        cells = fine_cells(values[~missing], offset, e_low)
        codes[~missing] = np.searchsorted(edges, cells, side="right")
        return codes
    if coder.how == "offsets":  # every value was seen in pass 1
        low, table = coder.lookup
        codes = np.full(values.size, missing_code, dtype=np.intp)
        codes[~missing] = table[(values[~missing] - low).astype(np.intp)]
        return codes
    side = "left" if coder.how == "values" else "right"
    codes = np.searchsorted(coder.lookup, values, side=side).astype(np.intp)
    codes[missing] = missing_code
    return codes


def _each_column(work, n_columns: int) -> None:
    """``work(j)`` for every column ``j``, split over numba's threads: the
    coding and observing of a batch are NumPy and Arrow calls that release
    the GIL (a binary search, a sort, a hash), and each column's own."""
    threads = min(_n_threads(), n_columns)
    if threads < 2:
        for j in range(n_columns):
            work(j)
        return
    list(_pool(threads).map(work, range(n_columns)))


@functools.cache
def _pool(threads: int):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(threads, thread_name_prefix="featimp-stream")


def _n_threads() -> int:
    try:
        from featimp._mi_kernels import n_threads

        return n_threads()
    except ImportError:  # no numba: the CPUs
        return os.cpu_count() or 1


def _first_pass(
    parts,
    features,
    target,
    settings,
    keep_target=True,
    sample=True,
    client=None,
    stage="pass 1: samples and values",
):
    """Pass 1 over every part, one task per part on a Dask client, merged
    in the tree of :func:`_map_reduce`. Returns the feature observations,
    the target observed like a column (its values, a sample), the target's
    values whole when ``keep_target`` (the permutation null permutes them),
    else None, the rows per part and their total. ``sample=False`` keeps no
    sample of any column (EC-FS needs none)."""
    schema = parts[0].schema
    sampled = {
        name: sample and _sampled(schema.field(name).type, settings)
        for name in features
    }
    jobs = [(i, features, sampled, target, sample, keep_target, settings)
            for i in range(len(parts))]  # fmt: skip
    if client is None:
        # One observation for every part, in order: its samples fill once,
        # and later batches only test their keys against the sample's.
        observed = None
        weights = [part.weight for part in parts]
        for part, job in track(
            list(zip(parts, jobs, strict=True)), stage, weights=weights, rows=True
        ):
            observed = _observe_part(part, *job, into=observed)
    else:
        observed = _map_reduce(
            parts, _observe_part, jobs, _merge_observed, client, stage, any_order=True
        )
    for column in [*observed.columns.values(), observed.target]:
        column.settle(settings.sample_size)
    n = int(sum(observed.rows))
    if n < 2:
        raise ValueError(f"the dataset has {n} row(s); at least 2 are required")
    y = np.concatenate(observed.target_values) if keep_target else None
    return observed.columns, observed.target, y, np.asarray(observed.rows), n


@dataclass
class _Observed:
    """What pass 1 learned from some parts, in part order."""

    columns: dict
    target: _Column
    target_values: list
    rows: list
    settings: _Settings


def _observe_part(
    part, index, features, sampled, target, sample, keep, settings, into=None
):
    """Pass 1 on one part (the ``index``-th): every batch observed, into
    ``into`` (the parts before it) if given. Either way the result is that
    of :func:`_merge_observed`, which is exact."""
    if into is None:
        schema = part.schema
        columns = {
            name: _Column(name, kind, sampled=sampled[name])
            for name, kind in features.items()
        }
        observed = _Column(target, _kind(schema.field(target).type), sampled=sample)
        into = _Observed(columns, observed, [], [], settings)
    columns, observed = into.columns, into.target
    target_values, n = [], 0
    used = [c for c in columns.values() if c.kind is not None]
    for batch in part.batches([*features, target], settings.batch_size):
        y = batch.column(target)
        if y.null_count:
            raise ValueError(f"target {target!r} has missing values in {part.name}")
        if keep:
            target_values.append(y.to_numpy(zero_copy_only=False))
        # One key per row, for every sampled column of the batch.
        keys = _row_keys(index, n, batch.num_rows, settings.seed) if sample else None
        if observed.kind is not None:
            _observe(observed, y, keys, settings)
        _each_column(
            lambda j, batch=batch, keys=keys: _observe(
                used[j], batch.column(used[j].name), keys, settings
            ),
            len(used),
        )
        n += batch.num_rows
    if target_values:
        into.target_values.append(np.concatenate(target_values))
    into.rows.append(n)
    return into


def _merge_observed(a: _Observed, b: _Observed) -> _Observed:
    """Two parts' observations as one (``a``'s parts come first): what one
    pass over both would have learned."""
    for name, column in a.columns.items():
        column.merge(b.columns[name], a.settings)
    a.target.merge(b.target, a.settings)
    return _Observed(
        a.columns,
        a.target,
        a.target_values + b.target_values,
        a.rows + b.rows,
        a.settings,
    )


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
        if observed.kind == "categorical":
            return _Coder(observed.name, "categories", classes, len(classes), False)
        values = np.array(classes)
        # Integer classes by a table lookup (every batch codes its target).
        lookup = _dense_lookup(values)
        how = "values" if lookup is None else "offsets"
        lookup = values if lookup is None else lookup
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
    for batch in _read_ahead(part.batches(read, batch_size, counted=False)):
        add_rows(batch.num_rows)  # here: the progress listener is this thread's
        stop = start + batch.num_rows
        codes = np.empty((len(coders), batch.num_rows), dtype=dtype)

        def code(j, batch=batch, codes=codes):
            codes[j] = _codes(coders[j], batch.column(coders[j].name))

        _each_column(code, len(coders))
        if from_batch:
            batch_targets = [_codes(targets, batch.column(targets.name))]
        else:
            batch_targets = [t[start:stop] for t in targets]
        totals += dense_tables(codes, cards, batch_targets, n_target)
        start = stop
    if not from_batch and start != targets[0].size:
        raise ValueError(f"{part.name} changed while it was read")
    return totals


def _second_pass(parts, rows, coders, targets, n_target, settings, client):
    """Joint tables of every coded column with each target, summed over the
    parts: here, or one task per part on a Dask client with the sums
    tree-reduced. Counts are integers, so the order of the sums does not
    change them."""
    bounds = np.concatenate([[0], np.cumsum(rows)])
    args = [
        (
            coders,
            targets if isinstance(targets, _Coder) else [t[a:b] for t in targets],
            n_target,
            settings.batch_size,
        )
        for a, b in itertools.pairwise(bounds)
    ]
    cards = np.array([c.card for c in coders], dtype=np.intp)
    weights = [float(r) for r in rows]
    # Integer counts: the same sum in any order, so folded as they come.
    totals = _map_reduce(
        parts, _count_part, args, np.add, client, "counting", weights, any_order=True
    )
    return totals, cards


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


def _offsets(part, names: list, settings) -> dict:
    """Per column ``(offset, e_low)``: the median of the observed values
    among its first ``_OFFSET_ROWS`` rows in ``part`` (0 if none), where
    its fine cells are finest, and the first octave of its cells
    (:mod:`featimp._stream_counts`). Read from the first part (on a worker,
    with a client), so the same for every part, and whatever the batch
    size."""
    pa, _, _ = _arrow()
    batches, rows = [], 0
    for batch in part.batches(names, settings.batch_size, counted=False):
        batches.append(batch)
        rows += batch.num_rows
        if rows >= _OFFSET_ROWS:
            break
    if not rows:
        return {name: (0.0, low_octave([])) for name in names}
    head = pa.Table.from_batches(batches).slice(0, _OFFSET_ROWS)
    offsets = {}
    for name in names:
        values = _floats(head.column(name).combine_chunks())
        values = values[np.isfinite(values)]
        offset = float(np.median(values)) if values.size else 0.0
        offsets[name] = (offset, low_octave(values - offset))
    return offsets


def _count_specs(parts, features: dict, n_target, n_targets, settings, client):
    """The :class:`ColumnCounts` arguments of every usable feature."""
    schema = parts[0].schema
    continuous = {
        name: kind == "numeric" and _sampled(schema.field(name).type, settings)
        for name, kind in features.items()
    }
    names = [name for name, c in continuous.items() if c]
    offsets = {}
    if names and client is None:
        offsets = _offsets(parts[0], names, settings)
    elif names:
        offsets = _submit(client, _offsets, parts[0], (names, settings)).result()
    return [
        {
            "name": name,
            "kind": kind,
            "n_target": n_target,
            "n_targets": n_targets,
            "discrete": kind == "categorical"
            or (kind == "numeric" and settings.discrete is not False),
            "continuous": continuous[name],
            "cap": settings.cap,
            "sample_size": settings.sample_size,
            "offset": offsets.get(name, (0.0, 0))[0],
            "e_low": offsets.get(name, (0.0, 0))[1],
        }
        for name, kind in features.items()
        if kind is not None
    ]


def _count_once_part(part, specs, targets, n_target: int, batch_size: int, into=None):
    """The read of one part: every batch of every column counted with each
    target, into ``into`` (the parts before it) when given. ``targets`` is
    this part's rows of each target, or the :class:`_Coder` that codes the
    target from each batch."""
    counts = into if into is not None else [ColumnCounts(**spec) for spec in specs]
    from_batch = isinstance(targets, _Coder)
    names = [c.name for c in counts]
    read = [*names, targets.name] if from_batch and targets.name not in names else names
    start = 0
    for batch in _read_ahead(part.batches(read, batch_size, counted=False)):
        add_rows(batch.num_rows)  # here: the progress listener is this thread's
        stop = start + batch.num_rows
        # Small codes, one row a row: what the compiled counts read fastest.
        if from_batch:
            codes = _codes(targets, batch.column(targets.name))[:, None]
            codes = codes.astype(code_dtype(n_target))
        else:
            codes = np.column_stack([t[start:stop] for t in targets])

        def add(j, batch=batch, codes=codes):
            counts[j].add(batch.column(counts[j].name), codes)

        _each_column(add, len(counts))
        start = stop
    if not from_batch and start != targets[0].size:
        raise ValueError(f"{part.name} changed while it was read")
    return counts


def _count_once(parts, features, rows, targets, n_target, n_bins, settings, client):
    """The one read of the features: per feature its coder (None: it scores
    0) and its joint table ``(card, targets x classes)`` in the coder's
    codes."""
    n_targets = 1 if isinstance(targets, _Coder) else len(targets)
    specs = _count_specs(parts, features, n_target, n_targets, settings, client)
    if not specs:
        return [None] * len(features), [None] * len(features)
    if isinstance(targets, _Coder):
        part_targets = [targets] * len(parts)
    else:
        bounds = np.concatenate([[0], np.cumsum(rows)])
        part_targets = [
            [t[a:b] for t in targets] for a, b in itertools.pairwise(bounds)
        ]
    stage = "counting"
    if client is None:
        counts = None
        done = track(
            list(zip(parts, part_targets, strict=True)),
            stage,
            weights=[part.weight for part in parts],
            rows=True,
        )
        for part, part_target in done:
            counts = _count_once_part(
                part, specs, part_target, n_target, settings.batch_size, into=counts
            )
    else:
        args = [(specs, t, n_target, settings.batch_size) for t in part_targets]
        counts = _map_reduce(
            parts, _count_once_part, args, merge_counts, client, stage, any_order=True
        )
    finished = {c.name: _finish_counts(c, n_bins, settings) for c in counts}
    pairs = [finished.get(name, (None, None)) for name in features]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _finish_counts(counts: ColumnCounts, n_bins: int, settings):
    """``(coder, table)`` of one column's counts, or ``(None, None)`` for a
    column that scores 0: the coder :func:`_coder` gives from what the read
    saw, and the table in its codes, missing values last."""
    column = _Column(
        counts.name,
        counts.kind,
        n_missing=counts.n_missing,
        n_observed=counts.n_observed,
        integer=counts.integer,
        low=counts.low,
        high=counts.high,
    )
    discrete = counts.kind == "categorical" or (
        counts.integer if settings.discrete == "auto" else bool(settings.discrete)
    )
    table = None
    if discrete:
        distinct = counts.distinct()
        if distinct is not None and len(distinct[0]) > settings.cap:
            counts._to_hash()  # the buckets that hashing every row fills
            distinct = None
        if distinct is None:
            column.overflow = True
        else:
            values, table = distinct
            column.values = set(values)
        coder = _coder(column, n_bins, settings)
        if coder is not None and coder.how == "hash":
            table = counts.counts
    elif column.n_observed == 0 or (column.low == column.high and not counts.n_missing):
        coder = None
    else:
        has_missing = counts.n_missing > 0
        kept = counts.kept_sample()
        if kept is not None:
            column.sample = kept[0]
            coder = _edges_coder(column, n_bins, has_missing)
            codes = np.searchsorted(coder.lookup, kept[0], side="right")
            table = bincount_rows(codes, kept[1], counts.n_target, n_bins)
        else:
            margin = counts.fine[:, : counts.n_target].sum(axis=1)
            edges = cell_edges(margin, n_bins)
            coder = _Coder(
                counts.name,
                "cells",
                (counts.offset, counts.e_low, edges),
                n_bins + int(has_missing),
                has_missing,
            )
            table = coarse_table(counts.fine, edges, n_bins)
    if coder is None:
        return None, None
    if coder.has_missing:
        table = np.vstack([table, counts.missing])
    return coder, table


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
    """The target's pass and the read of the features: the MI of every
    feature with the target, null-corrected as ``params`` say. ``keep``
    keeps the permutations (in the smallest integer type holding a row
    number) for passes to come. Progress moves once across both passes,
    weighted by the columns each reads.

    Without permutations (``null_correction`` False or ``"expected"``) no
    state grows with the rows: each batch's target is coded from the batch.
    The permutation null holds one small code per row and target."""
    with phases("MI", [1, max(len(features), 1)]) as advance:
        return _relevance_passes(
            parts, features, target, params, settings, client, keep, advance
        )


def _relevance_passes(parts, features, target, params, settings, client, keep, advance):
    null_correction = params.get("null_correction", True)
    bounded = null_correction in (False, "expected")
    _, observed, y, rows, n = _first_pass(
        parts,
        {},
        target,
        settings,
        keep_target=not bounded,
        client=client,
        stage="pass 1: the target",
    )
    advance()
    n_bins = resolve_n_bins(params.get("n_bins", "auto"), n)
    kept = []
    if bounded:
        task = params.get("task", "auto")
        if task == "auto":
            arrow_type = parts[0].schema.field(target).type
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
    coders, tables = _count_once(
        parts, features, rows, targets, n_target, n_bins, settings, client
    )
    used = [c for c in coders if c is not None]
    scores = np.zeros(len(features))
    if not used:
        return _Relevance(coders, scores, {}, rows, kept, task, [])
    n_targets = 1 if isinstance(targets, _Coder) else len(targets)
    cards = np.array([c.card for c in used], dtype=np.intp)
    # Each (card, targets x classes) table as the counting pass lays it out:
    # one row per target, the columns' cells side by side.
    totals = np.concatenate(
        [
            t.reshape(len(t), n_targets, n_target)
            .transpose(1, 0, 2)
            .reshape(n_targets, -1)
            for t in tables
            if t is not None
        ],
        axis=1,
    )
    if isinstance(targets, _Coder):  # every table holds the target's margin
        n_ts = [totals[0].reshape(-1, n_target)[: cards[0]].sum(axis=0)]
    else:
        n_ts = [np.bincount(t, minlength=n_target) for t in targets]
    mi = _dense_tables_mi(totals, cards, n_ts, n)
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
            for batch in part.batches([coder.name], settings.batch_size)
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


@dataclass
class _Ranked:
    """What a method's passes give :func:`rank_dataset`."""

    scores: np.ndarray
    hashed: dict
    rows: np.ndarray
    task: str


@dataclass
class _Moments:
    """Count, mean, sum of squared deviations, minimum and maximum of the
    observed (not missing) values, per class (rows) and column."""

    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def empty(cls, n_classes: int, n_columns: int) -> _Moments:
        shape = (n_classes, n_columns)
        return cls(
            np.zeros(shape, np.int64), np.zeros(shape), np.zeros(shape),
            np.full(shape, np.inf), np.full(shape, -np.inf),
        )  # fmt: skip

    @classmethod
    def of(cls, values, codes, n_classes: int) -> _Moments:
        """The moments of one batch (NaN: missing), two-pass in each class."""
        found = cls.empty(n_classes, values.shape[1])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(n_classes + 1))
        for k in np.flatnonzero(np.diff(bounds)):
            rows = values[order[bounds[k] : bounds[k + 1]]]
            observed = ~np.isnan(rows)
            n = observed.sum(axis=0)
            total = np.where(observed, rows, 0.0).sum(axis=0)
            mean = np.divide(total, n, out=np.zeros_like(total), where=n > 0)
            found.n[k], found.mean[k] = n, mean
            found.m2[k] = (np.where(observed, rows - mean, 0.0) ** 2).sum(axis=0)
            found.low[k] = np.where(observed, rows, np.inf).min(axis=0)
            found.high[k] = np.where(observed, rows, -np.inf).max(axis=0)
        return found

    def merge(self, other: _Moments) -> _Moments:
        """Both sets of rows, by the pairwise update of Chan, Golub and
        LeVeque; an empty side (n = 0, mean 0) leaves the other unchanged."""
        n = self.n + other.n
        delta = other.mean - self.mean
        share = np.divide(other.n, n, out=np.zeros_like(delta), where=n > 0)
        return _Moments(
            n,
            self.mean + delta * share,
            self.m2 + other.m2 + delta**2 * self.n * share,
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
        )

    def row(self, k: int) -> _Moments:
        return _Moments(*(a[k : k + 1] for a in self.arrays()))

    def arrays(self) -> tuple:
        return self.n, self.mean, self.m2, self.low, self.high

    def total_m2(self) -> np.ndarray:
        """Sums of squared deviations from the mean of all classes' rows."""
        merged = self.row(0)
        for k in range(1, len(self.n)):
            merged = merged.merge(self.row(k))
        return merged.m2[0]


def _binary_moments(ones, sizes) -> _Moments:
    """The moments of 0/1 columns with ``ones`` (k, c) ones among each
    class's ``sizes`` (k,) rows, from the counts."""
    n = np.broadcast_to(sizes[:, None], ones.shape)
    return _Moments(
        n.copy(),
        ones / n,
        ones * (n - ones) / n,
        (ones == n).astype(float),
        (ones > 0).astype(float),
    )


@dataclass
class _GraphPlan:
    """The nodes of the EC-FS graph, in the order and with the names of
    the in-memory one-hot encoding (:mod:`featimp._encoding`), and where
    each node's sums come from.

    Per column: a numeric column gives a value node (median-imputed where
    missing) and, if it has missing values, a missing indicator; a text or
    categorical column one node per category (sorted) and one for missing
    if it has missing values; a column that cannot be used one node of
    zeros (so it scores 0 and the graph is the in-memory one)."""

    table: EncodedTable  # the nodes and columns, without rows
    numeric: list  # names of the usable numeric columns
    low: np.ndarray  # their observed minimum and maximum
    high: np.ndarray
    categorical: list  # a _Coder per usable categorical column
    n_bins: int
    value_nodes: np.ndarray  # the value node of each numeric column
    indicator_nodes: np.ndarray  # the missing indicators ...
    indicator_columns: np.ndarray  # ... and their numeric columns
    category_nodes: np.ndarray  # the category nodes, in the coders' order
    zero_nodes: np.ndarray


def _unusable_reason(column: _Column, arrow_type) -> str | None:
    """Why a column cannot be used (it scores 0), as the encoding says."""
    pa, _, _ = _arrow()
    if column.kind is None and not pa.types.is_null(arrow_type):
        if pa.types.is_temporal(arrow_type):
            return f"holds dates or durations ({arrow_type})"
        return f"holds {arrow_type} values, neither numbers nor text"
    if column.n_observed == 0:
        return "is entirely missing"
    return None


def _category_coder(column: _Column, settings) -> _Coder:
    if column.overflow:
        raise ValueError(
            f"column {column.name!r} has more than max_categories={settings.cap} "
            "categories: EC-FS and Inf-FS make a graph node of each category; "
            "raise max_categories to stream it"
        )
    extra = int(column.n_missing > 0)
    categories = sorted(column.values)
    return _Coder(
        column.name, "categories", categories, len(categories) + extra, bool(extra)
    )


def _graph_plan(columns: dict, schema, n: int, settings) -> _GraphPlan:
    encoded, names, groups = [], [], []
    numeric, categorical = [], []
    nodes = {k: [] for k in ("value", "indicator", "of", "category", "zero")}

    def add(kind: str, label: str, j: int) -> None:
        nodes[kind].append(len(names))
        names.append(label)
        groups.append(j)

    for j, (name, column) in enumerate(columns.items()):
        why = _unusable_reason(column, schema.field(name).type)
        if why is not None:
            encoded.append(Column(name, "numeric", n_missing=column.n_missing,
                                  unusable=why))  # fmt: skip
            add("zero", name, j)
        elif column.kind == "categorical":
            coder = _category_coder(column, settings)
            categorical.append(coder)
            encoded.append(
                Column(name, "categorical", tuple(coder.lookup), column.n_missing)
            )
            labels = [*coder.lookup, *([MISSING] if coder.has_missing else [])]
            for label in labels:
                add("category", f"{name}={label}", j)
        else:
            encoded.append(Column(name, "numeric", n_missing=column.n_missing))
            add("value", name, j)
            if column.n_missing:
                nodes["of"].append(len(numeric))
                add("indicator", f"{name}={MISSING}", j)
            numeric.append(column)
    index = {k: np.asarray(v, dtype=np.intp) for k, v in nodes.items()}
    return _GraphPlan(
        table=EncodedTable(
            values=np.empty((0, len(names))),
            columns=encoded,
            groups=np.asarray(groups, dtype=np.intp),
            encoded_names=names,
            categorical=np.zeros(len(names), dtype=bool),
        ),
        numeric=[c.name for c in numeric],
        low=np.array([c.low for c in numeric]),
        high=np.array([c.high for c in numeric]),
        categorical=categorical,
        n_bins=_n_bins(n),
        value_nodes=index["value"],
        indicator_nodes=index["indicator"],
        indicator_columns=index["of"],
        category_nodes=index["category"],
        zero_nodes=index["zero"],
    )


@dataclass
class _GraphSums:
    """What EC-FS needs of a set of rows, per class: its size; for each
    numeric column the moments of the observed values, the count of missing
    ones and the (equal-width bin, class) counts of the observed ones; for
    each categorical column the (category, class) counts. Counts add,
    moments merge (:func:`_merge_sums`)."""

    sizes: np.ndarray  # (k,)
    moments: _Moments  # (k, numeric)
    missing: np.ndarray  # (k, numeric)
    bins: np.ndarray  # (numeric, n_bins, k)
    categories: list  # (categories, k) per categorical column

    @classmethod
    def empty(cls, plan: _GraphPlan, n_classes: int) -> _GraphSums:
        k, c = n_classes, len(plan.numeric)
        return cls(
            np.zeros(k, np.int64),
            _Moments.empty(k, c),
            np.zeros((k, c), np.int64),
            np.zeros((c, plan.n_bins, k), np.int64),
            [np.zeros((coder.card, k), np.int64) for coder in plan.categorical],
        )

    @classmethod
    def of(cls, batch, codes, plan: _GraphPlan, n_classes: int) -> _GraphSums:
        """The sums of one batch whose rows have class ``codes``."""
        k, c = n_classes, len(plan.numeric)
        values = np.empty((batch.num_rows, c))
        for i, name in enumerate(plan.numeric):
            values[:, i] = _floats(batch.column(name))
        missing = np.isnan(values)
        bins, _ = equal_width_bins(
            np.where(missing, plan.low, values), plan.low, plan.high, plan.n_bins
        )
        # Missing entries go to one bin past the last, dropped after counting.
        bins[missing] = plan.n_bins
        flat = (codes[:, None] * c + np.arange(c))[missing]
        return cls(
            sizes=np.bincount(codes, minlength=k),
            moments=_Moments.of(values, codes, k),
            missing=np.bincount(flat, minlength=k * c).reshape(k, c),
            bins=_joint_counts(bins, codes, k, plan.n_bins + 1)[:, : plan.n_bins],
            categories=[
                np.bincount(
                    _codes(coder, batch.column(coder.name)) * k + codes,
                    minlength=coder.card * k,
                ).reshape(coder.card, k)
                for coder in plan.categorical
            ],
        )


def _merge_sums(a: _GraphSums, b: _GraphSums) -> _GraphSums:
    return _GraphSums(
        a.sizes + b.sizes,
        a.moments.merge(b.moments),
        a.missing + b.missing,
        a.bins + b.bins,
        [x + y for x, y in zip(a.categories, b.categories, strict=True)],
    )


def _graph_part(part, plan: _GraphPlan, target: _Coder, batch_size: int):
    """The :class:`_GraphSums` of one part, its batches merged in order."""
    read = [*plan.numeric, *(c.name for c in plan.categorical), target.name]
    found = _GraphSums.empty(plan, target.card)
    for batch in part.batches(read, batch_size):
        if batch.num_rows:
            codes = _codes(target, batch.column(target.name))
            found = _merge_sums(found, _GraphSums.of(batch, codes, plan, target.card))
    return found


#: Bits of a sort key that each pass of the median search tells apart.
_DIGIT_BITS = 12
#: Few enough values sharing a key prefix to be collected and sorted.
_COLLECT = 1 << 16


def _sort_keys(values) -> np.ndarray:
    """uint64 keys in the order of the float64 ``values`` (no NaN; -0.0 is
    read as 0.0, which it equals)."""
    bits = np.ascontiguousarray(values + 0.0).view(np.uint64)
    sign = np.uint64(1 << 63)
    return np.where(bits & sign, ~bits, bits | sign)


def _key_value(key: int) -> float:
    sign = 1 << 63
    bits = key ^ sign if key & sign else ~key % (1 << 64)
    return float(np.array([bits], dtype=np.uint64).view(np.float64)[0])


@dataclass
class _Search:
    """The search for the ``rank``-th smallest observed value of a column:
    one counting pass over its distinct values when pass 1 kept them all
    (``known``), else passes that fix ``_DIGIT_BITS`` more leading bits of
    its sort key each, until at most ``_COLLECT`` values share them (then
    one pass collects those) or all 64 bits are fixed."""

    column: str
    rank: int  # among the values whose key starts with ``prefix``
    known: np.ndarray | None
    prefix: int = 0
    bits: int = 0
    collect: bool = False
    value: float | None = None

    @property
    def probe(self) -> tuple:
        """What the next pass counts for it (searches in the same place
        share it)."""
        how = "values" if self.known is not None else "digits"
        how = "collect" if self.collect else how
        return self.column, how, self.prefix, self.bits

    def advance(self, found: np.ndarray) -> None:
        """Move on by one pass's counts (or collected keys)."""
        if self.known is not None:
            at = np.searchsorted(np.cumsum(found), self.rank, side="right")
            self.value = float(self.known[at])
        elif self.collect:
            self.value = _key_value(int(np.partition(found, self.rank)[self.rank]))
        else:
            below = np.cumsum(found)
            digit = int(np.searchsorted(below, self.rank, side="right"))
            self.rank -= int(below[digit - 1]) if digit else 0
            width = min(_DIGIT_BITS, 64 - self.bits)
            self.prefix = (self.prefix << width) | digit
            self.bits += width
            if self.bits == 64:
                self.value = _key_value(self.prefix)
            else:
                self.collect = int(found[digit]) <= _COLLECT


def _probe(values, probe, known):
    """One batch's contribution to ``probe`` from a column's observed
    ``values``: counts per known value, or per next digit of the sort keys
    that start with the probe's prefix, or those keys."""
    name, how, prefix, bits = probe
    if how == "values":
        at = np.searchsorted(known[name], values)
        return np.bincount(at, minlength=known[name].size)
    keys = _sort_keys(values)
    if bits:
        keys = keys[keys >> np.uint64(64 - bits) == np.uint64(prefix)]
    if how == "collect":
        return keys
    width = min(_DIGIT_BITS, 64 - bits)
    digits = (keys >> np.uint64(64 - bits - width)) & np.uint64((1 << width) - 1)
    return np.bincount(digits.astype(np.intp), minlength=1 << width)


def _no_probe(probe, known) -> np.ndarray:
    """A probe's counts (or keys) over no rows."""
    name, how, _, bits = probe
    if how == "values":
        return np.zeros(known[name].size, np.int64)
    if how == "collect":
        return np.empty(0, np.uint64)
    return np.zeros(1 << min(_DIGIT_BITS, 64 - bits), np.int64)


def _merge_probes(a: list, b: list) -> list:
    """Two parts' ``(how, counts or keys)`` per probe: counts add, keys
    are pooled."""
    return [
        (how, np.concatenate([x, y]) if how == "collect" else x + y)
        for (how, x), (_, y) in zip(a, b, strict=True)
    ]


def _probe_part(part, probes, known, batch_size: int) -> list:
    """``(how, counts or keys)`` of each probe over one part."""
    columns = sorted({probe[0] for probe in probes})
    found = [(probe[1], _no_probe(probe, known)) for probe in probes]
    for batch in part.batches(columns, batch_size):
        observed = {}
        for name in columns:
            values = _floats(batch.column(name))
            observed[name] = values[~np.isnan(values)]
        got = [(p[1], _probe(observed[p[0]], p, known)) for p in probes]
        found = _merge_probes(found, got)
    return found


def _medians(parts, columns: list, settings, client) -> dict:
    """``np.median`` of the observed values of each of ``columns``, to the
    bit: the mean of its two middle order statistics (the one, for an odd
    count), each found by a :class:`_Search`. A pass holds, per search, the
    counts of the known values, a histogram of 4,096 counts, or at most
    ``_COLLECT`` values."""
    searches = {}
    for column in columns:
        m = column.n_observed
        known = None if column.overflow else np.array(sorted(column.values))
        ranks = sorted({(m - 1) // 2, m // 2})
        searches[column.name] = [_Search(column.name, r, known) for r in ranks]
    every = [s for group in searches.values() for s in group]
    while pending := [s for s in every if s.value is None]:
        probes = sorted({s.probe for s in pending})
        known = {s.column: s.known for s in pending if s.known is not None}
        args = [(probes, known, settings.batch_size)] * len(parts)
        found = _map_reduce(
            parts, _probe_part, args, _merge_probes, client, "medians to impute"
        )
        by_probe = dict(zip(probes, found, strict=True))
        for search in pending:
            search.advance(by_probe[search.probe][1])
    return {
        name: float(np.mean([s.value for s in group]))
        for name, group in searches.items()
    }


def _place(nodes: _Moments, where, moments: _Moments) -> None:
    for into, values in zip(nodes.arrays(), moments.arrays(), strict=True):
        into[:, where] = values


def _node_statistics(plan: _GraphPlan, sums: _GraphSums, fills: dict):
    """The statistics the in-memory code takes from the encoded rows, for
    every node: per-class moments in the layout of
    :func:`featimp._mi_kernels.class_moments`, the (bin, class) counts and
    whether the node is constant (its bins then do not count)."""
    sizes = sums.sizes
    k, d = sizes.size, len(plan.table.encoded_names)
    nodes = _Moments.empty(k, d)
    joint = np.zeros((d, plan.n_bins, k), np.int64)
    constant = np.ones(d, dtype=bool)
    if plan.numeric:
        _value_nodes(plan, sums, fills, nodes, joint, constant)
    if plan.indicator_nodes.size or plan.category_nodes.size:
        _binary_nodes(plan, sums, nodes, joint, constant)
    # A column that cannot be used is a node of zeros, all in the first bin.
    zeros = plan.zero_nodes
    nodes.n[:, zeros] = sizes[:, None]
    nodes.low[:, zeros] = nodes.high[:, zeros] = 0.0
    joint[zeros, 0] = sizes
    moments = (sizes, nodes.mean, nodes.m2, nodes.low, nodes.high, nodes.total_m2())
    return moments, joint, constant


def _value_nodes(plan, sums, fills, nodes, joint, constant) -> None:
    """The numeric columns' nodes: the observed values' sums, and the
    missing entries as a block of the column's median (``fills``)."""
    # A column without missing values takes its minimum, in range, 0 times.
    fill = plan.low.copy()
    for i, name in enumerate(plan.numeric):
        fill[i] = fills.get(name, fill[i])
    miss = sums.missing
    imputed = _Moments(
        miss, np.broadcast_to(fill, miss.shape).copy(), np.zeros(miss.shape),
        np.where(miss > 0, fill, np.inf), np.where(miss > 0, fill, -np.inf),
    )  # fmt: skip
    _place(nodes, plan.value_nodes, sums.moments.merge(imputed))
    # The median lies within the observed range: the same edges.
    at, constant[plan.value_nodes] = equal_width_bins(
        fill[None, :], plan.low, plan.high, plan.n_bins
    )
    counts = sums.bins.copy()
    counts[np.arange(fill.size), at[0]] += miss.T
    joint[plan.value_nodes] = counts


def _binary_nodes(plan, sums, nodes, joint, constant) -> None:
    """The 0/1 nodes (missing indicators, categories), from their counts:
    their moments, and their zeros and ones in the bins the in-memory code
    puts them in (the range of a node is [0, 1] unless it is constant)."""
    sizes = sums.sizes
    ones = np.concatenate(
        [sums.missing[:, plan.indicator_columns], *(c.T for c in sums.categories)],
        axis=1,
    )
    where = np.concatenate([plan.indicator_nodes, plan.category_nodes])
    _place(nodes, where, _binary_moments(ones, sizes))
    total = ones.sum(axis=0)
    low, high = (total == sizes.sum()).astype(float), (total > 0).astype(float)
    zero_one = np.array([[0.0], [1.0]]) * np.ones(where.size)
    at, constant[where] = equal_width_bins(zero_one, low, high, plan.n_bins)
    joint[where, at[0]] = (sizes[:, None] - ones).T
    joint[where, at[1]] += ones.T


def _keyword_defaults(function) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _regression_error(method: str, affinity: str, how: str) -> ValueError:
    """Why a regression target cannot stream for EC-FS or Inf-FS."""
    if affinity != "ecfs":  # the in-memory refusal
        return ValueError(
            f"affinity={affinity!r} is defined for classification and y=None "
            f"only ({how})"
        )
    return ValueError(
        f"method={method!r} cannot stream a regression ({how}): its relevance "
        "is the Spearman correlation of each column with the target, which "
        "needs the ranks of all rows at once, not sums over batches; rank the "
        "data in memory, or pass task='classification' for a class target"
    )


def _supervised_graph(parts, features, target, options, settings, client, method):
    """Pass 1, the medians, the sums pass and the graph built from them as
    :func:`featimp._affinity.feature_affinity` builds it: ``(graph, table
    of nodes, rows per part, task)``."""
    columns, observed, _, rows, n = _first_pass(
        parts,
        features,
        target,
        settings,
        keep_target=False,
        sample=False,
        client=client,
    )
    schema = parts[0].schema
    task = options["task"]
    if task == "auto":
        task = _stream_task(observed, schema.field(target).type, n, settings)
        if task == "regression":
            how = f"task='auto' reads target {target!r} as continuous"
            raise _regression_error(method, options.get("affinity", "ecfs"), how)
    coder = _target_coder(observed, task, 0, settings)
    reference = _resolve_mode(options["mode"], task, coder.card)
    plan = _graph_plan(columns, schema, n, settings)
    _warn_unusable(plan.table.columns)
    imputed = [columns[name] for name in plan.numeric if columns[name].n_missing]
    fills = _medians(parts, imputed, settings, client) if imputed else {}
    args = [(plan, coder, settings.batch_size)] * len(parts)
    sums = _map_reduce(
        parts, _graph_part, args, _merge_sums, client, "EC-FS statistics"
    )
    moments, joint, constant = _node_statistics(plan, sums, fills)
    relevance = fisher_from_moments(moments, reference=reference)
    if options.get("affinity", "ecfs") == "ecfs":
        su = uncertainty_from_tables(joint, constant, sums.sizes)
        relevance = combined_relevance(relevance, su)
    standardize = resolve_standardize(options["standardize"], plan.table)
    sigma = spread_from_moments(moments, n, standardize)
    graph = supervised_affinity(options["alpha"], relevance, sigma)
    return graph, plan.table, rows, task


def _ecfs_scores(parts, features, target, params, settings, client=None):
    """:func:`featimp.eigenvector_centrality_importances` from streamed sums."""
    options = {**_keyword_defaults(eigenvector_centrality_importances), **params}
    graph, table, rows, task = _supervised_graph(
        parts, features, target, options, settings, client, "ecfs"
    )
    vector = leading_eigenpair(graph, options["solver"])[1]
    return _Ranked(table.aggregate(vector, "max"), {}, rows, task)


def _inffs_scores(parts, features, target, params, settings, client=None):
    """:func:`featimp.inffs_importances` from streamed sums."""
    options = {**_keyword_defaults(inffs_importances), **params}
    graph, table, rows, task = _supervised_graph(
        parts, features, target, options, settings, client, "inffs"
    )
    paths = path_scores(graph, options["decay"], options["solver"])
    return _Ranked(table.aggregate(paths, "max"), {}, rows, task)


_MI_PARAMS = {
    "task", "n_bins", "null_correction", "n_permutations", "random_state",
    "discrete_features", "sample_size",
}  # fmt: skip
_GRAPH_PARAMS = {"alpha", "mode", "task", "standardize", "solver"}
#: Streaming parameters of every method (besides each method's own).
_STREAM_PARAMS = {"max_categories"}
# Per method: its scores, and the parameters it streams, those of the
# in-memory function checked against its own constraints.
_METHODS = {
    "mi": (_mi_scores, _MI_CONSTRAINTS, _MI_PARAMS),
    "mrmr": (_mrmr_scores, _MRMR_CONSTRAINTS, _MI_PARAMS | {"n_features", "criterion"}),
    "ecfs": (
        _ecfs_scores,
        EigenvectorCentralitySelector._parameter_constraints,
        _GRAPH_PARAMS,
    ),
    "inffs": (
        _inffs_scores,
        InfFSSelector._parameter_constraints,
        _GRAPH_PARAMS | {"decay", "affinity"},
    ),
}
METHODS = tuple(_METHODS)
#: In-memory parameters taken only at the value that streams, and why no
#: other value does.
_FIXED = {
    "mi": {
        "estimator": (
            "binned",
            "the KSG estimator needs each row's nearest neighbours among all "
            "rows, not sums over batches",
        )
    }
}


def _check_params(method: str, params: dict) -> None:
    _, constraints, names = _METHODS[method]
    fixed = _FIXED.get(method, {})
    for name, (value, why) in fixed.items():
        if name in params and params[name] != value:
            raise ValueError(
                f"{name}={params[name]!r} cannot stream: {why}; use {name}={value!r}"
            )
    unknown = set(params) - names - _STREAM_PARAMS - set(fixed)
    if unknown:
        raise TypeError(f"rank_dataset got unexpected parameters {sorted(unknown)}")
    if method == "mrmr" and params.get("null_correction") == "zscore":
        raise ValueError(
            "null_correction='zscore' is not available for method='mrmr' "
            "(nor in memory, in mrmr_importances): use True or False"
        )
    given = {k: v for k, v in params.items() if k in names and k in constraints}
    validate_parameter_constraints(
        {k: constraints[k] for k in given}, given, caller_name="rank_dataset"
    )
    if method in ("ecfs", "inffs") and params.get("task") == "regression":
        affinity = params.get("affinity", "ecfs")
        raise _regression_error(method, affinity, "task='regression'")


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _check_target(method: str, target) -> None:
    if target is not None:
        return
    if method in ("ecfs", "inffs"):
        raise ValueError(
            f"method={method!r} without a target (target=None, the unsupervised "
            "graph) cannot stream: its kernel is the Spearman correlation of "
            "every pair of columns, which needs the ranks of all rows at once "
            "and the whole d x d matrix; rank the data in memory"
        )
    raise ValueError(f"method={method!r} ranks against a target: give target=COLUMN")


def _features(schema, target: str, names) -> dict:
    """The columns to rank, by name, with their kinds: ``names`` in their
    order (each a column of the dataset other than the target), or every
    column but the target."""
    if names is None:
        names = [n for n in schema.names if n != target]
    elif isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"features must be a list of column names, got {names!r}")
    names = list(names)
    unknown = [n for n in names if n not in schema.names or n == target]
    if unknown:
        raise ValueError(
            f"features {format_names(unknown)} are not columns of the dataset "
            "besides the target"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"features {format_names(repeated)} are given twice")
    if not names:
        raise ValueError("the dataset has no feature columns besides the target")
    return {n: _kind(schema.field(n).type) for n in names}


def check_selection(n_features_to_select=None, threshold=None, n_features=None):
    """Refuse a selection :func:`rank_dataset` cannot make, before any read:
    a count that is not >= 1 (or more than ``n_features``, when known), a
    fraction outside (0, 1], a threshold that is not a number, ``"mean"``,
    ``"median"`` or a scaled one."""
    k = n_features_to_select
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise ValueError(f"n_features_to_select must be a number, got {k!r}")
        integral = isinstance(k, numbers.Integral)
        if (integral and k < 1) or (not integral and not 0 < k <= 1):
            raise ValueError(
                "n_features_to_select must be an int >= 1 or a fraction in "
                f"(0, 1], got {k!r}"
            )
        if integral and n_features is not None and k > n_features:
            raise ValueError(
                f"n_features_to_select={k} is larger than the number of "
                f"features ({n_features})"
            )
    if threshold is not None:
        parse_threshold(threshold)


def rank_dataset(
    source,
    target,
    *,
    method="mi",
    client=None,
    batch_size=None,
    n_features_to_select=None,
    threshold=None,
    features=None,
    **params,
) -> pd.DataFrame:
    """Rank the features of a dataset read in batches, never whole.

    Four methods stream, each equal to its in-memory function on the
    concatenated rows (see the module docstring for how, and where to the
    bit): ``"mi"``, ``"mrmr"``, ``"ecfs"`` and ``"inffs"``, whose
    statistics are sums over rows. The others do not, and are a ValueError:
    ``"kan"``, ``"shap"``, ``"permutation"``, ``"gain"``, ``"lasso"``,
    ``"svm_rfe"`` and ``"responsiveness"`` fit a model on all rows jointly,
    which is an optimisation, not a sum; ``"consensus"`` and
    ``"significance"`` run such methods; the KSG estimator of MI
    (``estimator="knn"``) needs each row's nearest neighbours among all
    rows; and the Spearman-based modes of EC-FS and Inf-FS (a regression
    target, or ``target=None``) need the ranks of all rows.

    Parameters
    ----------
    source : str, path, list of them, pyarrow.dataset.Dataset, or dask DataFrame
        Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) files: paths,
        globs (``"events/*.parquet"``) or directories, as local paths,
        ``file://`` URLs or fsspec URLs (``"s3://bucket/events/*.parquet"``,
        with the filesystem's package installed, e.g. ``s3fs``), or a
        dataset. Every file must have the same schema and hold ``target``.
        Files are read in sorted path (or URL) order. Or a dask DataFrame,
        each partition a part, in partition order, typed by the frame's
        dtypes (an ``object`` column as text); its index is not read.
        Without a client each pass computes one partition at a time in this
        process (memory holds one partition, never the frame) and reads it
        in slices of
        ``batch_size`` rows. The result equals that of the same rows in
        Parquet files.
    target : str
        The target column.
    method : {"mi", "mrmr", "ecfs", "inffs"}, default="mi"
        ``"mi"``: the binned MI of :func:`featimp.mutual_info_importances`
        (``estimator="binned"``), with its null correction. ``"mrmr"``: the
        greedy order of :func:`featimp.mrmr_importances` and its scores
        ``(d - position) / d``; after the counting pass, each pick reads the
        picked column alone (its codes, one small integer a row, are held
        with the target's) and makes one more pass that counts every
        remaining column against it, and for ``criterion="mid"`` with the
        null correction against its permutations too (kept in memory, 4
        bytes a row each): time grows as rows x columns x picks, never
        columns squared. ``"ecfs"`` and ``"inffs"``:
        :func:`featimp.eigenvector_centrality_importances` and
        :func:`featimp.inffs_importances` for a class target, on the same
        one-hot encoding (a node per category, missing values median-imputed
        with an indicator node; each column scores its best node): two or
        three passes (values, the medians if a numeric column has missing
        values, the statistics), nothing kept per row.
    client : distributed.Client or None, default=None
        With a client, every pass (the first, the counting passes, mRMR's
        per-pick passes, EC-FS's median and statistics passes) runs as one
        task per part on its workers (which must reach the files by the
        same path or URL; a dask frame is computed there once, and each
        task gets its partition there) and their results are merged
        pairwise, as a tree, the same tree as without a client: the result
        equals the single-process one to the bit. Only the codes of each
        column mRMR picks with the permutation null (``criterion="mid"``,
        ``null_correction=True``) are read into this process (a dask
        partition fetched for it, one at a time), and the target's values
        when the permutation null needs them.
    features : list of str or None, default=None
        The columns to rank, in this order (only they and the target are
        read); None: every column but the target.
    n_features_to_select, threshold : default=None
        The selection rule of every selector, for the ``selected`` column:
        the best ``k`` (an int, or a fraction of the features), the features
        scoring at least ``threshold`` (a number, ``"mean"``, ``"median"``,
        ``"1.5*mean"``), both, or with neither the best half.
    batch_size : int or None, default=None
        Rows per record batch (None: 65,536); memory grows with it. The MI
        and mRMR results do not depend on it (they are counts). EC-FS's
        moments are merged batch by batch, so another batch size changes
        its result by rounding (below 5e-15 relative where measured). With
        ``null_correction=False`` or ``"expected"``, and for ``"ecfs"``
        and ``"inffs"``, nothing else grows with the rows: each batch's
        target is coded from the batch (classes or quantile edges found in
        the first pass, the in-memory ones when the sample holds every
        value), and the null is the exact permutation mean of the tables'
        margins. The permutation null (``True``, ``"zscore"``) holds one
        small code per row and target, and mRMR's MID its permutations.
    **params
        ``task``, ``n_bins``, ``null_correction``, ``n_permutations``,
        ``random_state`` as in :func:`featimp.mutual_info_importances`
        (``estimator`` only ``"binned"``, its default), and
        for ``"mrmr"`` ``n_features`` (picks; None: all) and ``criterion``
        (``"mid"``, ``"miq"``) as in :func:`featimp.mrmr_importances`, whose
        ``null_correction`` is a bool or ``"expected"`` (``"zscore"`` is a
        ValueError, as it is not an mRMR option in memory either);
        ``discrete_features`` ``"auto"`` or a bool; ``sample_size``
        (100,000): a continuous column with at most this many observed
        values gets the in-memory quantile edges of all of them, a larger
        one the edges of its fine histogram (within 0.4 %; see
        :mod:`featimp._streaming`), and a regression target's edges come
        from a sample of this many values. For ``"ecfs"``: ``alpha``, ``mode``,
        ``task``, ``standardize``, ``solver`` as in
        :func:`featimp.eigenvector_centrality_importances`, and for
        ``"inffs"`` also ``decay`` and ``affinity`` as in
        :func:`featimp.inffs_importances`; ``task="regression"`` (or a
        target that ``"auto"`` reads as continuous) is a ValueError, as is
        ``target=None``. For every method ``max_categories`` (10,000):
        for MI and mRMR the distinct values beyond which a discrete column
        is hashed into that many buckets; for EC-FS and Inf-FS the
        categories beyond which a text column is a ValueError (each is a
        node), and the distinct values up to which a numeric column's
        median is found in one pass.

    Returns
    -------
    DataFrame
        Columns ``rank`` (1 = most important, ties in column order),
        ``feature``, ``importance`` and ``selected`` (as ``featimp rank``
        prints them), sorted by rank. ``attrs["hashed"]`` maps each
        hashed column to its estimated collision rate,
        ``attrs["n_samples"]`` is the number of rows, ``attrs["n_files"]``
        of files (of partitions, for a dask frame) and ``attrs["task"]``
        the task ranked for.

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
    >>> rank_dataset(folder, "y", method="ecfs", standardize=True)["feature"].tolist()
    ['signal', 'noise']
    """
    if method not in METHODS:
        raise ValueError(
            f"rank_dataset supports method in {METHODS}, got {method!r} "
            "(see the docstring for why the others do not stream)"
        )
    _check_params(method, params)
    _check_target(method, target)
    check_selection(n_features_to_select, threshold)
    discrete = params.get("discrete_features", "auto")
    if not (isinstance(discrete, bool) or _is_auto(discrete)):
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
    features = _features(schema, target, features)
    check_selection(n_features_to_select, threshold, len(features))
    parts = _on_client(parts, client)
    score = _METHODS[method][0]
    found = score(parts, features, target, params, settings, client)
    scores = found.scores
    ranking = ranking_from_importances(scores)
    table = pd.DataFrame(
        {
            "rank": ranking,
            "feature": list(features),
            "importance": scores,
            "selected": support_mask(scores, ranking, n_features_to_select, threshold),
        }
    )
    table = table.sort_values("rank").reset_index(drop=True)
    table.attrs["hashed"] = found.hashed
    table.attrs["n_samples"] = int(found.rows.sum())
    table.attrs["n_files"] = len(parts)
    table.attrs["task"] = found.task
    return table
