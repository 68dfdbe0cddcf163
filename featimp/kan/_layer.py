"""The KAN network in torch: B-spline basis, KAN layers, grid updates.

This module imports torch at the top; the rest of :mod:`featimp.kan` imports
it only when a network is built (see :func:`featimp.kan._config.require_torch`).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from featimp.kan import _compiled


def _basis_and_slopes(x, grid, order: int):
    """The basis of clamped ``x``, and the derivatives of its non-zero values
    with the index of the first (see :mod:`featimp.kan._compiled`)."""
    n, d = x.shape
    bases = torch.zeros((n, d, grid.shape[1] - order - 1), dtype=x.dtype)
    slopes = torch.empty((n, d, order + 1), dtype=x.dtype)
    first = torch.empty((n, d), dtype=torch.int64)
    _compiled.basis(
        x.detach().contiguous().numpy(),
        grid.detach().contiguous().numpy(),
        order,
        bases.numpy(),
        slopes.numpy(),
        first.numpy(),
    )
    return bases, slopes, first


class _BSplineBasis(torch.autograd.Function):
    """The basis with its closed-form derivative in x, which is much cheaper
    than back-propagating through the recursion:
    dB_i^k/dx = k (B_i^{k-1} / (t_{i+k} - t_i) - B_{i+1}^{k-1} / (t_{i+k+1} - t_{i+1})).
    """

    @staticmethod
    def forward(ctx, x, grid, order):
        bases, slopes, first = _basis_and_slopes(x, grid, order)
        ctx.save_for_backward(slopes, first)
        return bases

    @staticmethod
    def backward(ctx, grad):
        slopes, first = ctx.saved_tensors
        out = torch.empty(first.shape, dtype=slopes.dtype)
        _compiled.basis_grad(
            grad.contiguous().numpy(), slopes.numpy(), first.numpy(), out.numpy()
        )
        return out, None, None


def bspline_basis(x, grid, order: int):
    """B-spline basis values of every feature (de Boor's recursion).

    Parameters
    ----------
    x : Tensor of shape (n_samples, n_features)
    grid : Tensor of shape (n_features, grid_size + 2 * order + 1)
        Strictly increasing knots per feature; the spline's domain is
        ``[grid[:, order], grid[:, -order - 1]]``.
    order : int, at least 1

    Returns
    -------
    Tensor of shape (n_samples, n_features, grid_size + order)

    Values outside the domain are clamped to its ends, so the spline keeps
    its boundary value there instead of silently dropping to zero (and its
    derivative in x is 0 there).
    """
    if x.requires_grad:
        return _BSplineBasis.apply(x, grid, order)
    return _basis_and_slopes(x, grid, order)[0]


def grid_from_samples(x, grid_size: int, order: int, grid_eps: float):
    """Knots from sample quantiles blended with a uniform grid.

    ``grid_eps`` is the weight of the uniform grid (1 = uniform, as in
    pykan). Any ``grid_eps > 0`` keeps the knots strictly increasing even for
    discrete features, whose quantiles repeat. The grid is extended by
    ``order`` uniform steps on each side so every basis is complete inside
    the data range.
    """
    steps = torch.linspace(0, 1, grid_size + 1, dtype=x.dtype)
    adaptive = torch.quantile(x, steps, dim=0).T
    lo = x.min(dim=0).values
    # A constant feature still needs a non-degenerate grid.
    span = (x.max(dim=0).values - lo).clamp_min(1e-3)
    uniform = lo[:, None] + span[:, None] * steps
    inner = grid_eps * uniform + (1 - grid_eps) * adaptive
    h = (span / grid_size)[:, None]
    ext = torch.arange(1, order + 1, dtype=x.dtype)
    left = inner[:, :1] - h * ext.flip(0)
    right = inner[:, -1:] + h * ext
    return torch.cat([left, inner, right], dim=1).contiguous()


def _refit(new, old, coef):
    """Per-feature least squares of the old splines on the new basis.

    ``new``, ``old``: the bases of the same samples on the new and the old
    grid, (in, n, K); ``coef`` (out, in, K). The fit of input ``i`` is
    ``G_i^-1 N_i^T (O_i C_i^T)`` with ``G_i = N_i^T N_i``, evaluated as
    ``G_i^-1 (N_i^T O_i) C_i^T``: K x K products instead of the (in, n, out)
    spline values. Normal equations with a tiny ridge, in numpy: MKL's lstsq
    in torch gives run-to-run different results, which would break
    reproducible fits. The ridge keeps features whose samples miss some
    basis functions solvable.
    """
    transposed = new.transpose(0, 2, 1)
    gram = transposed @ new
    ridge = 1e-8 * np.trace(gram, axis1=1, axis2=2)[:, None, None] + 1e-12
    gram += ridge * np.eye(new.shape[2])
    rhs = (transposed @ old) @ coef.transpose(1, 2, 0)
    return np.linalg.solve(gram, rhs).transpose(2, 0, 1)


class KANLayer(nn.Module):
    """phi_oj(x_j) = w^b_oj SiLU(x_j) + s_oj sum_k c_ojk B_k(x_j), summed over j.

    The spline part is one matrix product of the flattened basis
    ``(n, in * (grid_size + order))`` with the scaled coefficients, so no
    ``(n, in, out)`` tensor is ever formed during training.
    """

    def __init__(
        self,
        in_features,
        out_features,
        *,
        grid_size,
        spline_order,
        grid_eps,
        generator,
        dtype,
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order = grid_size, spline_order
        self.grid_eps = grid_eps
        n_basis = grid_size + spline_order
        bound = in_features**-0.5
        kw = {"generator": generator, "dtype": dtype}
        self.base_weight = nn.Parameter(
            (torch.rand(out_features, in_features, **kw) * 2 - 1) * bound
        )
        self.coef = nn.Parameter(
            torch.randn(out_features, in_features, n_basis, **kw) * 0.1
        )
        self.spline_scale = nn.Parameter(
            torch.full((out_features, in_features), bound, dtype=dtype)
        )
        uniform = torch.linspace(-1, 1, grid_size + 1, dtype=dtype)
        self.register_buffer(
            "grid",
            grid_from_samples(
                uniform[:, None].expand(-1, in_features), grid_size, spline_order, 1.0
            ),
        )

    def scaled_coef(self):
        """Effective coefficients ``s_oj * c_ojk``, shape (out, in, n_basis)."""
        return self.coef * self.spline_scale.unsqueeze(-1)

    def flat_basis(self, x):
        """The basis of ``x`` flattened to (n, in * (grid_size + order))."""
        return bspline_basis(x, self.grid, self.spline_order).reshape(x.shape[0], -1)

    def forward(self, x, basis=None):
        """Layer output; ``basis`` may pass a cached ``flat_basis(x)``."""
        if basis is None:
            basis = self.flat_basis(x)
        base = F.silu(x) @ self.base_weight.T
        return base + basis @ self.scaled_coef().reshape(self.out_features, -1).T

    def edge_outputs(self, x):
        """phi_oj(x_j) for every sample and edge: shape (n, in, out).

        For scoring only (never during training): the memory is n * in * out.
        """
        basis = bspline_basis(x, self.grid, self.spline_order)
        spline = torch.einsum("nik,oik->nio", basis, self.scaled_coef())
        return F.silu(x).unsqueeze(-1) * self.base_weight.T + spline

    @torch.no_grad()
    def update_grid(self, x) -> None:
        """Refit the grid to the samples ``x`` keeping each spline's shape.

        The new coefficients are the least-squares fit, on ``x``, of the old
        splines evaluated on the new basis.
        """
        order = self.spline_order
        old = bspline_basis(x, self.grid, order).transpose(0, 1)
        self.grid.copy_(grid_from_samples(x, self.grid_size, order, self.grid_eps))
        new = bspline_basis(x, self.grid, order).transpose(0, 1)
        refit = _refit(new.numpy(), old.numpy(), self.coef.detach().numpy())
        self.coef.copy_(torch.from_numpy(refit))

    def group_norms(self):
        """Per-input-feature l2 norm of all its weights (the group penalty)."""
        base = self.base_weight.pow(2).sum(dim=0)
        spline = self.scaled_coef().pow(2).sum(dim=(0, 2))
        return (base + spline + 1e-12).sqrt()


class KANNetwork(nn.Module):
    """A stack of :class:`KANLayer` of the given widths."""

    def __init__(
        self,
        widths,
        *,
        grid_size,
        spline_order,
        grid_eps,
        generator,
        dtype=torch.float64,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            KANLayer(
                i,
                o,
                grid_size=grid_size,
                spline_order=spline_order,
                grid_eps=grid_eps,
                generator=generator,
                dtype=dtype,
            )
            for i, o in itertools.pairwise(widths)
        )

    def forward(self, x, first_basis=None):
        """Network output; the inputs' basis can be cached (it only changes
        when the grid does), which saves a third of a training step."""
        x = self.layers[0](x, first_basis)
        for layer in self.layers[1:]:
            x = layer(x)
        return x

    @torch.no_grad()
    def update_grids(self, x) -> None:
        """Update every layer's grid on the activations that reach it."""
        for layer in self.layers:
            layer.update_grid(x)
            x = layer(x)
