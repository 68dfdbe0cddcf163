"""Reason codes, row status, input checks and reports on German credit."""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from featimp.recourse import (
    ResponsivenessExplainer,
    ResponsivenessResult,
    compare_reasons,
)
from featimp.recourse._reasons import STATUSES
from featimp.recourse._scores import linear_form


def _apply_text(person, action):
    """Write an action text (``"col: before -> after; ..."``) into a row."""
    person = person.copy()
    for change in action.split("; "):
        column, values = change.split(": ", 1)
        before, after = values.split(" -> ")
        assert str(person[column].iloc[0]) == before
        kind = person[column].dtype
        value = after if not pd.api.types.is_numeric_dtype(kind) else float(after)
        person[column] = pd.Series([value], index=person.index).astype(kind)
    return person


def test_reasons_are_responsive_and_ranked(german_paper):
    _, _, _, denied, res = german_paper
    reasons = res.reasons(k=4)
    assert list(reasons.columns) == [
        "row",
        "rank",
        "feature",
        "responsiveness",
        "action",
    ]
    assert (reasons.responsiveness > 0).all()
    for row, person in reasons.groupby("row", sort=False):
        assert person["rank"].tolist() == list(range(1, len(person) + 1))
        assert person.responsiveness.is_monotonic_decreasing
        scores = res.scores.loc[row]
        np.testing.assert_allclose(person.responsiveness, scores[person.feature])
        assert len(person) == min(4, int((scores > 0).sum()))
    without = res.scores.index[res.scores.max(axis=1) <= 0]
    assert not set(reasons.row) & set(without)
    assert set(reasons.row) | set(without) == set(denied.index)


def test_every_reason_action_flips_the_decision(german_raw_explainer):
    X, A, clf, denied, explainer = german_raw_explainer
    reasons = explainer.explain(denied).reasons(k=4)
    assert (reasons.action != "").all()
    people = pd.concat(
        _apply_text(X.loc[[row]], action)
        for row, action in reasons[["row", "action"]].values
    )
    assert (clf.predict(A.encode(people)) == "good").all()
    one_hot = reasons[reasons.feature == "savings_account_and_bonds"]
    assert one_hot.action.str.startswith("savings_account_and_bonds: ").all()


def test_status_per_row(german_paper):
    X, A, clf, denied, res = german_paper
    approved = X[clf.predict(X) == 1].head(10)
    result = ResponsivenessExplainer(clf, A).explain(pd.concat([denied, approved]))
    status = result.status
    assert (status.loc[approved.index] == "approved").all()
    rest = status.loc[denied.index]
    responsive = res.scores.max(axis=1) > 0
    assert (rest[responsive] == "responsive").all()
    assert (rest[~responsive & res.fixed.eq(True)] == "fixed").all()
    assert (rest[~responsive & res.fixed.eq(False)] == "joint_only").all()
    counts = rest.value_counts()
    assert counts["fixed"] > 0 and counts["responsive"] > 0
    assert not set(result.reasons().row) & set(approved.index)


def test_approved_rows_flagged_not_scored(german_raw_explainer):
    X, A, clf, _, explainer = german_raw_explainer
    approved = X[clf.predict(A.encode(X)) == "good"].head(5)
    result = explainer.explain(approved)
    assert (result.status == "approved").all()
    assert result.reasons().empty and result.recourse().empty


def test_a_series_is_one_row(german_raw_explainer):
    *_, denied, explainer = german_raw_explainer
    row = denied.index[0]
    one = explainer.explain(denied.loc[row])
    assert list(one.scores.index) == [row]
    many = explainer.explain(denied.head(3))
    pd.testing.assert_series_equal(one.scores.loc[row], many.scores.loc[row])
    assert one.reasons().equals(many.reasons().query("row == @row"))


def test_invalid_row_names_row_and_constraint(german_raw_explainer):
    _, A, _, denied, explainer = german_raw_explainer
    encoded = A.encode(denied.head(3))
    savings = A.columns_of("savings_account_and_bonds")
    encoded.loc[encoded.index[1], savings] = 1.0
    with pytest.raises(ValueError, match=r"row 1: exactly one of savings_account"):
        explainer.explain(encoded)
    out_of_range = A.encode(denied.head(2))
    out_of_range.iloc[0, A.index(["duration_in_month"])[0]] = 100
    with pytest.raises(ValueError, match=r"row 0: bounds of duration_in_month"):
        explainer.explain(out_of_range)


