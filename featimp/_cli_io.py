"""Reading and writing the CLI's files, its parameters, and its warnings
as lines: shared by :mod:`featimp.cli` and :mod:`featimp._cli_explain`."""

from __future__ import annotations

import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from featimp._cli_checks import UsageError
from featimp._progress import listen_progress


def parse_value(text: str):
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, else the string."""
    literals = {"True": True, "False": False, "None": None}
    if text in literals:
        return literals[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_params(pairs: list[str]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects NAME=VALUE, got {pair!r}")
        params[key.strip()] = parse_value(value.strip())
    return params


def read_table(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no such file: {path}")
    suffix = "".join(p.suffixes[-2:]) if p.suffix == ".gz" else p.suffix
    try:
        if suffix in (".csv", ".csv.gz", ".txt"):
            return pd.read_csv(p)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
    except (ValueError, OSError, ImportError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    raise UsageError(f"unsupported file type {p.suffix!r} (use .csv or .parquet)")


def write_table(frame: pd.DataFrame, path: str, *, index: bool = False) -> None:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=index)
    elif suffix == ".json":
        frame.to_json(path, orient="records", indent=2)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=index)
    else:
        raise UsageError(
            f"unsupported output type {suffix!r} (use .csv, .json or .parquet)"
        )


@contextmanager
def warnings_as_lines(stream=None):
    """Print each warning raised inside as one line ``featimp: warning: ...``.

    A warning repeated (a method fitted on several folds warns on each)
    prints once.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            yield
        finally:
            for line in dict.fromkeys(map(warning_line, caught)):
                print(f"featimp: warning: {line}", file=stream or sys.stderr)


def warning_line(record: warnings.WarningMessage) -> str:
    """The warning's message on one line, after its category unless plain."""
    message = " ".join(str(record.message).split())
    if record.category is UserWarning:
        return message
    return f"{record.category.__name__}: {message}"


@contextmanager
def writing(path: str, option: str):
    """An OSError while writing ``path`` (disk full, ...) as one line."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"{option} {path}: cannot write: {reason}") from None


#: Least seconds between two redraws of the bar (tqdm's ``mininterval``).
BAR_SECONDS = 0.1


@contextmanager
def progress_bar(quiet: bool):
    """A bar on stderr (unless ``quiet``) that moves with the library's
    tracked loops (:mod:`featimp._progress`), their stage as its postfix:
    per KAN network, bootstrap resample, significance refit, mRMR step or
    batch of explained rows, not per coarse step of the command."""
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        desc="featimp",
        file=sys.stderr,
        disable=True if quiet else None,
        leave=False,
        mininterval=BAR_SECONDS,
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {elapsed}<{remaining}"
        "{postfix}",
    )

    def advance(progress):
        bar.set_postfix_str(progress.describe(), refresh=False)
        bar.update(100 * progress.fraction - bar.n)

    with bar, listen_progress(advance):
        yield bar
