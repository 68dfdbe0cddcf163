"""Training a KAN and scoring its inputs (imports torch; loaded lazily)."""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from featimp.kan._layer import KANNetwork

#: Rows used to place the grids: quantiles need no more.
GRID_SAMPLE = 2048
#: Small networks are fastest (and bit-reproducible) on one thread.
MAX_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int = MAX_THREADS):
    """Limit torch's intra-op threads for the duration of a fit."""
    previous = torch.get_num_threads()
    torch.set_num_threads(min(n, previous))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _tensor(a, dtype):
    # torch shares the memory, so it must be writable (a copy if not).
    return torch.from_numpy(np.require(a, dtype=dtype, requirements=["C", "W"]))


def as_tensors(X, y, task):
    X = _tensor(X, np.float64)
    if y is None:
        return X, None
    return X, _tensor(y, np.int64 if task == "classification" else np.float64)


def loss_of(output, y, task):
    if task == "classification":
        return F.cross_entropy(output, y)
    return F.mse_loss(output[:, 0], y)


def _grid_epochs(config) -> set[int]:
    """Grid updates at the start and every tenth of the first half (pykan
    likewise stops updating the grid part-way through training)."""
    if not config.update_grid:
        return set()
    every = max(1, config.max_iter // 10)
    return {0, *range(every, config.max_iter // 2 + 1, every)}


def _split_validation(n, config, generator):
    if not config.early_stopping:
        return torch.arange(n), None
    n_val = max(1, round(config.validation_fraction * n))
    if n - n_val < 1:
        raise ValueError(
            f"early_stopping needs more rows: {n} sample(s) leave none for "
            f"training after a validation split of {config.validation_fraction}"
        )
    perm = torch.randperm(n, generator=generator)
    return perm[n_val:], perm[:n_val]


def train_network(X, y, *, task, n_outputs, config, seed):
    """Train one KAN on standardised ``X`` and encoded ``y``.

    Returns ``(network, n_epochs_run, loss_curve)``.
    """
    with torch_threads():
        generator = torch.Generator().manual_seed(int(seed))
        X, y = as_tensors(X, y, task)
        network = KANNetwork(
            config.widths(X.shape[1], n_outputs),
            grid_size=config.grid_size,
            spline_order=config.spline_order,
            grid_eps=config.grid_eps,
            generator=generator,
        )
        train, val = _split_validation(X.shape[0], config, generator)
        return _fit_loop(network, X, y, train, val, task, config, generator)


def _fit_loop(network, X, y, train, val, task, config, generator):
    # The fused kernel: one pass over every parameter (torch >= 2.4 on CPU),
    # half the time of the foreach one at these sizes.
    optimizer = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, fused=True
    )
    grid_epochs = _grid_epochs(config)
    grid_rows = train
    if train.numel() > GRID_SAMPLE:
        grid_rows = train[torch.randperm(train.numel(), generator=generator)][
            :GRID_SAMPLE
        ]
    best, best_loss, stall, curve = None, np.inf, 0, []
    epochs = tqdm(
        range(config.max_iter),
        desc="KAN",
        unit="epoch",
        disable=not config.verbose,
        leave=False,
    )
    basis = network.layers[0].flat_basis(X)
    for epoch in epochs:
        if epoch in grid_epochs:
            network.update_grids(X[grid_rows])
            basis = network.layers[0].flat_basis(X)
        loss = _epoch(network, optimizer, (X, basis, y), train, task, config, generator)
        curve.append(loss)
        if val is None:
            epochs.set_postfix(loss=f"{loss:.4f}")
            continue
        with torch.no_grad():
            val_loss = float(loss_of(network(X[val]), y[val], task))
        epochs.set_postfix(loss=f"{loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < best_loss - 1e-6:
            best, best_loss, stall = copy.deepcopy(network.state_dict()), val_loss, 0
        else:
            stall += 1
            if stall >= config.n_iter_no_change:
                break
    if best is not None:
        network.load_state_dict(best)
    network.eval()
    return network, epoch + 1, curve


def _epoch(network, optimizer, data, rows, task, config, generator):
    X, basis, y = data
    order = rows[torch.randperm(rows.numel(), generator=generator)]
    total = 0.0
    for batch in torch.split(order, config.batch_size):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(network(X[batch], basis[batch]), y[batch], task)
        total += float(loss.detach()) * batch.numel()
        if config.sparsity > 0:
            loss = loss + config.sparsity * network.layers[0].group_norms().sum()
        loss.backward()
        optimizer.step()
    return total / rows.numel()


@torch.no_grad()
def predict_raw(network, X) -> np.ndarray:
    with torch_threads():
        return network(as_tensors(X, None, None)[0]).numpy()


def edge_curves(network, X) -> np.ndarray:
    """The first layer's edge functions at the rows of ``X`` (standardised
    inputs), each input's summed over the layer's outputs: ``(n, d)``."""
    with torch_threads(), torch.no_grad():
        edges = network.layers[0].edge_outputs(as_tensors(X, None, None)[0])
        return edges.sum(dim=-1).numpy()


def importance_variants(network, X, y, *, task, methods) -> dict[str, np.ndarray]:
    """Every requested score of one trained network on data ``(X, y)``.

    Each score is non-negative; normalisation is left to the caller. The
    first layer's edge outputs are computed once and shared by l1, l2 and ko.
    """
    with torch_threads(), torch.no_grad():
        X, y = as_tensors(X, y, task)
        edges = None
        if {"l1", "l2", "ko"} & set(methods):
            edges = network.layers[0].edge_outputs(X)
        return {name: _SCORERS[name](network, X, y, task, edges) for name in methods}


def _edge_l1(network, X, y, task, edges):
    return edges.abs().mean(dim=(0, 2)).numpy()


def _edge_l2(network, X, y, task, edges):
    return edges.pow(2).mean(dim=(0, 2)).sqrt().numpy()


def _saliency(network, X, y, task, edges):
    with torch.enable_grad():
        x = X.clone().requires_grad_(True)
        network(x).abs().sum().backward()
    network.zero_grad(set_to_none=True)
    return x.grad.abs().mean(dim=0).numpy()


#: Rows x width of the hidden activations pushed through the network at
#: once by the knock-out (bounds its memory to some tens of MB).
KO_CHUNK = 2**18


def _knockout(network, X, y, task, edges):
    """Zeroing feature j's first-layer weights removes exactly its edge
    outputs, so the knocked-out first-layer outputs of all features are
    ``out - edges[:, j]``; the rest of the network runs on them in chunks."""
    n, d, width = edges.shape
    first = edges.sum(dim=1)
    rest = network.layers[1:]

    def tail(h):
        for layer in rest:
            h = layer(h)
        return h

    before = float(loss_of(tail(first), y, task))
    per_chunk = max(1, KO_CHUNK // max(1, n * width))
    deltas = []
    for start in range(0, d, per_chunk):
        block = first.unsqueeze(0) - edges[:, start : start + per_chunk].transpose(0, 1)
        out = tail(block.reshape(-1, width)).reshape(block.shape[0], n, -1)
        deltas += [float(loss_of(o, y, task)) - before for o in out]
    return np.maximum(np.asarray(deltas), 0.0)


def _coef_l1(network, X, y, task, edges):
    return network.layers[0].scaled_coef().abs().sum(dim=(0, 2)).numpy()


def _coef_l2(network, X, y, task, edges):
    return network.layers[0].scaled_coef().pow(2).sum(dim=(0, 2)).sqrt().numpy()


_SCORERS = {
    "l1": _edge_l1,
    "l2": _edge_l2,
    "si": _saliency,
    "ko": _knockout,
    "coef_l1": _coef_l1,
    "coef_l2": _coef_l2,
}
