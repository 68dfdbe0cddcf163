"""Training speed of our KAN vs pykan and efficient-kan, and against a floor.

Every side trains on the same data (breast_cancer, standardised, all 569
rows) the same network, [30, 61, 2] with grid_size 5 and spline order 3
(SiLU base branch), with Adam (lr 0.01), mini-batches of 64, cross-entropy
and the same number of steps (20 epochs of our batches: 180), without grid
updates. Each configuration is timed in its own process after a warm-up, as
the best of 9 runs: 3 rounds of every side in turn, 3 runs each, so a slow
spell of the shared machine hits every side. Reported per step:

- **ours**: ``featimp.kan._train.train_network``, float64, one torch thread
  (as every fit does). Its time is the whole call: building the network and
  the inputs' basis (cached, since it only changes with the grid) as well.
- **pykan**, the reference KAN library, float32, in its own virtualenv (it
  pins its own dependencies) as a subprocess of this script, in the same
  run; its fastest settings (symbolic branch, activations and checkpoints
  off); ``model.fit`` is timed, not the model's construction.
- **efficient-kan** (``ikan.KAN``, in the same virtualenv), float32 as
  shipped, its default initialisation; a plain loop over shuffled batches
  is timed, not the model's construction.
- **floor**: bare torch in this process with our step's matrix shapes and
  nothing else: per layer ``basis @ W_spline + SiLU(x) @ W_base`` with
  ``W_spline`` of shape (in * (grid_size + order), out); the first layer's
  basis is precomputed, a hidden layer's is its input repeated along a new
  last axis (no spline is evaluated); float64, one thread, the same
  batches, Adam (fused, as ours) and per-step loss read-out as ours.

The peers run at 1 thread and at 2 and every CPU, each counted at its
fastest. ``speedup_vs_fastest_peer`` is the fastest peer's ms/step over
ours, ``ours_over_floor`` ours over the floor's; ``speedup_per_step`` is
against pykan alone. Each side records its accuracy on the training data
and its trained parameters (pykan's ``parameters_requires_grad`` also
counts its symbolic branch's, which get no gradient). A run on a loaded
machine is flagged (see benchmarks/_environment.py): torch's multi-thread
kernels slow down 20-70x when the cores are busy.

Also times, once each, a full ``KANSelector(cv=5, n_seeds=3)`` fit on
breast_cancer and a default ``KANSelector(random_state=0)`` fit on German
credit in the recourse encoding (``load_german_recourse``: 1,000 rows, 36
columns), serial and with ``n_jobs=2`` twice (cold workers, then warm
ones, which joblib keeps), with the ten features each ranks first.

    python benchmarks/bench_kan.py [--pykan-python /tmp/pykan-venv/bin/python]
        [--skip-german]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _environment

from featimp.datasets import load_german_recourse
from featimp.kan import KANSelector
from featimp.kan._config import NetworkConfig
from featimp.kan._train import predict_raw, torch_threads, train_network

RESULTS = Path(__file__).parent / "results" / "kan_bench.json"
EPOCHS = 20
BATCH = 64
REPEATS = 3
#: Rounds of every side in turn (each its REPEATS runs), so a slow spell of
#: the shared machine hits every side, not just the one running then.
ROUNDS = 3
WIDTHS = (30, 61, 2)
GRID_SIZE, SPLINE_ORDER = 5, 3
PEERS = {"pykan": "pykan", "efficient_kan": "efficient-kan"}

#: Run in the peers' virtualenv: argv is library, steps, batch, threads,
#: repeats; prints one JSON line.
PEER_SCRIPT = """
import itertools, json, sys, time
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

library = sys.argv[1]
steps, batch, threads, repeats = map(int, sys.argv[2:])
torch.set_num_threads(threads)
X, y = load_breast_cancer(return_X_y=True)
X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32)
y = torch.tensor(y, dtype=torch.long)


def pykan(n):
    from kan import KAN

    model = KAN(width=[30, 61, 2], grid=5, k=3, seed=0, symbolic_enabled=False,
                auto_save=False, save_act=False)
    data = {"train_input": X, "train_label": y, "test_input": X, "test_label": y}
    start = time.perf_counter()
    model.fit(data, opt="Adam", lr=0.01, steps=n, batch=batch,
              update_grid=False, loss_fn=torch.nn.CrossEntropyLoss(), log=10**9)
    return time.perf_counter() - start, model


def shuffled_batches(generator):
    while True:
        yield from torch.randperm(len(X), generator=generator).split(batch)


