"""Progress: the library's tracked loops, the CLI's bar and a job's progress."""

import sys

import numpy as np
import pytest

from featimp import (
    ConsensusSelector,
    MRMRSelector,
    MutualInfoSelector,
    SignificanceSelector,
    SVMRFESelector,
    listen_progress,
)
from featimp._progress import parallel_results, phases, track
from tests._shared import Terminal


def _recorded(fit):
    seen = []
    with listen_progress(seen.append):
        fit()
    return seen


def _moves_up_to_one(seen, at_least):
    fractions = [p.fraction for p in seen]
    assert np.all(np.diff(fractions) >= -1e-12), fractions
    assert fractions[-1] == 1.0
    assert len(set(np.round(fractions, 9))) >= at_least


def test_nested_loops_compose_with_weights():
    seen = _recorded(
        lambda: [
            None
            for _ in track(range(2), "outer", weights=[1, 3])
            for _ in track(range(4), "inner")
        ]
    )
    _moves_up_to_one(seen, 9)
    by_stage = {p.stage: p.fraction for p in seen}
    # The first outer item weighs 1 of 4: done inside it is 0.25 at most.
    assert by_stage["outer 1/2 > inner 4/4"] <= 0.25
    assert by_stage["outer 2/2 > inner 2/4"] == pytest.approx(0.25 + 0.75 / 4)


def test_phases_and_a_loop_left_early():
    def work():
        with phases("fit", [1, 2]) as advance:
            for i in track(range(10), "steps"):
                if i == 3:
                    break
            advance()
            for _ in track(range(2), "resamples"):
                pass

    seen = _recorded(work)
    _moves_up_to_one(seen, 4)
    assert seen[1].stage == "fit 1/2 > steps 1/10"
    assert any(p.stage.startswith("fit 2/2 > resamples") for p in seen)
    assert seen[-1].fraction == 1.0


def test_without_a_listener_nothing_changes(cancer_arrays):
    X, y = cancer_arrays
    quiet = MRMRSelector(random_state=0).fit(X, y).importances_
    with listen_progress(lambda p: None):
        heard = MRMRSelector(random_state=0).fit(X, y).importances_
    np.testing.assert_array_equal(quiet, heard)


@pytest.mark.parametrize(
    ("selector", "at_least"),
    [
        (MutualInfoSelector(stability=12, random_state=0), 12),
        (ConsensusSelector(methods=["mi", "lasso"], stability=5, random_state=0), 12),
        (MRMRSelector(n_features_to_select=10, random_state=0), 10),
        (SVMRFESelector(step=2, random_state=0), 10),
        (
            SignificanceSelector(
                MutualInfoSelector(random_state=0), n_permutations=19, random_state=0
            ),
            10,
        ),
    ],
    ids=lambda s: type(s).__name__ if not isinstance(s, int) else "",
)
def test_each_long_loop_reports(cancer_arrays, selector, at_least):
    X, y = cancer_arrays
    _moves_up_to_one(_recorded(lambda: selector.fit(X, y)), at_least)


def test_a_listener_that_raises_stops_the_fit(cancer_arrays):
    X, y = cancer_arrays
    calls = []

    def stop(progress):
        calls.append(progress)
        if len(calls) == 4:
            raise KeyboardInterrupt  # what a cancel or Ctrl-C does

    selector = ConsensusSelector(methods=["mi", "lasso"], stability=8, random_state=0)
    with pytest.raises(KeyboardInterrupt), listen_progress(stop):
        selector.fit(X, y)
    assert len(calls) == 4  # no report after the stop, not even in cleanup


def test_parallel_results_report_as_they_come_back():
    from joblib import delayed

    seen = _recorded(
        lambda: parallel_results(
            [delayed(abs)(-i) for i in range(6)], "calls", n_jobs=2
        )
    )
    _moves_up_to_one(seen, 7)


def test_explain_reports_scoring_and_certifying():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from featimp.datasets._recourse import load_taiwan_recourse
    from featimp.recourse import ResponsivenessExplainer, taiwan_action_set

    X, y = load_taiwan_recourse()
    X, y = X.iloc[:2000], y.iloc[:2000]
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    explainer = ResponsivenessExplainer(model, taiwan_action_set(X), random_state=0)
    seen = _recorded(lambda: explainer.explain(X.iloc[:300]))
    _moves_up_to_one(seen, 10)
    stages = {p.stage.split(" > ")[-1].rsplit(" ", 1)[0] for p in seen}
    assert {"scoring", "certifying"} <= stages


def test_the_cli_bar_moves_with_the_fit(monkeypatch, capsys):
    from featimp.cli import main

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = ["rank", "--dataset", "breast_cancer", "--method", "consensus"]
    argv += ["--param", 'methods=["mi","lasso"]', "--param", "stability=10"]
    argv += ["--top", "3"]
    assert main(argv) == 0
    frames = terminal.bar_frames()
    shown = {f.split("%")[0].split()[-1] for f in frames}
    assert len(shown) >= 3, frames  # not just 0 % and 100 %
    assert any("consensus fits" in f for f in frames)
    assert "worst" in capsys.readouterr().out
