"""Synthetic data whose truly informative features are known."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from featimp._validation import check_random_state_seed
from featimp.datasets._missing import MissingColumn, add_missing

ROLES = (
    "informative",
    "redundant",
    "noise",
    "high_cardinality_noise",
    "suppressor",
    "interaction",
)
#: Weight of each XOR-like pair's ``sign(a) * sign(b)`` term in the score.
INTERACTION_WEIGHT = 2.0
#: Labels of a categorical feature's levels, from its lowest to its highest
#: quintile. Their alphabetical codes (1, 4, 2, 0, 3) have zero rank
#: correlation with the level, so ordinal codes hide the signal.
CATEGORY_LABELS = ("b", "e", "c", "a", "d")


@dataclass(frozen=True)
class GroundTruth:
    """What each feature of a :func:`make_ground_truth` dataset is.

    Attributes
    ----------
    roles : Series
        Feature name -> one of ``"informative"``, ``"redundant"`` (a noisy
        linear combination of informative features), ``"noise"`` (Gaussian,
        independent of y) or ``"high_cardinality_noise"`` (uniform integers
        with many distinct values, independent of y), ``"suppressor"`` (noise
        that is also added to an informative feature: independent of y, yet
        a linear model uses it to cancel that noise) or ``"interaction"``
        (members of XOR-like pairs: each is independent of y on its own).
    coef : Series
        Weight of each informative feature in the latent score.
    categorical : tuple of str
        Informative features delivered as text categories; empty by default.
    missing : dict
        Feature -> :class:`~featimp.datasets.MissingColumn` (rate, mechanism,
        driver) for the features with missing values; empty by default.
    """

    roles: pd.Series
    coef: pd.Series
    categorical: tuple[str, ...] = ()
    missing: Mapping[str, MissingColumn] = field(default_factory=dict)

    def features(self, role: str) -> list[str]:
        """Names of the features with ``role``."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose one of {ROLES}")
        return self.roles.index[self.roles == role].tolist()

    @property
    def informative(self) -> list[str]:
        return self.features("informative")

    @property
    def relevant(self) -> list[str]:
        """Informative and redundant features: those that carry signal."""
        return self.informative + self.features("redundant")

    @property
    def signal(self) -> list[str]:
        """Features y is computed from: informative and interaction features."""
        return self.informative + self.features("interaction")


