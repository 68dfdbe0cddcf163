"""Training speed of our KAN vs pykan (the reference KAN library).

Same data (breast_cancer, standardised, all 569 rows), architecture
[30, 61, 2], grid_size 5, spline order 3, Adam (lr 0.01), mini-batches of 64,
cross-entropy, the same number of steps, no grid updates during the timed
steps. pykan runs in its own virtualenv (it pins its own dependencies) as a
subprocess of this script, in the same run; each side is timed inside its own
process after a warm-up, so interpreter and import start-up are excluded.
pykan gets its fastest settings (symbolic branch and checkpoints off) and
runs at 1 thread and at every CPU, the faster counting (both are in the
JSON); ours trains on one thread, as every fit does. A run on a loaded
machine is flagged (see benchmarks/_environment.py): torch's multi-thread
kernels slow down 20-70x when the cores are busy.

Also times a full ``KANSelector(cv=5, n_seeds=3)`` fit on breast_cancer.

    python benchmarks/bench_kan.py [--pykan-python /tmp/pykan-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _environment

from featimp.kan import KANSelector
from featimp.kan._config import NetworkConfig
from featimp.kan._train import predict_raw, train_network

RESULTS = Path(__file__).parent / "results" / "kan_bench.json"
EPOCHS = 20
BATCH = 64

PYKAN_SCRIPT = """
import json, sys, time
import numpy as np, torch
from kan import KAN
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
steps = int(sys.argv[1]); batch = int(sys.argv[2])
torch.set_num_threads(int(sys.argv[3]))
X, y = load_breast_cancer(return_X_y=True)
X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32)
y = torch.tensor(y, dtype=torch.long)
data = {"train_input": X, "train_label": y, "test_input": X, "test_label": y}
def run(n):
    model = KAN(width=[30, 61, 2], grid=5, k=3, seed=0, symbolic_enabled=False,
                auto_save=False, save_act=False)
    start = time.perf_counter()
    model.fit(data, opt="Adam", lr=0.01, steps=n, batch=batch,
              update_grid=False, loss_fn=torch.nn.CrossEntropyLoss(), log=10**9)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = float((model(X).argmax(1) == y).float().mean())
    return seconds, acc
run(3)
seconds, acc = run(steps)
print(json.dumps({"seconds": seconds, "steps": steps, "accuracy": acc,
                  "threads": torch.get_num_threads(), "dtype": "float32"}))
"""


def time_ours(X, y):
    config = NetworkConfig(
        max_iter=EPOCHS, batch_size=BATCH, update_grid=False, learning_rate=0.01
    )
    train_network(
        X,
        y,
        task="classification",
        n_outputs=2,
        config=NetworkConfig(max_iter=1),
        seed=0,
    )  # warm-up
    start = time.perf_counter()
    network, _, _ = train_network(
        X, y, task="classification", n_outputs=2, config=config, seed=0
    )
    seconds = time.perf_counter() - start
    accuracy = float((predict_raw(network, X).argmax(1) == y).mean())
    steps = EPOCHS * math.ceil(len(X) / BATCH)
    return {
        "seconds": seconds,
        "steps": steps,
        "accuracy": accuracy,
        "threads": 1,
        "dtype": "float64",
    }


def time_pykan(python, steps, threads):
    out = subprocess.run(
        [python, "-c", PYKAN_SCRIPT, str(steps), str(BATCH), str(threads)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/tmp",
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_selector():
    X, y = load_breast_cancer(return_X_y=True)
    start = time.perf_counter()
    KANSelector(cv=5, n_seeds=3, random_state=0).fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pykan-python", default="/tmp/pykan-venv/bin/python")
    args = parser.parse_args(argv)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = time_ours(X, y)
    runs = {
        threads: time_pykan(args.pykan_python, ours["steps"], threads)
        for threads in sorted({1, os.cpu_count() or 1})
    }
    pykan = min(runs.values(), key=lambda run: run["seconds"])
    ours_ms = 1e3 * ours["seconds"] / ours["steps"]
    pykan_ms = 1e3 * pykan["seconds"] / pykan["steps"]
    selector_seconds = time_selector()
    result = {
        "ours": {**ours, "ms_per_step": ours_ms},
        "pykan": {**pykan, "ms_per_step": pykan_ms},
        "pykan_by_threads": {
            str(t): {**r, "ms_per_step": 1e3 * r["seconds"] / r["steps"]}
            for t, r in runs.items()
        },
        "speedup_per_step": pykan_ms / ours_ms,
        "selector_cv5_seeds3_seconds": selector_seconds,
        **_environment.environment("torch"),
    }
    RESULTS.write_text(json.dumps(result, indent=1))
    print(f"ours  {ours_ms:8.2f} ms/step  (accuracy {ours['accuracy']:.3f})")
    for t, r in result["pykan_by_threads"].items():
        print(f"pykan {r['ms_per_step']:8.2f} ms/step on {t} thread(s)")
    print(f"speed-up per step against pykan's best: {pykan_ms / ours_ms:.1f}x")
    print(f"KANSelector(cv=5, n_seeds=3) on breast_cancer: {selector_seconds:.1f}s")


if __name__ == "__main__":
    main()
