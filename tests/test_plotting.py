"""featimp.plotting: every figure draws from real fits and plain arrays."""

import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from featimp import plotting  # noqa: E402
from featimp._consensus import ConsensusSelector  # noqa: E402
from featimp.baselines import LassoSelector  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close("all")


@pytest.fixture(scope="module")
def consensus():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    sel = ConsensusSelector(
        methods=["mi", "lasso"], stability=4, n_features_to_select=5, random_state=0
    )
    return sel.fit(X, y), X


def test_selector_summary_figure_has_all_panels(consensus, tmp_path):
    sel, _ = consensus
    fig = plotting.plot_selector(sel, top=10, title="consensus: breast cancer")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == [
        "importance (90 % resampling interval)",
        "Selection probability (resamples)",
        "Rank by method (1 = best)",
    ]
    assert fig.get_suptitle() == "consensus: breast cancer"
    assert len(fig.axes[0].patches) == 10
    path = tmp_path / "rank.png"
    plotting.save_selector_plot(sel, path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def _labels(ax, axis="y"):
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def test_panels_share_one_feature_order(consensus):
    """The stability panels and the heatmap list the same features in the
    same order, best at the top, so a row reads across the figure."""
    sel, X = consensus
    fig = plotting.plot_selector(sel, top=12)
    bars, probability, heatmap = fig.axes[:3]
    best_first = list(X.columns[np.argsort(sel.ranking_, kind="stable")[:12]])
    assert _labels(bars)[::-1] == best_first  # barh draws bottom-up
    assert _labels(probability) == _labels(bars)
    assert _labels(heatmap) == best_first  # imshow draws top-down
    assert _labels(heatmap, "x") == list(sel.methods_)


def test_selected_and_unselected_features_look_different(consensus):
    sel, _ = consensus
    fig = plotting.plot_selector(sel, top=12)
    bars = fig.axes[0]
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in bars.patches]
    kept = sel.get_support()[np.argsort(sel.ranking_, kind="stable")[:12]][::-1]
    assert len(set(np.array(colours)[kept])) == 1
    assert len(set(np.array(colours)[~kept])) == 1
    assert set(np.array(colours)[kept]).isdisjoint(np.array(colours)[~kept])
    legend = [t.get_text() for t in bars.get_legend().get_texts()]
    assert legend == ["selected", "not selected"]


def test_importances_with_intervals_best_on_top(consensus):
    sel, X = consensus
    low, high = np.quantile(sel.stability_.importances, [0.05, 0.95], axis=0)
    ax = plotting.plot_importances(
        sel.importances_, X.columns, lower=low, upper=high, top=5
    )
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == X.columns[sel.ranking_.argmin()]


def test_heatmap_orders_features_by_mean_rank(consensus):
    sel, X = consensus
    frame = pd.DataFrame(sel.method_rankings_, index=sel.methods_, columns=X.columns)
    ax = plotting.plot_rank_heatmap(frame, top=6)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == list(frame.mean().sort_values(kind="stable").index[:6])


def test_single_selector_figure_without_stability():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    fig = plotting.plot_selector(LassoSelector(random_state=0).fit(X, y))
    assert len(fig.axes) == 1
    assert "x2" in [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_kan_and_responsiveness_hooks_take_plain_arrays():
    x = np.linspace(-1, 1, 30)
    curves = np.column_stack([x, x**2, np.abs(x)])
    axes = plotting.plot_kan_splines(
        x, curves, ["a", "b", "c"], importances=[0.1, 0.9, 0.5], ncols=2
    )
    assert [ax.get_title().split()[0] for ax in axes] == ["b", "c", "a"]
    resp = pd.DataFrame({"income": [0.8, 0.1], "age": [0.0, 0.0]}, index=["p", "q"])
    shap = pd.DataFrame({"income": [-0.1, 0.2], "age": [0.5, 0.4]}, index=["p", "q"])
    ax = plotting.plot_responsiveness_vs_shap(resp, shap, row="q")
    assert {t.get_text() for t in ax.get_yticklabels()} == {"income", "age"}


def test_bad_plot_input():
    with pytest.raises(ValueError, match="feature_names has 2 entries for 3"):
        plotting.plot_importances([1, 2, 3], ["a", "b"])
    with pytest.raises(ValueError, match="same columns"):
        plotting.plot_responsiveness_vs_shap(
            pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})
        )
    with pytest.raises(ValueError, match="grid has shape"):
        plotting.plot_kan_splines(np.zeros((5, 2)), np.zeros((5, 3)))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"featimp-toolkit\[plot\]"):
        plotting.plot_importances([1.0, 2.0])


def test_kan_feature_curves_show_what_each_feature_does():
    pytest.importorskip("torch")
    from featimp.kan import KANRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"bowl": rng.uniform(-2, 2, 400), "noise": rng.normal(size=400)})
    y = X["bowl"] ** 2 + rng.normal(0, 0.05, 400)
    kan = KANRegressor(hidden_layer_sizes=[], max_iter=200, random_state=0).fit(X, y)
    grid, curves = kan.feature_curves(X, n_points=60)
    assert grid.shape == curves.shape == (60, 2)
    np.testing.assert_allclose(grid[[0, -1]], X.agg(["min", "max"]).to_numpy())
    # The learned curve of "bowl" is its square (up to scale and shift), and
    # flat for the noise next to it.
    assert np.corrcoef(curves[:, 0], grid[:, 0] ** 2)[0, 1] > 0.95
    assert np.ptp(curves[:, 1]) < 0.2 * np.ptp(curves[:, 0])
    axes = plotting.plot_kan_splines(grid, curves, X.columns, importances=[0.9, 0.1])
    titles = [ax.get_title().split(" ")[0] for ax in axes.ravel()[:2]]
    assert titles == ["bowl", "noise"]
    with pytest.raises(ValueError, match="n_points"):
        kan.feature_curves(X, n_points=1)


def test_reason_coverage_counts_people_and_reasons():
    resp = pd.DataFrame({"a": [0.5, 0.0, 0.2], "b": [0.0, 0.0, 0.0], "c": [1, 1, 1.0]})
    reasons = pd.DataFrame({"feature": ["a", "b", "b", "c"]})
    ax = plotting.plot_reason_coverage(resp, reasons)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["c", "a"]  # most helped first (on top); "b" helps no one
    widths = [p.get_width() for p in ax.patches]
    assert widths == [3, 2, 1, 1]  # responsive for c 3, a 2; reasons c 1, a 1
    with pytest.raises(ValueError, match="'feature' column"):
        plotting.plot_reason_coverage(resp, pd.DataFrame({"name": ["a"]}))