def make_ground_truth(
    n_samples: int = 1000,
    *,
    n_informative: int = 5,
    n_redundant: int = 2,
    n_noise: int = 10,
    n_high_cardinality: int = 2,
    cardinality: int = 1000,
    task: str = "classification",
    n_classes: int = 2,
    noise: float = 0.5,
    shuffle: bool = False,
    random_state=None,
    n_suppressors: int = 0,
    n_interaction_pairs: int = 0,
    n_categorical: int = 0,
    missing_rate: float = 0.0,
) -> tuple[pd.DataFrame, pd.Series, GroundTruth]:
    """A dataset with known informative, redundant and noise features.

    The informative features ``Z`` are standard normal; the latent score is
    ``Z @ coef`` with weights of magnitude 1 to 2 and random signs, plus
    Gaussian noise of standard deviation ``noise``. Regression returns the
    score; classification cuts it at its quantiles into ``n_classes``
    balanced classes. Redundant features are noisy linear combinations of
    the informative ones; noise features are standard normal and
    high-cardinality noise features are uniform integers in
    ``[0, cardinality)``, both independent of the target.

    Two harder roles are off by default. A suppressor (Haufe et al. 2014,
    Wilming et al. 2023) is a distractor ``D`` that is added to an
    informative feature, which becomes ``Z_j + D``, and also observed on its
    own: ``D`` is independent of y, yet a linear model gives it weight
    ``-coef_j`` to cancel it, so methods that read model weights call it
    important. An interaction pair ``(a, b)`` of standard normals adds
    ``INTERACTION_WEIGHT * sign(a) * sign(b)`` to the score: an XOR whose
    members are each independent of y, found only by methods that look at
    features jointly. The informative features are then ``truth.signal``.

    Real tables bring two more difficulties, also off by default; with the
    same ``random_state`` they change only the columns they name, and not y.
    A categorical feature is an informative column cut at its quintiles into
    five text levels labelled ``CATEGORY_LABELS`` (``"b"`` for the lowest,
    then ``"e"``, ``"c"``, ``"a"``, ``"d"``): y still depends on the
    continuous value, and alphabetical ordinal codes are not monotone in it,
    so a method sees the signal only if it treats the column as categories.
    Missing values blank ``missing_rate`` of the cells of every informative
    feature with :func:`~featimp.datasets.add_missing`: ``informative_0`` is
    missing at random (MAR), more often the higher the first non-informative
    feature (``redundant_0`` with the defaults), which stays complete; the
    other informative features are missing completely at random (MCAR).

    Parameters
    ----------
    n_suppressors : int, default=0
        Suppressor variables, each paired with informative feature ``i mod
        n_informative``; the distractor has standard deviation 1.
    n_interaction_pairs : int, default=0
        XOR-like pairs; adds ``2 * n_interaction_pairs`` features.
    n_categorical : int, default=0
        How many informative features, the last ones, are delivered as text
        categories; listed in ``truth.categorical``. At most ``n_informative``.
    missing_rate : float, default=0.0
        Fraction of cells, in ``[0, 1)``, missing in each informative
        feature: NaN, in numeric and text columns alike. Needs at least one
        non-informative feature to drive the MAR column. Recorded in
        ``truth.missing``.

    The other parameters are described above.

    Returns
    -------
    X : DataFrame
        Columns named after their role: ``informative_0``, ``redundant_0``,
        ``noise_0``, ``high_cardinality_noise_0``, ``suppressor_0``,
        ``interaction_0``, ...
    y : Series named ``"target"``
    truth : GroundTruth

    Examples
    --------
    >>> X, y, truth = make_ground_truth(200, n_noise=3, random_state=0)
    >>> X.shape
    (200, 12)
    >>> truth.informative[:2]
    ['informative_0', 'informative_1']

    With categorical and missing informative features:

    >>> X, y, truth = make_ground_truth(
    ...     200, n_categorical=1, missing_rate=0.1, random_state=0
    ... )
    >>> truth.categorical
    ('informative_4',)
    >>> sorted(X["informative_4"].dropna().unique())
    ['a', 'b', 'c', 'd', 'e']
    >>> int(X["informative_4"].isna().sum()), truth.missing["informative_0"].mechanism
    (20, 'MAR')
    """
    if n_informative < 1:
        raise ValueError(f"n_informative must be >= 1, got {n_informative}")
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if task == "classification" and n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    for name, value in (
        ("n_suppressors", n_suppressors),
        ("n_interaction_pairs", n_interaction_pairs),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    _check_real_table_params(n_informative, n_categorical, missing_rate)
    rng = check_random_state_seed(random_state)
    Z = rng.standard_normal((n_samples, n_informative))
    coef = rng.uniform(1, 2, n_informative) * rng.choice([-1, 1], n_informative)
    score = Z @ coef + noise * rng.standard_normal(n_samples)

    mixing = rng.uniform(-1, 1, (n_informative, n_redundant))
    blocks = {
        "informative": Z,
        "redundant": Z @ mixing + 0.1 * rng.standard_normal((n_samples, n_redundant)),
        "noise": rng.standard_normal((n_samples, n_noise)),
        "high_cardinality_noise": rng.integers(
            0, cardinality, (n_samples, n_high_cardinality)
        ).astype(float),
    }
    # Drawn after the original blocks so that the defaults keep their data.
    if n_suppressors:
        observed, blocks["suppressor"] = _suppressors(Z, n_suppressors, rng)
        blocks["informative"] = observed
    if n_interaction_pairs:
        blocks["interaction"], term = _interaction_pairs(
            n_samples, n_interaction_pairs, rng
        )
        score = score + term
    y = score if task == "regression" else _cut_into_classes(score, n_classes)
    X = pd.concat(
        [
            pd.DataFrame(v, columns=[f"{role}_{i}" for i in range(v.shape[1])])
            for role, v in blocks.items()
        ],
        axis=1,
    )
    roles = pd.Series(
        np.repeat(list(blocks), [v.shape[1] for v in blocks.values()]),
        index=X.columns,
        name="role",
    )
    # The first non-informative column in generation order, before shuffling.
    driver = next((c for c in roles.index if roles[c] != "informative"), None)
    if shuffle:
        order = rng.permutation(X.shape[1])
        X, roles = X.iloc[:, order], roles.iloc[order]
    informative = [f"informative_{i}" for i in range(n_informative)]
    # Applied last, by name, so the other columns keep the default data.
    categorical = tuple(informative[n_informative - n_categorical :])
    X = _categorize(X, categorical)
    missing = _missing_spec(informative, missing_rate, driver)
    if missing:
        X = add_missing(X, missing, random_state=rng)
    truth = GroundTruth(
        roles=roles,
        coef=pd.Series(coef, index=informative),
        categorical=categorical,
        missing=missing,
    )
    return X, pd.Series(y, name="target"), truth


def _check_real_table_params(
    n_informative: int, n_categorical: int, missing_rate: float
) -> None:
    if not isinstance(n_categorical, numbers.Integral) or not (
        0 <= n_categorical <= n_informative
    ):
        raise ValueError(
            f"n_categorical must be an int in [0, n_informative={n_informative}], "
            f"got {n_categorical}"
        )
    if not isinstance(missing_rate, numbers.Real) or not 0 <= missing_rate < 1:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate}")


def _categorize(X: pd.DataFrame, columns) -> pd.DataFrame:
    """``X`` with ``columns`` cut at their quintiles into text levels."""
    if not columns:
        return X
    X = X.copy()
    labels = np.array(CATEGORY_LABELS)
    for column in columns:
        edges = np.quantile(X[column], np.linspace(0, 1, len(labels) + 1)[1:-1])
        level = np.searchsorted(edges, X[column], side="right")
        X[column] = pd.Series(labels[level], index=X.index).astype(str)
    return X


def _missing_spec(informative: list[str], rate: float, driver) -> dict:
    """informative_0 MAR on ``driver``, the other informative features MCAR."""
    if not rate:
        return {}
    if driver is None:
        raise ValueError(
            "missing_rate > 0 needs a non-informative feature to drive the "
            "MAR missingness of informative_0"
        )
    spec = {informative[0]: MissingColumn(rate, "MAR", driver)}
    spec.update({name: MissingColumn(rate, "MCAR") for name in informative[1:]})
    return spec


def _suppressors(Z, n_suppressors: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Observed informative columns (with distractors added) and the distractors."""
    n, n_informative = Z.shape
    distractors = rng.standard_normal((n, n_suppressors))
    observed = Z.copy()
    for i in range(n_suppressors):
        observed[:, i % n_informative] += distractors[:, i]
    return observed, distractors


def _interaction_pairs(n: int, n_pairs: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """XOR-like pairs and their contribution to the latent score."""
    pairs = rng.standard_normal((n, 2 * n_pairs))
    signs = np.sign(pairs)
    term = INTERACTION_WEIGHT * (signs[:, 0::2] * signs[:, 1::2]).sum(axis=1)
    return pairs, term


def _cut_into_classes(score: np.ndarray, n_classes: int) -> np.ndarray:
    edges = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
    return np.searchsorted(edges, score, side="right").astype(int)
