"""The German credit protocol of the responsiveness paper, as its authors run it.

Cheon, Wernerfelt, Friedler and Ustun, "Feature Responsiveness Scores:
Model-Agnostic Explanations for Recourse" (ICLR 2025): the split, the
model and the explanations of their scripts (``research/iclr2025/`` of
github.com/ustunb/reachml), for reproducing their figures with featimp's
recourse code. ``benchmarks/responsiveness_paper.py`` runs the whole
protocol (and the boosted models and LIME) and documents where featimp
differs; notebook 03 walks through it.

Examples
--------
>>> from featimp.datasets import load_german_recourse
>>> from featimp.recourse import paper
>>> X, y = load_german_recourse()
>>> train = paper.paper_split(y)
>>> int(train.sum())
800
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from featimp.recourse._reasons import compare_reasons

#: The authors' seed (``generate_cvindices`` and their models).
SEED = 2338
#: The test fold of fold id K05N01.
TEST_FOLD = 5
#: Reasons per person in their top-k comparison.
K = 4


def paper_split(y, *, seed=SEED, test_fold=TEST_FOLD) -> np.ndarray:
    """Training mask of fold id K05N01 (the rows outside ``test_fold``).

    Replays the authors' ``generate_cvindices``: seed NumPy's global
    generator, then draw the stratified 3-, 4- and 5-fold partitions in
    that order; the 5-fold one is K05N01.
    """
    y = np.asarray(y)
    # The authors seed the global generator; StratifiedKFold draws from it.
    np.random.seed(seed)  # noqa: NPY002
    for k in (3, 4, 5):
        folds = np.zeros(len(y), dtype=int)
        splitter = StratifiedKFold(n_splits=k, shuffle=True)
        for fold, (_, test) in enumerate(splitter.split(y, y), 1):
            folds[test] = fold
    return folds != test_fold


def train_lr(X, y):
    """Standardise, then the unpenalised LR of the authors (labels -1/+1)."""
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(
        C=np.inf, solver="saga", max_iter=3_000_000, random_state=SEED
    )
    lr.fit(scaler.transform(X), np.where(np.asarray(y) > 0, 1, -1))
    return Pipeline([("scaler", scaler), ("clf", lr)])


def denied_unique(model, X) -> pd.DataFrame:
    """The unique rows of ``X`` (as ``np.unique`` orders them) not approved."""
    unique = np.unique(X.to_numpy(), axis=0)
    denied = model.predict(unique) != 1
    return pd.DataFrame(unique[denied], columns=X.columns)


def shap_values(model, X, rows) -> np.ndarray:
    """The authors' SHAP: LinearSHAP of the bare LR on standardised data, or
    TreeSHAP, with all rows of ``X`` as the masker."""
    import shap

    X, rows = np.asarray(X, dtype=float), np.asarray(rows, dtype=float)
    steps = getattr(model, "named_steps", None)
    if steps is not None:
        scaler, model = steps["scaler"], steps["clf"]
        X, rows = scaler.transform(X), scaler.transform(rows)
    values = shap.Explainer(model, masker=X)(rows).values
    # Some tree models give one column per class; for two classes they are
    # opposite, and only magnitudes matter here.
    return values[:, :, -1] if values.ndim == 3 else values


def action_aware(attributions, action_set) -> np.ndarray:
    """Attributions with every non-actionable feature set to 0."""
    out = np.array(attributions, dtype=float)
    out[:, [not e.actionable for e in action_set]] = 0.0
    return out


def reason_shares(result, attributions, columns) -> dict:
    """Top-``K`` shares of one explainer's reasons, in percent.

    ``result`` is a :class:`~featimp.recourse.ResponsivenessExplainer`
    result for the denied people, ``attributions`` their attributions (one
    row a person, ``columns`` its columns). Per person the ``K`` largest
    absolute attributions, ties in column order, slots whose attribution is
    exactly 0 dropped: ``top4_zero_share`` is the share of those slots whose
    feature has responsiveness 0; ``all_unresponsive_share`` and
    ``any_unresponsive_share`` the shares of people all (any) of whose
    slots are; ``top4_features`` the five features most often in a slot.
    """
    frame = pd.DataFrame(attributions, index=result.scores.index, columns=columns)
    slots = compare_reasons(result, frame, k=K)
    slots = slots[slots["attribution"] != 0]
    zero = ~slots["actionable"].astype(bool)
    per_person = zero.groupby(slots["row"])
    return {
        "top4_zero_share": 100 * float(zero.mean()),
        "all_unresponsive_share": 100 * float(per_person.all().mean()),
        "any_unresponsive_share": 100 * float(per_person.any().mean()),
        "n_slots": len(slots),
        "top4_features": slots["feature"].value_counts().head(5).to_dict(),
    }


def holdout_auc(model, X, y) -> float:
    """ROC AUC of ``model`` on the rows ``X`` (a DataFrame) with labels ``y``."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, model.predict_proba(X.to_numpy(float))[:, 1]))
