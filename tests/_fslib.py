"""A line-by-line transcription of the reference MATLAB code (ECFS.m and its
muteinf.m helper; infFS.m of FSLib 2016), loops and dense matrices included:
the reference of tests/test_centrality.py and tests/test_affinity.py."""

import numpy as np
import pandas as pd


def matlab_bin_counts(a, keep, nbins):
    """The bin loop of muteinf.m: left edge stepped by xl = xl + rx."""
    rx = abs(a.max() - a.min()) / nbins
    xl = a.min()
    counts = np.zeros(nbins)
    for j in range(nbins):
        inside = (xl <= a) & keep
        if j < nbins - 1:
            inside &= a < xl + rx
        counts[j] = inside.sum()
        xl = xl + rx
    return counts


def matlab_muteinf(a, y):
    """muteinf.m for labels in {-1, +1}.

    MATLAB's ``hist`` rounds its bin edges slightly differently from the loop;
    on data that never sits within rounding of an edge the two agree, and we
    count the marginal with the loop.
    """
    n = a.size
    nbins = 20 if n / 10 > 20 else max(n // 10, 10)
    p_a = matlab_bin_counts(a, np.ones(n, bool), nbins) / n
    p_a[p_a == 0] = 0.00001
    p_y = np.array([np.sum(y == 1), np.sum(y == -1)]) / n
    p = np.vstack(
        [matlab_bin_counts(a, y == 1, nbins), matlab_bin_counts(a, y == -1, nbins)]
    )
    p[p == 0] = 0.00001
    h_a = -np.sum(p_a * np.log(p_a))
    h_y = -np.sum(p_y * np.log(p_y))
    p = p / n
    info = np.sum(p * np.log(p / (p_a[None, :] * p_y[:, None])))
    return 2 * info / (h_a + h_y)


def matlab_sigma(X):
    std = X.std(axis=0, ddof=1)
    sd = np.maximum(std[None, :], std[:, None])
    sd = sd - sd.min()
    return sd / sd.max()


def matlab_separation(X, y, negative, positive):
    s_n, s_p = X[y == negative], X[y == positive]
    sep = (s_p.mean(axis=0) - s_n.mean(axis=0)) ** 2
    st = s_p.std(axis=0, ddof=1) ** 2 + s_n.std(axis=0, ddof=1) ** 2
    st[st == 0] = 10000
    return sep / st


def matlab_ecfs(X, y, alpha):
    """ECFS.m: returns |leading eigenvector| (eigs(A, 1, 'lm'))."""
    y = np.where(y == y.min(), -1, 1)
    mi = np.array([matlab_muteinf(X[:, i], y) for i in range(X.shape[1])])
    vec = np.abs(matlab_separation(X, y, -1, 1) + mi) / 2
    kernel = np.outer(vec, vec)
    kernel = kernel - kernel.min()
    kernel = kernel / kernel.max()
    A = alpha * kernel + (1 - alpha) * matlab_sigma(X)
    values, vectors = np.linalg.eig(A)
    return np.abs(vectors[:, np.argmax(np.abs(values))].real)


def matlab_inffs_2016(X, y, alpha):
    """infFS.m (FSLib 2016), supervised, labels 0/1."""
    corr = matlab_separation(X, y, 0, 1)
    corr = np.outer(corr, corr)
    corr = corr - corr.min()
    corr = corr / corr.max()
    A = alpha * corr + (1 - alpha) * matlab_sigma(X)
    eye = np.eye(A.shape[0])
    r = 0.99 / np.max(np.linalg.eigvals(A + np.finfo(float).eps).real)
    S = np.linalg.inv(eye - r * A) - eye
    return S.sum(axis=1)


def matlab_inffs_unsupervised(X, alpha, kernel, factor):
    """The unsupervised branch of rank_fir_infinite.m (``kernel="1-|rho|"``,
    factor 0.99, ``eig(A + eps)``) or infFS.m v4.0 (``"rho"``, 0.9)."""
    rho = pd.DataFrame(X).corr(method="spearman").to_numpy(copy=True)
    rho[~np.isfinite(rho)] = 0
    corr = 1 - np.abs(rho) if kernel == "1-|rho|" else rho
    A = alpha * corr + (1 - alpha) * matlab_sigma(X)
    eye = np.eye(A.shape[0])
    shift = np.finfo(float).eps if kernel == "1-|rho|" else 0.0
    r = factor / np.max(np.linalg.eigvals(A + shift).real)
    S = np.linalg.inv(eye - r * A) - eye
    return S.sum(axis=1)