def efficient_kan(n):
    from ikan import KAN

    torch.manual_seed(0)
    model = KAN([30, 61, 2], grid_size=5, spline_order=3)  # SiLU base branch
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = shuffled_batches(torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for rows in itertools.islice(batches, n):
        optimizer.zero_grad()
        loss_fn(model(X[rows]), y[rows]).backward()
        optimizer.step()
    return time.perf_counter() - start, model


train = {"pykan": pykan, "efficient_kan": efficient_kan}[library]
train(3)  # warm-up
runs = [train(steps) for _ in range(repeats)]
model = runs[-1][1]
with torch.no_grad():
    accuracy = float((model(X).argmax(1) == y).float().mean())
parameters = list(model.parameters())
print(json.dumps({
    "seconds_runs": [seconds for seconds, _ in runs],
    "steps": steps,
    "accuracy": accuracy,
    "threads": torch.get_num_threads(),
    "dtype": "float32",
    "parameters": sum(p.numel() for p in parameters if p.grad is not None),
    "parameters_requires_grad": sum(p.numel() for p in parameters if p.requires_grad),
}))
"""


def timed(func, repeats=REPEATS):
    """Wall times of ``repeats`` calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def record(seconds_runs, steps, **fields):
    """One side's JSON entry, counted at its fastest run."""
    best = min(seconds_runs)
    return {
        "seconds": best,
        "seconds_runs": seconds_runs,
        "best_of": len(seconds_runs),
        "steps": steps,
        "ms_per_step": 1e3 * best / steps,
        **fields,
    }


def time_ours(X, y, steps):
    def train(epochs):
        config = NetworkConfig(
            max_iter=epochs, batch_size=BATCH, update_grid=False, learning_rate=0.01
        )
        network, _, _ = train_network(
            X, y, task="classification", n_outputs=2, config=config, seed=0
        )
        return network

    train(1)  # warm-up
    seconds, network = timed(lambda: train(EPOCHS))
    return record(
        seconds,
        steps,
        accuracy=float((predict_raw(network, X).argmax(1) == y).mean()),
        threads=1,
        dtype="float64",
        parameters=sum(p.numel() for p in network.parameters()),
    )


class FloorNetwork(nn.Module):
    """Our KAN step's matrix products without its splines: per layer
    ``basis @ W_spline + SiLU(x) @ W_base``. The first layer's basis is
    passed in (training caches it); a hidden layer's stands in as its input
    repeated ``n_basis`` times, a copy of the right shape at no cost."""

    def __init__(self, widths, n_basis, generator):
        super().__init__()
        self.n_basis = n_basis
        pairs = list(itertools.pairwise(widths))
        self.spline = nn.ParameterList(
            self._weight(i * n_basis, o, generator) for i, o in pairs
        )
        self.base = nn.ParameterList(self._weight(i, o, generator) for i, o in pairs)

    @staticmethod
    def _weight(rows, cols, generator):
        w = torch.randn(rows, cols, generator=generator, dtype=torch.float64)
        return nn.Parameter(w * rows**-0.5)

    def stand_in_basis(self, x):
        return x.unsqueeze(-1).expand(-1, -1, self.n_basis).reshape(len(x), -1)

    def forward(self, x, basis):
        for spline, base in zip(self.spline, self.base, strict=True):
            if basis is None:
                basis = self.stand_in_basis(x)
            x, basis = basis @ spline + F.silu(x) @ base, None
        return x


def train_floor(X, y):
    """The floor's training, as ``train_network``'s loop over batches."""
    generator = torch.Generator().manual_seed(0)
    network = FloorNetwork(WIDTHS, GRID_SIZE + SPLINE_ORDER, generator)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.01, fused=True)
    basis = network.stand_in_basis(X)
    for _ in range(EPOCHS):
        for rows in torch.randperm(len(X), generator=generator).split(BATCH):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(network(X[rows], basis[rows]), y[rows])
            float(loss.detach())  # ours reads every step's loss too
            loss.backward()
            optimizer.step()
    return network


def time_floor(X, y, steps):
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    with torch_threads(1):
        train_floor(X[:BATCH], y[:BATCH])  # warm-up
        seconds, network = timed(lambda: train_floor(X, y))
        with torch.no_grad():
            output = network(X, network.stand_in_basis(X))
    return record(
        seconds,
        steps,
        accuracy=float((output.argmax(1) == y).double().mean()),
        threads=1,
        dtype="float64",
        parameters=sum(p.numel() for p in network.parameters()),
    )


def time_peer(python, library, steps, threads):
    numbers = (str(n) for n in (steps, BATCH, threads, REPEATS))
    out = subprocess.run(
        [python, "-c", PEER_SCRIPT, library, *numbers],
        capture_output=True,
        text=True,
        check=True,
        cwd="/tmp",
    )
    run = json.loads(out.stdout.strip().splitlines()[-1])
    return record(run.pop("seconds_runs"), run.pop("steps"), **run)


def time_selector():
    X, y = load_breast_cancer(return_X_y=True)
    start = time.perf_counter()
    KANSelector(cv=5, n_seeds=3, random_state=0).fit(X, y)
    return time.perf_counter() - start


def time_german_fit(X, y, **params):
    start = time.perf_counter()
    selector = KANSelector(random_state=0, **params).fit(X, y)
    seconds = time.perf_counter() - start
    top = np.argsort(selector.ranking_, kind="stable")[:10]
    return {"seconds": seconds, "top10": selector.feature_names_in_[top].tolist()}


