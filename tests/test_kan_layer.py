"""The B-spline basis, its grid and the KAN layer (featimp/kan/_layer.py)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from featimp.kan._layer import KANLayer, bspline_basis, grid_from_samples  # noqa: E402


@pytest.mark.parametrize("order", [1, 2, 3])
def test_basis_matches_scipy_and_sums_to_one(order):
    from scipy.interpolate import BSpline

    x = torch.randn(300, 3, dtype=torch.float64) * 2
    grid = grid_from_samples(x[:50], 4, order, 0.1)
    basis = bspline_basis(x, grid, order)
    for j in range(3):
        knots = grid[j].numpy()
        inside = np.clip(x[:, j].numpy(), knots[order], knots[-order - 1])
        expected = BSpline.design_matrix(inside, knots, order).toarray()
        np.testing.assert_allclose(basis[:, j].numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(basis.sum(-1).numpy(), 1.0, atol=1e-12)


def test_grid_is_strictly_increasing_for_discrete_and_constant_features():
    x = torch.tensor(
        [[0.0, 5.0], [0.0, 5.0], [1.0, 5.0], [1.0, 5.0]], dtype=torch.float64
    )
    grid = grid_from_samples(x, 5, 3, 0.02)
    assert (torch.diff(grid, dim=1) > 0).all()


def _layer():
    layer = KANLayer(
        2,
        3,
        grid_size=4,
        spline_order=3,
        grid_eps=0.02,
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float64,
    )
    layer.update_grid(torch.randn(200, 2, dtype=torch.float64))
    return layer


def test_inputs_beyond_the_grid_keep_the_boundary_spline_value():
    layer = _layer()
    hi = layer.grid[:, -4]
    at_edge, far = hi.unsqueeze(0), (hi + 100.0).unsqueeze(0)
    edge = bspline_basis(at_edge, layer.grid, 3)
    beyond = bspline_basis(far, layer.grid, 3)
    np.testing.assert_allclose(beyond.numpy(), edge.numpy())
    assert beyond.sum().item() == pytest.approx(2.0)  # one per feature, not 0
    # The SiLU branch still follows the input beyond the grid.
    with torch.no_grad():
        diff = layer(far) - layer(at_edge)
        expected = (
            torch.nn.functional.silu(far) - torch.nn.functional.silu(at_edge)
        ) @ layer.base_weight.T
    np.testing.assert_allclose(diff.numpy(), expected.numpy(), atol=1e-10)


def test_grid_update_keeps_the_function():
    layer = _layer()
    x = torch.randn(500, 2, dtype=torch.float64) * 0.8
    with torch.no_grad():
        before = layer(x)
        layer.update_grid(x)
        after = layer(x)
    assert torch.corrcoef(torch.stack([before.ravel(), after.ravel()]))[0, 1] > 0.99


def test_layer_forward_equals_sum_of_edge_outputs():
    layer = _layer()
    x = torch.randn(30, 2, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(
            layer(x).numpy(), layer.edge_outputs(x).sum(1).numpy(), atol=1e-12
        )


@pytest.mark.parametrize("order", [1, 2, 3])
def test_basis_gradient_matches_finite_differences(order):
    # Inputs inside the grid and beyond both ends (where the clamped basis is
    # constant, so its slope is 0).
    grid = grid_from_samples(torch.randn(80, 2, dtype=torch.float64), 5, order, 0.1)
    lo, hi = grid[:, order], grid[:, -order - 1]
    x = torch.cat(
        [
            lo + (hi - lo) * torch.rand(40, 2, dtype=torch.float64),
            (lo - 3.0).unsqueeze(0),
            (hi + 3.0).unsqueeze(0),
        ]
    ).requires_grad_()
    weights = torch.randn(grid.shape[1] - order - 1, dtype=torch.float64)
    torch.autograd.gradcheck(
        lambda v: bspline_basis(v, grid, order) @ weights, (x,), eps=1e-7, atol=1e-6
    )
    bspline_basis(x, grid, order).sum(-1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-12)  # partition of 1
    (bspline_basis(x, grid, order) @ weights).sum().backward()
    assert (x.grad[-2:] == 0).all()


def test_basis_in_float32_matches_float64():
    x = torch.randn(200, 3, dtype=torch.float64)
    grid = grid_from_samples(x, 5, 3, 0.02)
    single = bspline_basis(x.float(), grid.float(), 3)
    assert single.dtype == torch.float32
    np.testing.assert_allclose(
        single.numpy(), bspline_basis(x, grid, 3).numpy(), atol=1e-6
    )
