"""ResponsivenessExplainer: per-person scores, fixedness and a recourse action."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from featimp._progress import phases, track
from featimp.recourse._action_set import ActionSet
from featimp.recourse._milp import best_linear_action
from featimp.recourse._reachable import RULES, build_groups, reachable_set
from featimp.recourse._reasons import STATUSES, reasons_frame, row_status
from featimp.recourse._recourse import Explained, recourse_frame, search_options
from featimp.recourse._report import report, report_html, write_report
from featimp.recourse._scores import (
    FeatureScorer,
    _model_columns,
    check_input,
    linear_form,
    on_features,
    prediction_function,
    score_details,
)
from featimp.recourse._searches import run_searches, target_hits
from featimp.recourse._trees import margin_bounds, row_parts


@dataclass
class ResponsivenessResult:
    """What :meth:`ResponsivenessExplainer.explain` returns.

    Attributes
    ----------
    scores : DataFrame
        Rows x features responsiveness scores.
    fixed : Series of pandas "boolean"
        True: no reachable point gets the target (certified); False: a
        recourse action was found (see ``actions``); NA: not certified.
    n_reachable : Series
        Size of the joint reachable set (NaN when it was not enumerated).
    actions : DataFrame
        The change found for rows with ``fixed == False`` (all zeros for
        approved rows: nothing needs to change); NaN elsewhere.
    standard_errors : DataFrame
        Standard errors of sampled scores (0 where enumerated).
    method : str
    status : Series
        Per row, one of ``"approved"`` (the model already predicts the
        target: nothing to explain, whatever its scores), ``"responsive"``
        (some feature's score is positive), ``"joint_only"`` (no single
        feature responds, but a joint action gets the target), ``"fixed"``
        (certified: no action does) and ``"not_certified"`` (none of these
        could be shown).

    Examples
    --------
    Savings in three bands, a loan duration that may only fall and an age
    nobody can change; the model approves savings of 100 or more, or a loan
    of at most 12 months:

    >>> import pandas as pd
    >>> from featimp.recourse import ActionSet, ResponsivenessExplainer
    >>> X = pd.DataFrame({"savings": ["< 100", "100..500", "< 100"],
    ...                   "duration": [24, 12, 36], "age": [30, 40, 60]})
    >>> A = ActionSet.from_data(X)
    >>> A["age"].actionable = False
    >>> A["duration"].step_direction = -1
    >>> approve = lambda Z: ((Z[:, 1] == 0) | (Z[:, 2] <= 12)).astype(int)
    >>> res = ResponsivenessExplainer(approve, A, n_actions=2).explain(X)
    >>> res.status.tolist()
    ['responsive', 'approved', 'responsive']
    >>> res.recourse()[["row", "option", "feature", "before", "after", "cost"]]
       row  option   feature before     after  cost
    0    0       1  duration     24        12     1
    1    0       2   savings  < 100  100..500     1
    2    2       1  duration     36        12     1
    3    2       2   savings  < 100  100..500     1
    >>> res.reasons(k=2).query("row == 0")[["rank", "feature", "action"]]
       rank   feature                      action
    0     1   savings  savings: < 100 -> 100..500
    1     2  duration          duration: 24 -> 12
    """

    scores: pd.DataFrame
    fixed: pd.Series
    n_reachable: pd.Series
    actions: pd.DataFrame
    standard_errors: pd.DataFrame
    method: str
    status: pd.Series | None = None
    _explained: Explained | None = field(default=None, repr=False, compare=False)
    _n_actions: int = field(default=1, repr=False, compare=False)

    def top_features(self, k: int = 3) -> pd.DataFrame:
        """The names of the ``k`` most responsive features of each row
        (missing past the row's responsive features)."""
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        values = self.scores.to_numpy()
        order = np.argsort(-values, axis=1, kind="stable")[:, :k]
        names = np.asarray(self.scores.columns, dtype=object)[order]
        positive = np.take_along_axis(values, order, axis=1) > 0
        names = np.where(positive, names, None)
        return pd.DataFrame(
            names, index=self.scores.index, columns=[f"top_{i + 1}" for i in range(k)]
        )

    def recourse(self, k: int | None = None, *, reference=None) -> pd.DataFrame:
        """The ``k`` cheapest distinct actions of each person, readably.

        One line per original column an action changes (the user's own
        column, e.g. a one-hot group as its category labels, for an action
        set built from a mixed table; the feature otherwise). Rows whose
        status is ``"approved"`` or ``"fixed"`` have no lines; a
        ``"responsive"`` or ``"joint_only"`` row has at least one option
        unless its search was cut short (``exact`` False).

        Options are ordered by ``cost``, the number of original columns
        changed, then by ``shift``, the total percentile shift of the changed
        features among the ``reference`` rows (mid-rank empirical CDF; a 0/1
        flip counts 0.5, a category switch 1). They are distinct (one per
        set of changed columns, the one with the smallest shift) and minimal
        (no option changes every column of a cheaper one), and exact: every
        point of the joint reachable set is searched, level by level in the
        number of constrained groups changed (continuous features without a
        grid on 101 even steps), until ``k`` options are certain; a row
        whose next level (past the first, always searched) would pass the
        explainer's ``max_joint`` points stops there with ``exact=False``.
        For a tree ensemble under ``certify="auto"`` the margin bound prunes
        first: only points it cannot rule out are predicted, and the budget
        counts the partial combinations bounded, so more rows finish.

        Parameters
        ----------
        k : int, optional
            Options per person; default the explainer's ``n_actions``.
        reference : DataFrame or array, optional
            Rows (in the user's columns or the features) whose distribution
            defines ``shift``, e.g. the training rows; default the explained
            rows.

        Returns
        -------
        DataFrame with columns
            ``row`` (index label of the explained row), ``option`` (1..k,
            cheapest first), ``feature``, ``before``, ``after`` (the user's
            own values), ``new_probability`` (the model's ``predict_proba``
            of the target after the whole option, or its decision score
            signed towards the target when it has no ``predict_proba``; NaN
            for a callable), ``cost``, ``shift`` and ``exact``.
        """
        explained = self._require_explained()
        k = self._n_actions if k is None else k
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        if reference is not None:
            reference = explained.action_set._values(
                explained.action_set._encoded(reference)
            )
            return recourse_frame(explained, int(k), reference)
        if int(k) not in explained.recourse_cache:
            explained.recourse_cache[int(k)] = recourse_frame(explained, int(k))
        return explained.recourse_cache[int(k)].copy()

    def reasons(self, k: int = 4) -> pd.DataFrame:
        """The principal reasons of each person not approved, ranked by
        responsiveness, each with the action that makes it work.

        A reason is an original column (the user's own column, or the
        feature) with responsiveness > 0: the score of its feature, or for
        a one-hot column the score of its current category's dummy (the
        share of the other categories the person can switch to that get the
        target). ``action`` is the cheapest change, by percentile shift
        among the explained rows, in that feature's own reachable set that
        gets the target (with the changes its constraints force), as text
        such as ``"savings: ... < 100 DM -> 500 <= ... < 1000 DM"``; empty
        when the score was sampled and no point on an even grid of the
        feature's range gets the target.

        Returns
        -------
        DataFrame with columns ``row``, ``rank`` (1..k), ``feature``,
        ``responsiveness`` and ``action``; rows with status ``"approved"``
        and rows without a responsive feature have no lines.
        """
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        return reasons_frame(self._require_explained(), self.scores, int(k))

    def to_json(self, *, k: int | None = None, n_reasons: int = 4, **kwargs) -> str:
        """The per-applicant report as JSON, with a batch summary.

        Per row: its status, its ``n_reasons`` principal reasons
        (:meth:`reasons`) and its ``k`` options (:meth:`recourse`; default
        the explainer's ``n_actions``). The schema is documented in
        :mod:`featimp.recourse._report` (``"schema":
        "featimp.recourse.report/1"``). ``kwargs`` go to :func:`json.dumps`
        (e.g. ``indent=2``).
        """
        return json.dumps(report(self, k=k, n_reasons=n_reasons), **kwargs)

    def to_html(
        self,
        *,
        k: int | None = None,
        n_reasons: int = 4,
        title="Recourse report",
        row=None,
    ) -> str:
        """The report of :meth:`to_json` as one static HTML page (no
        JavaScript): a summary table, then per applicant a heading, the
        status, the principal reasons and the actions; with ``row`` (a row
        label) that applicant's page alone."""
        data = report(self, k=k, n_reasons=n_reasons)
        return report_html(data, title=title, row=row)

    def write_report(
        self,
        directory,
        *,
        k: int | None = None,
        n_reasons: int = 4,
        title="Recourse report",
    ):
        """Write the report into ``directory``: ``report.json`` (as
        :meth:`to_json`), ``index.html`` (the batch summary, linking every
        applicant) and one static page per applicant under ``people/``.
        Returns the path of ``index.html``."""
        data = report(self, k=k, n_reasons=n_reasons)
        return write_report(data, directory, title=title)

    def _require_explained(self) -> Explained:
        if self._explained is None:
            raise ValueError(
                "this result was not made by ResponsivenessExplainer.explain, "
                "so it cannot describe actions"
            )
        return self._explained

    def summary(self) -> dict:
        """Shares of fixed rows and of rows without a responsive feature."""
        fixed = self.fixed.astype("boolean")
        return {
            "n": len(self.scores),
            "fixed": float(fixed.eq(True).mean()),
            "uncertified": float(fixed.isna().mean()),
            "no_responsive_feature": float((self.scores.max(axis=1) <= 0).mean()),
        }


class ResponsivenessExplainer(BaseEstimator):
    """Explain predictions by how responsive each feature is.

    Rows to explain are the action set's features, or, for an action set
    built by :meth:`ActionSet.from_data` from the user's own table, rows in
    that table's columns (text, categories, missing values), which are
    encoded with :meth:`ActionSet.encode`. Scores and actions are always on
    the features.

    The estimator may be fitted on the features (e.g. on
    ``action_set.encode(X)``): linear models, StandardScaler pipelines
    ending in one, and tree models then get their exact fast paths. It may
    also be fitted on the raw columns (say a Pipeline whose
    ColumnTransformer encodes them): each candidate point is then decoded
    with :meth:`ActionSet.decode` before ``predict``, which is slower.

    Parameters
    ----------
    estimator : fitted estimator with ``predict``, or a callable
        A callable gets arrays of the features.
    action_set : ActionSet
    target : label, default=1
    method : {"auto", "enumerate", "sample"}, default="auto"
    rule : {"per_value", "reference"}, default="per_value"
        Which points make up each feature's reachable set: featimp's rule,
        or exactly the authors' code (reachml's marginal filter); see
        :func:`~featimp.recourse.responsiveness_scores`. It also decides
        where the action of a row with a responsive feature is looked for.
    n_samples : int, default=100
        Values drawn per continuous feature in sample mode.
    random_state : int or None
    n_jobs : int or None
    certify : {"auto", "enumerate", "milp", "none"}, default="auto"
        How rows without a responsive feature are checked for fixedness:
        ``"auto"`` uses exact group-wise maximisation for linear models
        (MILP when a group cannot be enumerated); for binary tree ensembles
        (sklearn trees, forests and gradient boosting, HistGradientBoosting,
        XGBoost, LightGBM) a branch and bound over the cells of the model's
        splits, on bounds of its margin from its leaves
        (:mod:`featimp.recourse._trees`: certifies fixed rows and finds
        joint actions without enumerating, and lets the option search skip
        points that cannot get the target), then joint enumeration up to
        ``max_joint`` points; joint enumeration alone for other models and
        for ``"enumerate"``.
    max_joint : int, default=100_000
        Joint points enumerated per row, to certify fixedness and to search
        the options of :meth:`ResponsivenessResult.recourse`.
    n_actions : int, default=1
        Options per person that :meth:`ResponsivenessResult.recourse` gives
        by default.
    progress : bool, default=False
        Show progress bars (tqdm, on stderr) while scoring and certifying.

    Attributes
    ----------
    global_importances_ : Series
        Mean responsiveness of each feature over the rows given to ``fit``
        that the model does not predict as ``target``: the levers of
        recourse.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from featimp.datasets import load_german_recourse
    >>> from featimp.recourse import german_action_set
    >>> X, y = load_german_recourse()
    >>> clf = LogisticRegression(max_iter=2000).fit(X, y)
    >>> denied = X[clf.predict(X) == 0]
    >>> result = ResponsivenessExplainer(clf, german_action_set(X)).explain(denied)
    >>> result.scores.shape == (len(denied), 36), result.fixed.isna().any()
    (True, np.False_)

    The raw German credit table, explained in its own columns:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from featimp.datasets import load_german_credit
    >>> from featimp.recourse import ActionSet
    >>> X, y = load_german_credit()
    >>> A = ActionSet.from_data(X)
    >>> A[A.columns_of("age_in_years")].actionable = False
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression())
    >>> clf = clf.fit(A.encode(X), y)
    >>> result = ResponsivenessExplainer(clf, A, target="good").explain(X.head(3))
    >>> result.scores.shape, result.scores.columns[0]
    ((3, 61), 'status_of_existing_checking_account=... < 0 DM')
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": "no_validation",
        "action_set": [ActionSet],
        "target": "no_validation",
        "method": [StrOptions({"auto", "enumerate", "sample"})],
        "rule": [StrOptions(set(RULES))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "certify": [StrOptions({"auto", "enumerate", "milp", "none"})],
        "max_joint": [Interval(Integral, 1, None, closed="left")],
        "n_actions": [Interval(Integral, 1, None, closed="left")],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        action_set,
        *,
        target=1,
        method="auto",
        rule="per_value",
        n_samples=100,
        random_state=None,
        n_jobs=None,
        certify="auto",
        max_joint=100_000,
        n_actions=1,
        progress=False,
    ):
        self.estimator = estimator
        self.action_set = action_set
        self.target = target
        self.method = method
        self.rule = rule
        self.n_samples = n_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.certify = certify
        self.max_joint = max_joint
        self.n_actions = n_actions
        self.progress = progress

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the mean responsiveness of each feature over the rows of
        ``X`` not predicted as ``target`` (all rows if there are none)."""
        values = check_input(X, self.action_set)
        model = on_features(self.estimator, self.action_set)
        predict = prediction_function(model, self.action_set.names)
        denied = np.asarray(predict(values)) != self.target
        scores = self._details(values[denied] if denied.any() else values).scores
        self.global_importances_ = pd.Series(
            scores.mean(axis=0), index=self.action_set.names, name="responsiveness"
        )
        self.n_features_in_ = len(self.action_set)
        return self

    def explain(self, X) -> ResponsivenessResult:
        """Scores, fixedness and a recourse action for every row of ``X``.

        ``X`` holds the action set's features, or the user's own columns
        when the action set has ``raw_columns``; a pandas Series is one row
        (its name is the row's label). Rows are checked against the action
        set (:meth:`ActionSet.validate`) before anything is explained: a row
        that breaks it (bounds, a one-hot group without exactly one 1, ...)
        is a ValueError naming the row's position and the constraint. Rows
        the model already predicts as ``target`` get ``status="approved"``.
        """
        self._validate_params()
        X = _one_row(X)
        values = check_input(X, self.action_set)
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(values))
        with phases("explain", [1, 1, 1]) as advance:
            details = self._details(values)
            advance()
            names = self.action_set.names
            model = on_features(self.estimator, self.action_set)
            predict = prediction_function(model, names)
            approved = np.asarray(predict(values)) == self.target
            bounds = self._bounds(model, predict, values)
            fixed, n_reachable, actions = self._certify(
                values, details.scores, approved, bounds
            )
            status = row_status(approved, details.scores, fixed)
            explained = Explained(
                model=model,
                action_set=self.action_set,
                target=self.target,
                rule=self.rule,
                max_points=self.max_joint,
                values=values,
                index=index,
                status=status,
                bounds=bounds,
            )
            advance()
            if self.certify != "none":
                self._decide_by_search(explained, fixed, actions, approved, details)
        return ResponsivenessResult(
            scores=pd.DataFrame(details.scores, index=index, columns=names),
            fixed=pd.Series(fixed, index=index, dtype="boolean", name="fixed"),
            n_reachable=pd.Series(n_reachable, index=index, name="n_reachable"),
            actions=pd.DataFrame(actions, index=index, columns=names),
            standard_errors=pd.DataFrame(
                details.standard_errors, index=index, columns=names
            ),
            method=details.method,
            status=pd.Series(
                pd.Categorical(explained.status, categories=STATUSES),
                index=index,
                name="status",
            ),
            _explained=explained,
            _n_actions=self.n_actions,
        )

    def _decide_by_search(self, explained, fixed, actions, approved, details):
        """Rows neither scores nor certificates decided: the search of
        :meth:`ResponsivenessResult.recourse` (with ``n_actions`` options,
        kept for it) shows recourse where it finds a joint action, and such
        a row is ``joint_only``, not ``not_certified``."""
        rows = np.flatnonzero(explained.status == "not_certified")
        if not rows.size:
            return
        answers = search_options(explained, list(rows), self.n_actions)
        for i, (options, _) in zip(rows, answers, strict=True):
            if options:
                fixed[i] = False
                actions[i] = options[0][2] - explained.values[i]
        explained.status = row_status(approved, details.scores, fixed)

    def _details(self, X):
        return score_details(
            self.estimator,
            X,
            self.action_set,
            target=self.target,
            method=self.method,
            rule=self.rule,
            n_samples=self.n_samples,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            progress=self.progress,
        )

    def _bounds(self, model, predict, values):
        """Margin bounds of a binary tree ensemble (None for other models,
        and when ``certify`` is not "auto")."""
        if self.certify != "auto" or linear_form(model, self.action_set.names):
            return None
        columns = _model_columns(model, self.action_set.names)
        return margin_bounds(model, predict, self.target, columns, values)

    def _certify(self, values, scores, approved, bounds):
        n, d = values.shape
        fixed = np.full(n, pd.NA, dtype=object)
        actions = np.full((n, d), np.nan)
        n_reachable = np.full(n, np.nan)
        model = on_features(self.estimator, self.action_set)
        predict = prediction_function(model, self.action_set.names)
        linear = linear_form(model, self.action_set.names)
        scorer = FeatureScorer(model, predict, self.target, self.action_set)
        groups = build_groups(self.action_set, rule=self.rule)
        rows = track(enumerate(values), "certifying", total=n, bar=self.progress)

        def clear(i):
            if i % 1000 == 999:  # bound the memory of the per-state caches
                for g in groups:
                    g.clear()

        # Rows side by side: one prediction per round for all of them.
        context = groups, scorer, linear, bounds
        answers = run_searches(
            lambda points: target_hits(predict, self.target, points),
            (self._certify_row(x, scores[i], approved[i], *context) for i, x in rows),
            clear,
        )
        for i, (size, found) in enumerate(answers):
            n_reachable[i] = size
            if found is not None:
                fixed[i] = found is False
                if found is not False:
                    actions[i] = found
        return fixed, n_reachable, actions

    def _certify_row(self, x, row_scores, approved, groups, scorer, linear, bounds):
        """A row's joint size and its action (False if certified fixed, None
        if undecided): a search of :func:`run_searches`."""
        size = self._joint_size(groups, x)
        if self.certify == "none":
            return size, None
        if approved:  # the null action already gets the target
            return size, np.zeros_like(x)
        if row_scores.max() > 0:
            action = yield from self._one_dim_action(x, row_scores, groups, scorer)
            return size, action
        return size, (yield from self._joint_action(x, groups, linear, size, bounds))

    def _joint_size(self, groups, x):
        sizes = []
        for g in groups:
            if len(g.group) == 1:  # unconstrained: no need to enumerate
                sizes.append(g.size(x[g.group]))
                continue
            try:
                sizes.append(g.joint(x[g.group]).shape[0])
            except ValueError:  # a continuous feature without a grid
                return np.nan
        size = float(np.prod(sizes)) if sizes else 1.0
        return size if np.isfinite(size) else np.nan

    def _one_dim_action(self, x, row_scores, groups, scorer):
        """The first change of the most responsive feature (in the order of
        its values) that gets the target."""
        j = int(np.argmax(row_scores))
        g = next(g for g in groups if j in g.group)
        element = self.action_set[j]
        if len(g.group) == 1 and (element.discrete or element.grid is not None):
            changes = (element.values(x[j]) - x[j])[:, None]
        elif not element.discrete and element.grid is None:
            # A sampled feature: look for the action on an even grid.
            changes = _grid_changes(element, x[j])[:, None]
            g = type(g)(self.action_set, [j])
        else:
            changes = g.one_dim(x[g.group], g.group.index(j))
        points = np.repeat(x[None, :], len(changes), axis=0)
        points[:, g.group] += changes
        first = yield from scorer.first_hit(points, g.group)
        return np.full_like(x, np.nan) if first is None else points[first] - x

    def _joint_action(self, x, groups, linear, size, bounds=None):
        """False if certified fixed, a change if recourse exists, None if
        neither could be shown: a search of :func:`run_searches`."""
        if linear is not None and self.certify in ("auto", "milp"):
            use_milp = self.certify == "milp" or not np.isfinite(size)
            return _linear_certificate(
                x, groups, linear, self.target, self.action_set, use_milp
            )
        if self.certify == "milp":
            return None
        enumerable = size <= self.max_joint
        if bounds is not None:
            parts = row_parts(bounds, groups, x)
            answer, point = (
                (None, None)
                if parts is None
                else bounds.reach(x, parts, budget=_BOUND_BUDGET)
            )
            if answer is False:
                return False
            # The enumeration's action, when it runs, is the first hit in
            # its order; otherwise the bound's point, if the model agrees.
            if answer and not enumerable and (yield point[None, :])[0]:
                return point - x
        if not enumerable:
            return None
        points = reachable_set(self.action_set, x, max_points=self.max_joint)
        hit = np.flatnonzero((yield points))
        return points[hit[0]] - x if hit.size else False