def test_compare_reasons_flags_unactionable_shap_reasons(german_paper):
    X, _, clf, denied, res = german_paper
    # SHAP values of a linear score with independent features.
    w, _, _ = linear_form(clf, list(X.columns))
    shap = (denied - X.mean()) * w
    table = compare_reasons(res, shap, k=4)
    assert set(table.columns) >= {"row", "rank", "feature", "actionable"}
    assert len(table) == 4 * len(denied)
    scores = [res.scores.at[r, f] for r, f in table[["row", "feature"]].values]
    assert (table.actionable == (np.array(scores) > 0)).all()
    # Most of SHAP's reasons cannot be acted on (the paper reports 92 %).
    assert 1 - table.actionable.mean() > 0.5


def test_results_not_made_by_explain_cannot_describe_actions(german_paper):
    *_, res = german_paper
    bare = ResponsivenessResult(
        res.scores,
        res.fixed,
        res.n_reachable,
        res.actions,
        res.standard_errors,
        res.method,
    )
    with pytest.raises(ValueError, match="not made by"):
        bare.reasons()


# Per-applicant reports.


@pytest.fixture(scope="module")
def german_report(german_raw_explainer):
    X, A, clf, denied, explainer = german_raw_explainer
    approved = X[clf.predict(A.encode(X)) == "good"].head(3)
    res = explainer.explain(pd.concat([denied.head(12), approved]))
    return res, approved


def _text(changes):
    return "; ".join(f"{f}: {b} -> {a}" for f, b, a in changes)


def _option_texts(lines):
    texts = {}
    for (row, _), option in lines.groupby(["row", "option"], sort=False):
        changes = option[["feature", "before", "after"]].values
        texts.setdefault(row, []).append(_text(changes))
    return texts


def test_json_report_schema_and_content(german_report):
    res, approved = german_report
    data = json.loads(res.to_json(indent=2))
    assert data["schema"] == "featimp.recourse.report/1"
    assert data["target"] == "good" and data["score"] == "probability"
    assert data["summary"]["n"] == len(res.scores)
    assert data["summary"]["status"] == {
        s: int((res.status == s).sum()) for s in STATUSES
    }
    people = {p["row"]: p for p in data["people"]}
    assert list(people) == list(res.scores.index)
    texts = _option_texts(res.recourse())
    reasons = res.reasons()
    for row, person in people.items():
        assert person["status"] == res.status.loc[row]
        got = [
            _text((c["feature"], c["before"], c["after"]) for c in o["changes"])
            for o in person["options"]
        ]
        assert got == texts.get(row, [])
        mine = reasons[reasons.row == row]
        assert [r["feature"] for r in person["reasons"]] == mine.feature.tolist()
        assert [r["action"] for r in person["reasons"]] == mine.action.tolist()
    for row in approved.index:
        assert people[row]["options"] == [] and people[row]["reasons"] == []


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self._open = [], {}, None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("h1", "h2", "h3", "li"):
            self._open = tag
            self.text.setdefault(tag, []).append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.text[self._open][-1] += data


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless browser installed")
def test_html_report_screenshot_in_a_browser(german_report, tmp_path):
    """A real browser lays the page out: the screenshot has text on it (dark
    pixels on the light page), not a blank or an error page."""
    image = pytest.importorskip("matplotlib.image")
    res, _ = german_report
    page = tmp_path / "report.html"
    page.write_text(res.to_html(), encoding="utf-8")
    shot = tmp_path / "shot.png"
    command = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        "--window-size=1000,1400",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    pixels = image.imread(shot)[..., :3].mean(axis=2)
    assert pixels.shape == (1400, 1000)
    dark = pixels < 0.4
    assert 0.002 < dark.mean() < 0.5  # text, on a page that is mostly light
    assert dark[: len(dark) // 4].any()  # the heading is at the top


def test_html_report_renders_headings_and_actions(german_report):
    res, _ = german_report
    page = _Page()
    page.feed(res.to_html())
    assert "script" not in page.tags
    assert page.text["h1"] == ["Recourse report"]
    rows = list(res.scores.index)
    assert page.text["h2"] == ["Summary"] + [f"Applicant {r}" for r in rows]
    assert {"Principal reasons", "Actions"} == set(page.text["h3"])
    items = page.text["li"]
    for texts in _option_texts(res.recourse()).values():
        for text in texts:
            assert any(item.startswith(text + " (cost ") for item in items), text
    for action in res.reasons().action:
        assert any(item.endswith(": " + action) for item in items)
