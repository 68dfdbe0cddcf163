"""Per-applicant reports of a responsiveness result: JSON and static HTML.

The JSON schema (``"schema": "featimp.recourse.report/1"``; fields are only
ever added under this name):

.. code-block:: text

    {
      "schema": "featimp.recourse.report/1",
      "target": <label>,            the desired prediction
      "method": "enumerate" | "sample",
      "score": "probability" | "decision_score" | null,
                                    what each option's new_probability holds
      "summary": {
        "n": <int>,                 rows explained
        "status": {<status>: <int>, ...},  all five statuses, 0 if absent
        "fixed": <float>, "uncertified": <float>,
        "no_responsive_feature": <float>   shares, as ResponsivenessResult.summary
      },
      "people": [
        {
          "row": <label>,           the row's index label
          "status": <status>,
          "reasons": [{"rank": <int>, "feature": <str>,
                       "responsiveness": <float>, "action": <str>}, ...],
          "options": [{"option": <int>, "cost": <int>, "shift": <float>,
                       "new_probability": <float or null>, "exact": <bool>,
                       "changes": [{"feature": <str>, "before": <value>,
                                    "after": <value>}, ...]}, ...]
        }, ...
      ]
    }

``reasons`` and ``options`` are those of :meth:`ResponsivenessResult.reasons`
and :meth:`ResponsivenessResult.recourse`; values are the user's own (text
for categories, numbers otherwise, null for missing).
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

from featimp.recourse._reasons import STATUSES
from featimp.recourse._recourse import action_text, readable

REPORT_SCHEMA = "featimp.recourse.report/1"

_STATUS_TEXT = {
    "approved": "already approved: nothing to change",
    "responsive": "can be approved by changing one feature",
    "joint_only": "no single change works; only joint changes do",
    "fixed": "no allowed change gets approval (certified)",
    "not_certified": "could not be decided",
}


def report(result, *, k=None, n_reasons=4) -> dict:
    """The report of ``result`` as JSON-safe data (schema above)."""
    options = result.recourse(k=k)
    reasons = result.reasons(k=n_reasons)
    explained = result._require_explained()
    counts = result.status.value_counts()
    reasons_of, options_of = _reasons_by_row(reasons), _options_by_row(options)
    people = [
        {
            "row": readable(row),
            "status": status,
            "reasons": reasons_of.get(row, []),
            "options": [o for _, o in sorted(options_of.get(row, {}).items())],
        }
        for row, status in zip(explained.index, explained.status, strict=True)
    ]
    return {
        "schema": REPORT_SCHEMA,
        "target": readable(explained.target),
        "method": result.method,
        "score": explained.score_kind,
        "summary": {
            **result.summary(),
            "status": {s: int(counts.get(s, 0)) for s in STATUSES},
        },
        "people": people,
    }


def _reasons_by_row(reasons) -> dict:
    out: dict = {}
    for r in reasons.itertuples(index=False):
        out.setdefault(r.row, []).append(
            {
                "rank": int(r.rank),
                "feature": r.feature,
                "responsiveness": float(r.responsiveness),
                "action": r.action,
            }
        )
    return out


def _options_by_row(lines) -> dict:
    """Per row, per option number, the option with its changes in order."""
    out: dict = {}
    for c in lines.itertuples(index=False):
        mine = out.setdefault(c.row, {})
        option = mine.get(c.option)
        if option is None:
            probability = float(c.new_probability)
            option = mine[c.option] = {
                "option": int(c.option),
                "cost": int(c.cost),
                "shift": float(c.shift),
                "new_probability": None if math.isnan(probability) else probability,
                "exact": bool(c.exact),
                "changes": [],
            }
        option["changes"].append(
            {"feature": c.feature, "before": c.before, "after": c.after}
        )
    return out


def report_html(data: dict, *, title="Recourse report", row=None) -> str:
    """A static page (no JavaScript) of a :func:`report`.

    The batch summary followed by every person, or, with ``row`` (a row
    label as in ``data["people"]``, compared as text), that one person's
    page alone. A row the report does not hold is a ValueError naming it.
    """
    label = score_label(data)
    if row is not None:
        return _person_page(data, find_person(data, row), title, label)
    body = _summary(data)
    for person in data["people"]:
        body += _person(person, label, level=2)
    return _page(title, body)


def summary_html(data: dict, *, title="Recourse report", links=None) -> str:
    """The batch summary of a :func:`report` as a static page: the status
    counts, then one line per person (status, first reason, cheapest
    action), each linked to ``links[i]`` (the i-th person's page) if given.
    """
    e = html.escape
    label = score_label(data)
    body = _summary(data)
    body.append(
        "<h2>Applicants</h2><table><tr><th>row</th><th>status</th>"
        "<th>first reason</th><th>cheapest action</th></tr>"
    )
    for i, person in enumerate(data["people"]):
        name = e(str(person["row"]))
        if links is not None:
            name = f'<a href="{e(links[i])}">{name}</a>'
        reason = person["reasons"][0]["feature"] if person["reasons"] else ""
        options = person["options"]
        action = option_text(options[0], label) if options else ""
        body.append(
            f"<tr><td>{name}</td><td>{e(person['status'])}</td>"
            f"<td>{e(reason)}</td><td>{e(action)}</td></tr>"
        )
    body.append("</table>")
    return _page(title, body)


def write_report(data: dict, directory, *, title="Recourse report") -> Path:
    """Write a :func:`report` into ``directory`` (made if missing):
    ``report.json``, ``index.html`` (:func:`summary_html`, linking every
    person) and one page per person under ``people/``. Returns the path of
    ``index.html``.

    A person's page is ``people/row-<label>.html`` when the row label is a
    short plain name (letters, digits, ``_.-``), else ``people/pos-<i>.html``
    for the i-th person.
    """
    directory = Path(directory)
    people = directory / "people"
    people.mkdir(parents=True, exist_ok=True)
    links = []
    for i, person in enumerate(data["people"]):
        name = page_name(person["row"], i)
        page = _person_page(data, person, title, score_label(data))
        (people / name).write_text(page)
        links.append(f"people/{name}")
    (directory / "report.json").write_text(json.dumps(data, indent=2))
    index = directory / "index.html"
    index.write_text(summary_html(data, title=title, links=links))
    return index


def page_name(row, position: int) -> str:
    """The file name of a person's page (see :func:`write_report`)."""
    text = str(row)
    if _PLAIN_NAME.fullmatch(text):
        return f"row-{text}.html"
    return f"pos-{position}.html"


def _person_page(data: dict, person: dict, title: str, label: str) -> str:
    body = _person(person, label, level=2)
    return _page(f"{title}: applicant {person['row']}", [*body, _footer(data)])


def find_person(data: dict, row) -> dict:
    """The person of ``data`` whose row label reads as ``row``."""
    for person in data["people"]:
        if str(person["row"]) == str(row):
            return person
    raise ValueError(f"row {row!r} is not in the report")


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")


def _page(title: str, body: list[str]) -> str:
    e = html.escape
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{e(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:50em;margin:auto}"
            "td,th{padding:0 1em;text-align:left}</style>",
            f"</head><body><h1>{e(title)}</h1>",
            *body,
            "</body></html>",
        ]
    )