def time_german(skip):
    """Default ``KANSelector`` fits on German credit in the recourse encoding
    (36 columns, the table issue 17 measures on), serial and with
    ``n_jobs=2``: the same importances, so the same top ten."""
    if skip:
        skipped = dict.fromkeys(("default", "n_jobs=2", "n_jobs=2 warm"))
        return skipped | {"reason": "skipped (--skip-german)"}
    X, y = load_german_recourse()
    result = {
        "data": "featimp.datasets.load_german_recourse",
        "rows": len(X),
        "features": X.shape[1],
        "default": time_german_fit(X, y),
        "n_jobs=2": time_german_fit(X, y, n_jobs=2),
        # joblib keeps its workers: a second fit finds torch imported.
        "n_jobs=2 warm": time_german_fit(X, y, n_jobs=2),
    }
    result["same_top10"] = result["n_jobs=2"]["top10"] == result["default"]["top10"]
    return result


def time_peers(python, steps):
    """Each peer at each thread count: ``{library: {threads: record}}``."""
    threads = sorted({1, 2, os.cpu_count() or 1})
    return {
        library: {t: time_peer(python, library, steps, t) for t in threads}
        for library in PEERS
    }


#: A record's fields that ``merged`` recomputes from all the rounds' runs.
RECORD_TIMES = ("seconds", "seconds_runs", "best_of", "ms_per_step")


def merged(records):
    """One side's records of several rounds as one, at its fastest run."""
    runs = [seconds for r in records for seconds in r["seconds_runs"]]
    fields = {k: v for k, v in records[-1].items() if k not in RECORD_TIMES}
    return record(runs, fields.pop("steps"), **fields)


def fastest(runs):
    return min(runs.values(), key=lambda run: run["ms_per_step"])


def summary(ours, floor, peers):
    best = {library: fastest(runs) for library, runs in peers.items()}
    peer = min(best, key=lambda library: best[library]["ms_per_step"])
    result = {"ours": ours, "floor": floor}
    for library, runs in peers.items():
        result[library] = best[library]
        result[f"{library}_by_threads"] = {str(t): r for t, r in runs.items()}
    return result | {
        "speedup_per_step": best["pykan"]["ms_per_step"] / ours["ms_per_step"],
        "fastest_peer": {"library": peer, "threads": best[peer]["threads"]},
        "speedup_vs_fastest_peer": best[peer]["ms_per_step"] / ours["ms_per_step"],
        "ours_over_floor": ours["ms_per_step"] / floor["ms_per_step"],
    }


def report(result):
    def line(name, run, threads):
        print(
            f"{name:<13} {run['ms_per_step']:8.2f} ms/step on {threads} thread(s), "
            f"{run['dtype']}, accuracy {run['accuracy']:.3f}, "
            f"{run['parameters']:,} parameters"
        )

    line("ours", result["ours"], 1)
    line("floor", result["floor"], 1)
    for library, name in PEERS.items():
        for t, run in result[f"{library}_by_threads"].items():
            line(name, run, t)
    peer = result["fastest_peer"]
    print(
        f"speed-up per step against the fastest peer ({PEERS[peer['library']]} on "
        f"{peer['threads']} thread(s)): {result['speedup_vs_fastest_peer']:.2f}x; "
        f"against pykan's best: {result['speedup_per_step']:.2f}x"
    )
    print(f"ours over the floor: {result['ours_over_floor']:.2f}x")
    print(
        "KANSelector(cv=5, n_seeds=3) on breast_cancer: "
        f"{result['selector_cv5_seeds3_seconds']:.1f}s"
    )
    german = result["german_selector"]
    for key in ("default", "n_jobs=2", "n_jobs=2 warm"):
        fit = german[key]
        seconds = f"{fit['seconds']:.1f}s" if fit else f"- ({german['reason']})"
        print(f"KANSelector(random_state=0) on German credit, {key}: {seconds}")
    if german["default"]:
        print(f"  top 10: {', '.join(german['default']['top10'])}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pykan-python", default="/tmp/pykan-venv/bin/python")
    parser.add_argument(
        "--skip-german", action="store_true", help="skip the German credit fits"
    )
    args = parser.parse_args(argv)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    steps = EPOCHS * math.ceil(len(X) / BATCH)
    rounds = [
        (
            time_ours(X, y, steps),
            time_floor(X, y, steps),
            time_peers(args.pykan_python, steps),
        )
        for _ in range(ROUNDS)
    ]
    ours, floor, peers = zip(*rounds, strict=True)
    result = summary(
        merged(ours),
        merged(floor),
        {
            library: {
                t: merged([p[library][t] for p in peers]) for t in peers[0][library]
            }
            for library in PEERS
        },
    )
    result["selector_cv5_seeds3_seconds"] = time_selector()
    result["german_selector"] = time_german(args.skip_german)
    result |= _environment.environment("torch")
    RESULTS.write_text(json.dumps(result, indent=1))
    report(result)


if __name__ == "__main__":
    main()
