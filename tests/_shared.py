"""Test helpers shared by the library, CLI and service tests."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featimp import methods
from featimp._mutual_info import MutualInfoSelector
from featimp.datasets import load_german_credit, load_german_recourse
from featimp.methods import MethodSpec
from featimp.recourse import ActionSet, ResponsivenessExplainer, german_action_set


def fast_params(method: str) -> dict:
    """A small, fast configuration of a registered method: its selector's
    own ``get_test_params()``."""
    return methods.get_method(method).selector_class().get_test_params()


class NumbersOnlySelector(MutualInfoSelector):
    """A method whose input tags refuse text and missing values."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = False
        tags.input_tags.categorical = False
        tags.input_tags.allow_nan = False
        return tags

    def fit(self, X, y=None):  # pragma: no cover - the input check must refuse first
        raise AssertionError("the input check should have stopped the fit")


@pytest.fixture
def numbers_only(monkeypatch):
    """``numbers_only`` in the registry: a method that reads numbers only."""
    spec = MethodSpec(
        name="numbers_only",
        selector=f"{__name__}:NumbersOnlySelector",
        function="featimp._mutual_info:mutual_info_importances",
        tasks=("classification", "regression"),
        summary="Test method that reads numbers only.",
    )
    monkeypatch.setitem(methods._REGISTRY, spec.name, spec)
    return spec


GERMAN_TARGET = "creditability"
#: Columns of German credit blanked by :func:`german_with_blanks`.
BLANKED = ("duration_in_month", "credit_amount", "purpose", "savings_account_and_bonds")


def german_with_blanks():
    """German credit and its target, 10 % empty cells in two numeric and two
    text columns (seeded)."""
    from featimp.datasets import load_german_credit

    X, y = load_german_credit()
    frame = X.assign(**{GERMAN_TARGET: y})
    rng = np.random.default_rng(0)
    for column in BLANKED:
        rows = rng.choice(len(frame), size=len(frame) // 10, replace=False)
        frame.loc[frame.index[rows], column] = None
    return frame


#: What a credit team would not ask an applicant to change.
IMMUTABLE = [
    "age_in_years",
    "personal_status_and_sex",
    "foreign_worker",
    "credit_history",
    "purpose",
    "credit_amount",
    "number_of_people_being_liable_to_provide_maintenance_for",
    "job",
    "present_employment_since",
]


def credit_team_action_set(X):
    A = ActionSet.from_data(X)
    for column in IMMUTABLE:
        A[A.columns_of(column)].actionable = False
    A["duration_in_month"].step_direction = -1
    return A


@pytest.fixture(scope="session")
def german_raw_explainer():
    """German credit in its own columns, an L2-logistic pipeline, the denied
    rows and an explainer for them (3 options a person)."""
    X, y = load_german_credit()
    A = credit_team_action_set(X)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(A.encode(X), y)
    denied = X[clf.predict(A.encode(X)) == "bad"]
    explainer = ResponsivenessExplainer(clf, A, target="good", n_actions=3)
    return X, A, clf, denied, explainer


@pytest.fixture(scope="session")
def german_recourse():
    """The paper's German encoding, its target and action set, and a logistic
    regression fitted on it."""
    X, y = load_german_recourse()
    A = german_action_set(X)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    return X, y, A, clf


@pytest.fixture(scope="session")
def german_paper(german_recourse):
    """The paper's German encoding and action set, its logistic regression,
    the denied rows and their explanation."""
    X, _, A, clf = german_recourse
    denied = X[clf.predict(X) == 0]
    return X, A, clf, denied, ResponsivenessExplainer(clf, A).explain(denied)


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str, module_name: str | None = None):
    """The script ``benchmarks/<name>.py`` as a module (benchmarks are not a
    package)."""
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name or name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, so progress bars draw on it."""

    def isatty(self):
        return True

    def bar_frames(self) -> list[str]:
        """The redraws of the bars written so far (tqdm's ``\r`` frames)."""
        return [f for f in self.getvalue().split("\r") if "%|" in f]


def approve_if(column, value):
    """A model that approves the rows whose ``column`` is at least ``value``."""
    return lambda Z: (np.asarray(Z)[:, column] >= value).astype(int)


def top_k(scores, k):
    """The column indices of the ``k`` largest scores, as a set."""
    return set(np.argsort(-np.asarray(scores), kind="stable")[:k].tolist())


def mixed_columns(rng, n=3000):
    """Continuous and discrete columns, some with gaps, and a copy of one."""
    X, _ = make_classification(n, 6, n_informative=3, random_state=0)
    X = np.column_stack(
        [X, rng.integers(0, 4, n), rng.integers(0, 1000, n), X[:, 0]]
    ).astype(float)
    X[rng.random(n) < 0.1, 1] = np.nan  # a continuous column with gaps
    X[rng.random(n) < 0.1, 6] = np.nan  # a discrete one
    return X


def edge_heavy_columns(rng, n=3000):
    """Columns whose values sit on the accumulated bin edges (integers,
    multiples of tenths, a large offset where adding the width rounds), a
    constant, a near-constant, negative values and a wide span."""
    return np.column_stack(
        [
            rng.integers(0, 21, n),
            rng.integers(-7, 13, n) / 10,
            1e15 + rng.integers(0, 40, n),
            np.full(n, 3.0),
            np.where(rng.random(n) < 0.001, 1 + 1e-12, 1.0),
            rng.normal(-5, 3, n),
            rng.choice([-1e300, 0.0, 1e300], n),
            rng.lognormal(0, 4, n),
            rng.integers(0, 21, n) * 0.3,  # 1.8 is below its floor's edge
        ]
    ).astype(float)


#: The columns of German credit whose names say they are not actionable.
GERMAN_IMMUTABLE = ["personal_status_and_sex", "age_in_years", "foreign_worker"]


def fixed_columns(A):
    """The raw columns of action set ``A`` none of whose features can move."""
    return [
        c.name for c in A.raw_columns if not any(A[A.columns_of(c.name)].actionable)
    ]
