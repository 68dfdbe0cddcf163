"""Progress of long computations, for whoever listens.

The loops that take the time (KAN networks over seeds and folds, bootstrap
and consensus resamples, significance refits, SVM-RFE eliminations, mRMR
steps, batches of explained rows) go through :func:`track`. Without a
listener it is the plain loop, so library calls stay quiet by default;
:func:`listen_progress` (``featimp.listen_progress``) installs one for a
block of code: the CLI draws its bar from it and the service writes a job's
progress from it, so both move with the work rather than with three coarse
steps.

Nested loops compose: the 3rd of 15 KAN fits inside the 4th of 10
resamples is at ``(3 + 3/15) / 10`` of the resampling, and the stage reads
``"resamples 4/10 > KAN fits 3/15"``. A loop's items may carry weights (a
full fit before ten resamples weighs 1 against 10). The listener is held in
a context variable: threads and worker processes that a loop starts report
nothing themselves; the loop reports as their results come back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from joblib import Parallel
from joblib.parallel import get_active_backend


@dataclass(frozen=True)
class Progress:
    """Where the listened-to block is: ``fraction`` of it done, in [0, 1],
    and the nested ``stage`` it is in. A loop over rows (a streamed pass
    over files, :func:`featimp.rank_dataset`) also says how many ``rows``
    it has read since that loop began, and how many a second."""

    fraction: float
    stage: str
    rows: int | None = None
    rows_per_second: float | None = None

    def describe(self) -> str:
        """The stage, with the rows read and their rate when counted.

        >>> Progress(0.5, "counting 2/4", 1_500_000, 612_345.6).describe()
        'counting 2/4, 1,500,000 rows at 612,346 rows/s'
        """
        if self.rows is None:
            return self.stage
        return f"{self.stage}, {self.rows:,} rows at {self.rows_per_second:,.0f} rows/s"


@dataclass
class _Level:
    stage: str
    weights: Sequence[float]
    done: int = 0
    done_weight: float = 0.0
    total: float = field(init=False)

    def __post_init__(self):
        self.total = float(sum(self.weights)) or 1.0

    def label(self) -> str:
        n = len(self.weights)
        return f"{self.stage} {min(self.done + 1, n)}/{n}"


@dataclass
class _Listener:
    callback: Callable[[Progress], None]
    levels: list[_Level] = field(default_factory=list)
    last: Progress | None = None
    rows: int | None = None
    rows_since: float = 0.0

    def start_rows(self) -> None:
        """A new loop over rows (a pass over files): they count from 0."""
        self.rows, self.rows_since = None, time.monotonic()

    def report(self) -> None:
        fraction, scale = 0.0, 1.0
        for level in self.levels:
            fraction += scale * level.done_weight / level.total
            if level.done >= len(level.weights):
                break
            scale *= level.weights[level.done] / level.total
        stage = " > ".join(level.label() for level in self.levels)
        rate = None
        if self.rows is not None:
            rate = self.rows / max(time.monotonic() - self.rows_since, 1e-9)
        self.last = Progress(min(1.0, fraction), stage, self.rows, rate)
        self.callback(self.last)


_listener: ContextVar[_Listener | None] = ContextVar("featimp_progress", default=None)


@contextmanager
def listen_progress(callback: Callable[[Progress], None]):
    """Call ``callback(progress)`` as the tracked loops inside the block
    advance (:class:`Progress`); it may raise to stop the work.

    >>> from featimp import MRMRSelector, listen_progress
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> seen = []
    >>> with listen_progress(seen.append):
    ...     _ = MRMRSelector(random_state=0).fit(X, y)
    >>> seen[-1].fraction, seen[-1].stage
    (1.0, 'mRMR steps 30/30')
    """
    listener = _Listener(callback)
    token = _listener.set(listener)
    try:
        yield
        # A loop left early (a break) reported less: the block is done.
        if listener.last is None or listener.last.fraction < 1:
            callback(Progress(1.0, listener.last.stage if listener.last else ""))
    finally:
        _listener.reset(token)


def track(
    items: Iterable,
    stage: str,
    *,
    total: int | None = None,
    weights: Sequence[float] | None = None,
    bar: bool = False,
    rows: bool = False,
) -> Iterator:
    """The items of ``items``, reporting to the listener as each is done.

    ``total`` is their number when ``items`` has no length; ``weights``
    their shares of the work (equal by default); ``bar`` also draws a tqdm
    bar (an estimator's ``verbose=True``), with or without a listener;
    ``rows``: the loop reads rows (counted by :func:`add_rows`), which
    count from 0 when it starts.
    """
    if weights is None:
        n = len(items) if total is None else total  # type: ignore[arg-type]
        weights = [1.0] * n
    if bar:
        from tqdm import tqdm

        items = tqdm(items, total=len(weights), desc=stage, unit="step")
    listener = _listener.get()
    if listener is None:
        yield from items
        return
    level = _Level(stage, weights)
    depth = len(listener.levels)
    if rows:
        listener.start_rows()
    listener.levels.append(level)
    try:
        listener.report()
        for item in items:
            del listener.levels[depth + 1 :]  # a nested loop left early
            yield item
            del listener.levels[depth + 1 :]
            level.done_weight += weights[min(level.done, len(weights) - 1)]
            level.done += 1
            listener.report()
    finally:
        if len(listener.levels) > depth and listener.levels[depth] is level:
            del listener.levels[depth:]


def add_rows(n: int) -> None:
    """Count ``n`` more rows read inside the current tracked loop (a batch of
    a streamed file); the listener hears of them at once."""
    listener = _listener.get()
    if listener is None or not listener.levels:
        return
    listener.rows = (listener.rows or 0) + int(n)
    listener.report()


@contextmanager
def phases(stage: str, weights: Sequence[float]):
    """Steps of unequal work in straight-line code: the block receives an
    ``advance()`` that ends the current phase and starts the next. One
    phase adds no level (its loops report as they would alone)."""
    if len(weights) < 2:
        yield lambda: None
        return
    steps = track(range(len(weights)), stage, weights=weights)
    next(steps)
    try:
        yield lambda: next(steps, None)
        for _ in steps:  # the phases the block did not advance past
            pass
    finally:
        steps.close()


def parallel_results(
    calls: list, stage: str, *, n_jobs=None, bar: bool = False
) -> list:
    """``joblib.Parallel(n_jobs)(calls)`` as a list, tracked as the results
    come back (where the active backend streams them; otherwise all at the
    end)."""
    backend, _ = get_active_backend()
    stream = getattr(backend, "supports_return_generator", False)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator" if stream else "list")
    return list(track(parallel(calls), stage, total=len(calls), bar=bar))
