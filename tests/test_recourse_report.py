"""Per-applicant reports (featimp/recourse/_report.py): the JSON schema and
the HTML page, in a browser where there is one."""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from featimp.recourse._reasons import STATUSES


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
