"""The numba kernels of the B-spline basis (called by :mod:`featimp.kan._layer`).

A KAN layer's basis is ``(n, d, grid_size + order)`` numbers of which only
``order + 1`` per input are non-zero. Built from torch operations it is some
twenty passes over the whole array, each mostly interpreter and dispatch
overhead at the sizes a KAN trains on; here it is one pass that computes the
non-zero values (de Boor's triangular scheme on the local knots) and their
derivatives in x at once. Defined at module level so numba caches the
machine code between processes.
"""

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)


@_jit
def basis(x, grid, order, bases, slopes, first):
    # x (n, d); grid (d, m) strictly increasing; bases (n, d, m - order - 1)
    # zero-filled, receives the basis of x clamped to the domain
    # [grid[:, order], grid[:, m - order - 1]]; slopes (n, d, order + 1)
    # receives d/dx of the non-zero bases (0 outside the domain, where the
    # clamped basis is constant) and first (n, d) the index of the first.
    # One feature at a time, each step a loop over the samples (which the
    # compiler vectorises; per sample, the short loops over the degree
    # would not be).
    n, d = x.shape
    m = grid.shape[1]
    last_span = m - order - 2
    dtype = bases.dtype
    # values[r, i] is B_{s_i - p + r} of degree p after step p (s_i the knot
    # span of sample i); lower keeps degree order - 1 for the slopes.
    values = np.empty((order + 1, n), dtype=dtype)
    lower = np.empty((order + 1, n), dtype=dtype)
    left = np.empty((order + 1, n), dtype=dtype)
    right = np.empty((order + 1, n), dtype=dtype)
    carry = np.empty(n, dtype=dtype)
    clamped = np.empty(n, dtype=dtype)
    span = np.empty(n, dtype=np.int64)
    inside = np.empty(n, dtype=np.bool_)
    scale = np.empty(m - order, dtype=dtype)
    for j in range(d):
        t = grid[j]
        lo, hi = t[order], t[m - order - 1]
        for k in range(m - order):
            scale[k] = order / (t[k + order] - t[k])
        for i in range(n):
            v = x[i, j]
            inside[i] = lo <= v <= hi
            v = min(max(v, lo), hi)
            clamped[i] = v
            # The knot span [t[s], t[s + 1]) holding v; hi takes the last one.
            a, b = order, last_span
            while a < b:
                mid = (a + b + 1) // 2
                if t[mid] <= v:
                    a = mid
                else:
                    b = mid - 1
            span[i] = a
        values[0] = 1.0
        lower[0] = 1.0
        for p in range(1, order + 1):
            for i in range(n):
                left[p, i] = clamped[i] - t[span[i] + 1 - p]
                right[p, i] = t[span[i] + p] - clamped[i]
            carry[:] = 0.0
            for r in range(p):
                for i in range(n):
                    share = values[r, i] / (right[r + 1, i] + left[p - r, i])
                    values[r, i] = carry[i] + right[r + 1, i] * share
                    carry[i] = left[p - r, i] * share
            values[p] = carry
            if p == order - 1:
                lower[:order] = values[:order]
        # dB_k/dx = p (B'_k / (t[k + p] - t[k]) - B'_{k+1} / (t[k + p + 1] -
        # t[k + 1])), B' the degree p - 1 bases, p / (t[k + p] - t[k]) scale.
        for i in range(n):
            start = span[i] - order
            first[i, j] = start
            for r in range(order + 1):
                k = start + r
                bases[i, j, k] = values[r, i]
                slope = 0.0
                if inside[i]:
                    if r > 0:
                        slope += lower[r - 1, i] * scale[k]
                    if r < order:
                        slope -= lower[r, i] * scale[k + 1]
                slopes[i, j, r] = slope


@_jit
def basis_grad(grad, slopes, first, out):
    # out[i, j] = sum over the non-zero bases of grad[i, j, k] dB_k/dx.
    n, d, width = slopes.shape
    for i in range(n):
        for j in range(d):
            start = first[i, j]
            total = 0.0
            for r in range(width):
                total += grad[i, j, start + r] * slopes[i, j, r]
            out[i, j] = total
