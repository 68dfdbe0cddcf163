"""Load and try an uploaded model in a throwaway process with hard limits.

XGBoost and LightGBM trust their files, and the checks of ``_xgboost.py``
and ``_lightgbm.py`` are only as complete as what is known to break them.
So the web process never loads an upload: a fresh interpreter (spawned, not
forked from the threaded web process) limits its own address space and CPU
time with ``resource.setrlimit``, then loads the model as a job does
(:func:`~service.model_files.load_model`) and predicts a few synthetic rows
the way a responsiveness job does. A crash, a limit or the wall clock there
is a 422 for that upload and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from service.model_files._common import (
    LIGHTGBM_TEXT,
    XGBOOST_JSON,
    ModelDescription,
    ModelFileError,
    ModelLimits,
    reason,
)
from service.model_files._loading import load_model
from service.rlimits import limit_cpu, limit_memory

N_ROWS = 16
#: What Python, glibc or a C++ runtime says when an allocation fails.
_OUT_OF_MEMORY = (
    "MemoryError",
    "bad_alloc",
    "Cannot allocate memory",
    "failed to map segment",
    "out of memory",
)
_LIBRARIES = {XGBOOST_JSON: "XGBoost", LIGHTGBM_TEXT: "LightGBM"}
_CHILD = "from service.model_files._sandbox import main; main()"


def probe_model(path: Path, model: ModelDescription, limits: ModelLimits) -> None:
    """Load ``path`` and predict with it in a sandbox; ModelFileError if that fails.

    Raises ImportError when the model's library is not installed.
    """
    command = [
        sys.executable,
        "-P",
        "-c",
        _CHILD,
        str(path),
        model.format,
        str(model.n_features),
        str(model.n_classes),
        str(limits.sandbox_memory_mb),
        str(limits.sandbox_seconds),
    ]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.sandbox_seconds,
            env=_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ModelFileError(
            f"loading the model and predicting {N_ROWS} rows took more than "
            f"{limits.sandbox_seconds:g} s, this service's limit"
        ) from None
    outcome(done.returncode, done.stdout, done.stderr, model.format, limits)


def _environment() -> dict[str, str]:
    # Nothing of the service's configuration (such as its API keys) goes in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEATIMP_")}
    root = str(Path(__file__).resolve().parents[2])  # holds the service package
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env.update(dict.fromkeys(threads, "1"), PYTHONDONTWRITEBYTECODE="1")
    return env


def outcome(
    returncode: int, stdout: bytes, stderr: bytes, fmt: str, limits: ModelLimits
) -> None:
    """Raise what the sandbox's exit and reports mean; nothing if all went well.

    Examples
    --------
    >>> from service.config import Settings
    >>> limits = ModelLimits.from_settings(Settings(model_sandbox_memory_mb=512))
    >>> outcome(-11, b'{"kind": "loaded"}', b"", XGBOOST_JSON, limits)
    Traceback (most recent call last):
    ...
    service.model_files._common.ModelFileError: the model crashed XGBoost \
(SIGSEGV) while predicting
    >>> outcome(1, b'{"kind": "memory"}', b"", XGBOOST_JSON, limits)
    Traceback (most recent call last):
    ...
    service.model_files._common.ModelFileError: loading the model and \
predicting with it exceeded the memory limit of 512 MB
    """
    last = {"kind": "started"}
    for line in stdout.decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError):  # a line cut short by a crash
            last = json.loads(line)
    if returncode == 0 and last["kind"] == "ok":
        return
    errors = stderr.decode("utf-8", "replace")
    said = errors + last.get("detail", "")
    if last["kind"] == "memory" or any(s in said for s in _OUT_OF_MEMORY):
        raise ModelFileError(
            f"loading the model and predicting with it exceeded the memory "
            f"limit of {limits.sandbox_memory_mb} MB"
        )
    if returncode < 0:
        raise _killed(-returncode, last["kind"], errors, fmt, limits)
    if last["kind"] == "import":
        raise ImportError(last["detail"])
    if last["kind"] == "invalid":
        raise ModelFileError(last["detail"])
    raise ModelFileError(
        f"the model could not be checked: its check exited with code {returncode}"
    )


def _killed(number: int, stage: str, errors: str, fmt: str, limits) -> ModelFileError:
    name = _signal_name(number)
    if number == signal.SIGXCPU:
        return ModelFileError(
            f"loading the model and predicting with it used more than "
            f"{math.ceil(limits.sandbox_seconds)} s of CPU time, this service's limit"
        )
    library = _LIBRARIES.get(fmt, "its library")
    if stage == "loaded":
        where = f"{library} ({name}) while predicting"
    else:
        where = f"{library}'s parser ({name})"
    lines = [line.strip() for line in errors.splitlines() if line.strip()]
    said = f": {lines[-1][:200]}" if lines and number == signal.SIGABRT else ""
    return ModelFileError(f"the model crashed {where}{said}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def main(argv: list[str] | None = None) -> None:
    """The sandbox process: limit itself, load, predict, report on stdout."""
    path, fmt, n_features, n_classes, memory_mb, seconds = argv or sys.argv[1:]
    report = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the libraries print goes to stderr, reports to stdout

    def say(kind: str, detail: str = "") -> None:
        report.write(json.dumps({"kind": kind, "detail": detail}) + "\n")
        report.flush()

    limit_memory(int(memory_mb))
    limit_cpu(float(seconds))
    try:
        model = load_model(Path(path), fmt)
        say("loaded")
        _predict(model, fmt, int(n_features), int(n_classes))
    except MemoryError:
        say("memory")
    except ImportError as exc:
        say("import", str(exc))
    except ModelFileError as exc:
        say("invalid", str(exc))
    except Exception as exc:  # whatever the library raises: the model is bad
        say("invalid", f"the model fails to predict: {reason(exc)}")
    else:
        say("ok")


def probe_rows(n_features: int) -> np.ndarray:
    """Synthetic rows from 0 to about 1e6 in size, the same every time.

    Examples
    --------
    >>> probe_rows(3).shape
    (16, 3)
    """
    rng = np.random.default_rng(0)
    scales = np.concatenate([[0.0], np.logspace(-1, 6, N_ROWS - 1)])
    return rng.standard_normal((N_ROWS, n_features)) * scales[:, None]


def _predict(model, fmt: str, n_features: int, n_classes: int) -> None:
    """Predict as a responsiveness job does: a DataFrame, then the explainer's
    arrays (a DataFrame in the model's column order if it has names)."""
    import pandas as pd

    if fmt == XGBOOST_JSON:
        model.set_params(n_jobs=1)
    rows = probe_rows(n_features)
    names = getattr(model, "feature_names_in_", None)
    columns = [f"f{i}" for i in range(n_features)] if names is None else list(names)
    outputs = [model.predict(pd.DataFrame(rows, columns=columns))]
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        outputs.append(model.predict(rows))
    else:
        outputs.append(model.predict(pd.DataFrame(rows, columns=list(names))))
    for predictions in outputs:
        predictions = np.asarray(predictions)
        if (
            predictions.shape != (N_ROWS,)
            or not np.isin(predictions, np.arange(n_classes)).all()
        ):
            raise ModelFileError(
                f"the model does not predict one of its {n_classes} classes "
                f"(0..{n_classes - 1}) for each row"
            )
    if len(model.classes_) != n_classes:
        raise ModelFileError(
            f"the model has {len(model.classes_)} classes, its header says {n_classes}"
        )
