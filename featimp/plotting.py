"""Figures for rankings and their stability (matplotlib, imported lazily).

Every function takes plain arrays or DataFrames, draws on ``ax`` (a new
figure when None) and returns the Axes, so the KAN and recourse families can
call the hooks without depending on each other. :func:`plot_selector` draws
the summary figure of a fitted selector; the CLI's ``--plot`` uses
:func:`save_selector_plot`. Needs the ``plot`` extra.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install 'featimp-toolkit[plot]'"
        ) from exc
    return plt


def _axes(ax, size):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=size)
    return ax


def _names(feature_names, n: int) -> list[str]:
    if feature_names is None:
        return [f"x{j}" for j in range(n)]
    names = [str(f) for f in feature_names]
    if len(names) != n:
        raise ValueError(f"feature_names has {len(names)} entries for {n} features")
    return names


def plot_importances(
    importances,
    feature_names=None,
    *,
    lower=None,
    upper=None,
    top=20,
    ax=None,
    title=None,
    selected=None,
    order=None,
):
    """Horizontal bars of the ``top`` importances, best at the top.

    ``lower`` and ``upper`` (e.g. resampling quantiles) draw an interval on
    each bar; ``selected`` (a boolean mask, e.g. ``get_support()``) colours
    the kept features and greys the others; ``order`` (feature positions,
    best first) fixes which features are drawn and in which order, so that
    panels side by side line up.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from featimp.plotting import plot_importances
    >>> ax = plot_importances([0.1, 0.5, 0.2], ["a", "b", "c"], top=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]  # drawn bottom-up
    ['c', 'b']
    """
    values = np.asarray(importances, dtype=float)
    names = np.asarray(_names(feature_names, values.size))
    if order is None:
        order = np.argsort(-values, kind="stable")[:top]
    order = np.asarray(order)[::-1]
    ax = _axes(ax, (6, 0.3 * len(order) + 1.2))
    xerr = None
    if lower is not None and upper is not None:
        low, high = np.asarray(lower, float)[order], np.asarray(upper, float)[order]
        xerr = np.vstack([values[order] - low, high - values[order]]).clip(min=0)
    colors = np.full(len(order), _KEPT, dtype=object)
    if selected is not None:
        colors[~np.asarray(selected, dtype=bool)[order]] = _DROPPED
    ax.barh(
        names[order],
        values[order],
        xerr=xerr,
        color=list(colors),
        ecolor="#333333",
        capsize=2,
    )
    if selected is not None:
        from matplotlib.patches import Patch

        handles = [Patch(color=_KEPT, label="selected")]
        if (colors == _DROPPED).any():
            handles.append(Patch(color=_DROPPED, label="not selected"))
        ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_xlabel("importance")
    ax.set_title(title or "Feature importance")
    return ax


#: Bar colours of selected and unselected features.
_KEPT, _DROPPED = "#4878a8", "#c8c8c8"


def plot_rank_heatmap(
    rankings, *, top=None, ax=None, title=None, order=None, features_as_rows=False
):
    """Heatmap of ranks: one row per method, one column per feature.

    ``rankings`` is a DataFrame (methods x features, 1 = best); columns are
    ordered by mean rank and cut to the ``top`` best, or are the feature
    names of ``order``. ``features_as_rows`` draws the transpose (features
    top to bottom), to sit beside bar panels of the same order.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from featimp.plotting import plot_rank_heatmap
    >>> ranks = pd.DataFrame([[1, 2, 3], [2, 1, 3]], index=["mi", "lasso"],
    ...                      columns=["a", "b", "c"])
    >>> plot_rank_heatmap(ranks).get_title()
    'Rank by method (1 = best)'
    """
    rankings = pd.DataFrame(rankings)
    if order is None:
        order = rankings.mean(axis=0).sort_values(kind="stable").index[:top]
    data = rankings[list(order)]
    if features_as_rows:
        data = data.T
    ax = _axes(ax, (0.35 * data.shape[1] + 2.5, 0.4 * data.shape[0] + 1.5))
    image = ax.imshow(data.to_numpy(float), cmap="viridis_r", aspect="auto")
    rotation = 0 if features_as_rows else 90
    ax.set_xticks(
        range(data.shape[1]), [str(c) for c in data.columns], rotation=rotation
    )
    ax.set_yticks(range(data.shape[0]), [str(i) for i in data.index])
    values = data.to_numpy(float)
    low, high = np.nanmin(values), np.nanmax(values)
    for (i, j), value in np.ndenumerate(values):
        # Dark text on the light (good) end of the colour map.
        light = (value - low) <= 0.5 * (high - low)
        ax.text(
            j,
            i,
            f"{value:g}",
            ha="center",
            va="center",
            fontsize=7,
            color="black" if light else "white",
        )
    ax.figure.colorbar(image, ax=ax, label="rank")
    ax.set_title(title or "Rank by method (1 = best)")
    return ax


def plot_selection_probability(
    probabilities,
    feature_names=None,
    *,
    threshold=None,
    top=20,
    ax=None,
    title=None,
    selected=None,
    order=None,
):
    """Bars of how often each feature was selected across resamples.

    A ``threshold`` (e.g. 0.6, stability selection's usual cut) is drawn as
    a vertical line; ``selected`` and ``order`` as in
    :func:`plot_importances`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from featimp.plotting import plot_selection_probability
    >>> ax = plot_selection_probability([1.0, 0.2], ["a", "b"], threshold=0.6)
    >>> [float(v) for v in ax.get_xlim()]
    [0.0, 1.0]
    """
    ax = plot_importances(
        probabilities,
        feature_names,
        top=top,
        ax=ax,
        title=title or "Selection probability (resamples)",
        selected=selected,
        order=order,
    )
    if threshold is not None:
        ax.axvline(threshold, color="#c44e52", linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of resamples selecting the feature")
    return ax


def plot_kan_splines(
    grid, curves, feature_names=None, *, importances=None, ncols=4, axes=None
):
    """Hook for the KAN family: one panel per feature with its learned spline.

    Parameters
    ----------
    grid : array of shape (n_points,) or (n_points, n_features)
        Input values at which the splines were evaluated.
    curves : array of shape (n_points, n_features)
        The spline (summed edge function) of each feature.
    feature_names : list of str, optional
    importances : array of shape (n_features,), optional
        Shown in the panel titles; panels are ordered by it.
    ncols : int, default=4
    axes : array of Axes, optional

    Returns
    -------
    ndarray of Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from featimp.plotting import plot_kan_splines
    >>> x = np.linspace(-2, 2, 50)
    >>> axes = plot_kan_splines(x, np.column_stack([x**2, np.sin(x)]), ["a", "b"])
    >>> axes.size
    2
    """
    curves = np.asarray(curves, dtype=float)
    d = curves.shape[1]
    grid = np.asarray(grid, dtype=float)
    grid = np.repeat(grid[:, None], d, axis=1) if grid.ndim == 1 else grid
    if grid.shape != curves.shape:
        raise ValueError(f"grid has shape {grid.shape}, curves {curves.shape}")
    names = _names(feature_names, d)
    order = (
        np.arange(d)
        if importances is None
        else np.argsort(-np.asarray(importances, float), kind="stable")
    )
    if axes is None:
        ncols = min(ncols, d)
        nrows = -(-d // ncols)
        _, axes = _pyplot().subplots(
            nrows, ncols, figsize=(3 * ncols, 2.4 * nrows), squeeze=False
        )
    axes = np.asarray(axes).ravel()
    for ax, j in zip(axes, order, strict=False):
        ax.plot(grid[:, j], curves[:, j], color="#4878a8")
        label = (
            names[j]
            if importances is None
            else (f"{names[j]} ({float(np.asarray(importances)[j]):.3g})")
        )
        ax.set_title(label, fontsize=9)
    for ax in axes[d:]:
        ax.set_visible(False)
    return axes[:d]


def plot_responsiveness_vs_shap(
    responsiveness, shap_values, *, row=0, top=15, ax=None, title=None
):
    """Hook for the recourse family: one person's responsiveness next to |SHAP|.

    Parameters
    ----------
    responsiveness, shap_values : DataFrame of shape (n_people, n_features)
        Per-person scores with the same columns (and index); SHAP values are
        shown as absolute values.
    row : index label or int position, default=0
        The person to show.
    top : int, default=15
        Features shown, by the larger of the two scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from featimp.plotting import plot_responsiveness_vs_shap
    >>> resp = pd.DataFrame({"income": [0.8], "age": [0.0]})
    >>> shap = pd.DataFrame({"income": [0.1], "age": [0.5]})
    >>> ax = plot_responsiveness_vs_shap(resp, shap)
    >>> len(ax.patches)
    4
    """
    resp = pd.DataFrame(responsiveness)
    shap = pd.DataFrame(shap_values)
    if list(resp.columns) != list(shap.columns):
        raise ValueError("responsiveness and shap_values must have the same columns")
    pick = (lambda f: f.loc[row]) if row in resp.index else (lambda f: f.iloc[row])
    r, s = pick(resp).astype(float), pick(shap).astype(float).abs()
    order = np.maximum(r, s).sort_values(ascending=False, kind="stable").index[:top]
    ax = _axes(ax, (6, 0.35 * len(order) + 1.2))
    y = np.arange(len(order))[::-1]
    ax.barh(y + 0.2, r[order], height=0.4, label="responsiveness", color="#55a868")
    ax.barh(y - 0.2, s[order], height=0.4, label="|SHAP|", color="#4878a8")
    ax.set_yticks(y, [str(c) for c in order])
    ax.legend(loc="lower right")
    ax.set_title(title or f"Person {row}: what they can change vs what SHAP blames")
    return ax


def plot_reason_coverage(responsiveness, reasons, *, ax=None, title=None):
    """Hook for the recourse family: over many people, how many each feature
    could help (responsiveness > 0) and how often it is among their reasons.

    Parameters
    ----------
    responsiveness : DataFrame of shape (n_people, n_features)
        Per-person responsiveness scores.
    reasons : DataFrame
        One row per reason given to a person, its feature in a ``feature``
        column (as :func:`featimp.recourse.compare_reasons` returns for an
        attribution's top reasons).

    Only the features that are responsive for someone are drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from featimp.plotting import plot_reason_coverage
    >>> resp = pd.DataFrame({"income": [0.8, 0.2], "age": [0.0, 0.0]})
    >>> reasons = pd.DataFrame({"feature": ["age", "age", "income"]})
    >>> ax = plot_reason_coverage(resp, reasons)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['income']
    """
    resp = pd.DataFrame(responsiveness)
    if "feature" not in reasons:
        raise ValueError("reasons must have a 'feature' column")
    helped = (resp > 0).sum().sort_values(ascending=False, kind="stable")
    helped = helped[helped > 0]
    named = reasons["feature"].value_counts().reindex(helped.index, fill_value=0)
    ax = _axes(ax, (8, 0.3 * len(helped) + 1.5))
    y = np.arange(len(helped))[::-1]
    ax.barh(y, helped.to_numpy(), color="#FFC000", label="responsive for")
    ax.barh(
        y, named.to_numpy(), height=0.35, color="#1f77b4", label="among the reasons"
    )
    ax.set_yticks(y, [str(c) for c in helped.index])
    ax.set_xlabel(f"people (of {len(resp)})")
    ax.legend(loc="lower right")
    ax.set_title(title or "What people can act on, and how often it is a reason")
    return ax


def plot_selector(selector, feature_names=None, *, top=20, title=None):
    """Summary figure of a fitted selector.

    Importances (with 90 % resampling intervals when the selector has a
    ``stability_`` report; selected features coloured, the others grey), the
    selection probabilities and, for a consensus, the features x methods
    ranks: every panel shows the same ``top`` features in the same order
    (by importance), so rows line up. ``title`` heads the figure (the CLI
    names the method and the data); by default the selector's class.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import LassoSelector
    >>> from featimp.plotting import plot_selector
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> fig = plot_selector(LassoSelector(random_state=0).fit(X, y), X.columns)
    >>> len(fig.axes)
    1
    """
    d = selector.importances_.size
    names = _names(
        feature_names
        if feature_names is not None
        else getattr(selector, "feature_names_in_", None),
        d,
    )
    stability = getattr(selector, "stability_", None)
    rankings = getattr(selector, "method_rankings_", None)
    order = np.argsort(np.asarray(selector.ranking_), kind="stable")[:top]
    selected = selector.get_support()
    panels = 1 + (stability is not None) + (rankings is not None)
    fig = _pyplot().figure(
        figsize=(5.5 * panels, 0.3 * len(order) + 2.2), layout="constrained"
    )
    axes = fig.subplots(1, panels, squeeze=False, sharey=rankings is None)[0]
    lower = upper = None
    if stability is not None:
        lower, upper = np.quantile(stability.importances, [0.05, 0.95], axis=0)
    plot_importances(
        selector.importances_,
        names,
        lower=lower,
        upper=upper,
        ax=axes[0],
        title="importance"
        + (" (90 % resampling interval)" if lower is not None else ""),
        selected=selected,
        order=order,
    )
    if stability is not None:
        plot_selection_probability(
            stability.selection_probability,
            names,
            ax=axes[1],
            selected=selected,
            order=order,
        )
    if rankings is not None:
        frame = pd.DataFrame(rankings, index=selector.methods_, columns=names)
        # Features top to bottom, as in the bar panels.
        plot_rank_heatmap(
            frame,
            ax=axes[-1],
            order=[names[j] for j in order],
            features_as_rows=True,
        )
    fig.suptitle(title or type(selector).__name__)
    return fig


def save_selector_plot(
    selector, path, feature_names=None, *, top=20, title=None
) -> None:
    """Draw :func:`plot_selector` and write it to ``path`` (png, pdf, svg)."""
    fig = plot_selector(selector, feature_names, top=top, title=title)
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