def _summary(data: dict) -> list[str]:
    e = html.escape
    summary = data["summary"]
    parts = [
        f"<p>Target: {e(str(data['target']))}. Rows explained: {summary['n']}.</p>",
        "<h2>Summary</h2>",
        "<table><tr><th>status</th><th>rows</th></tr>",
    ]
    parts += [
        f"<tr><td>{e(s)}</td><td>{n}</td></tr>" for s, n in summary["status"].items()
    ]
    parts.append("</table>")
    return parts


def _footer(data: dict) -> str:
    return f"<p>Target: {html.escape(str(data['target']))}.</p>"


def score_label(data: dict) -> str:
    return "new score" if data["score"] == "decision_score" else "new probability"


def option_text(option: dict, label: str = "new probability") -> str:
    """One option of a report as a sentence, with its cost and new score."""
    changes = [(c["feature"], c["before"], c["after"]) for c in option["changes"]]
    p = option["new_probability"]
    score = "" if p is None else f", {label} {p:.2f}"
    return f"{action_text(changes)} (cost {option['cost']}{score})"


def _person(person: dict, label: str, *, level: int) -> list[str]:
    e = html.escape
    status = person["status"]
    h, sub = f"h{level}", f"h{level + 1}"
    parts = [
        f"<{h}>Applicant {e(str(person['row']))}</{h}>",
        f"<p>Status: <strong>{e(status)}</strong> ({e(_STATUS_TEXT[status])})</p>",
    ]
    if person["reasons"]:
        parts.append(f"<{sub}>Principal reasons</{sub}><ol>")
        parts += [
            f"<li>{e(r['feature'])} (responsiveness {r['responsiveness']:.2f}): "
            f"{e(r['action'])}</li>"
            for r in person["reasons"]
        ]
        parts.append("</ol>")
    if person["options"]:
        parts.append(f"<{sub}>Actions</{sub}><ol>")
        parts += [f"<li>{e(option_text(o, label))}</li>" for o in person["options"]]
        parts.append("</ol>")
    return parts