#: Candidate evaluations of the tree-bound search per row (each tests the
#: candidate against every leaf the group's features split).
_BOUND_BUDGET = 20_000


def _one_row(X):
    """A pandas Series is one row, labelled by its name."""
    if not isinstance(X, pd.Series):
        return X
    name = 0 if X.name is None else X.name
    return X.to_frame(name=name).T.infer_objects()


def _linear_certificate(x, groups, linear, target, action_set, use_milp):
    w, b, labels = linear
    sign = 1.0 if target == labels[1] else -1.0
    if use_milp:
        try:
            margin, change = best_linear_action(w, b, x, action_set, sign=sign)
        except (NotImplementedError, ValueError):
            return None
    else:
        # The score is additive over groups, so the best joint action is the
        # best action of each group, found by enumeration.
        change = np.zeros_like(x)
        for g in groups:
            joint = _extremes(g, x) if len(g.group) == 1 else g.joint(x[g.group])
            gains = sign * (joint @ w[g.group])
            change[g.group] = joint[int(np.argmax(gains))]
        margin = float(w @ (x + change) + b)
    return change if labels[int(margin > 0)] == target else False


def _extremes(g, x):
    """A lone feature's best linear action is at one end of its range."""
    j, element = g.group[0], g.elements[0]
    lo, hi = element.interval(x[j])
    if element.discrete:
        lo, hi = np.ceil(lo - x[j]) + x[j], np.floor(hi - x[j]) + x[j]
    return np.array([[lo], [hi]]) - x[j]


def _grid_changes(element, x, n=101):
    lo, hi = element.interval(x)
    return np.linspace(lo, hi, n) - x
