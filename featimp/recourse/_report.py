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
import math

from featimp.recourse._reasons import STATUSES
from featimp.recourse._recourse import action_text, readable

SCHEMA = "featimp.recourse.report/1"

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
    by_row = dict(list(reasons.groupby("row", sort=False)))
    options_of = dict(list(options.groupby("row", sort=False)))
    people = []
    for row, status in zip(explained.index, explained.status, strict=True):
        mine = by_row.get(row, reasons.iloc[:0])
        people.append(
            {
                "row": readable(row),
                "status": status,
                "reasons": [
                    {
                        "rank": int(r.rank),
                        "feature": r.feature,
                        "responsiveness": float(r.responsiveness),
                        "action": r.action,
                    }
                    for r in mine.itertuples(index=False)
                ],
                "options": _options(options_of.get(row, options.iloc[:0])),
            }
        )
    return {
        "schema": SCHEMA,
        "target": readable(explained.target),
        "method": result.method,
        "score": explained.score_kind,
        "summary": {
            **result.summary(),
            "status": {s: int(counts.get(s, 0)) for s in STATUSES},
        },
        "people": people,
    }


def _options(lines) -> list[dict]:
    out = []
    for option, changes in lines.groupby("option", sort=True):
        first = changes.iloc[0]
        probability = float(first.new_probability)
        out.append(
            {
                "option": int(option),
                "cost": int(first.cost),
                "shift": float(first["shift"]),
                "new_probability": None if math.isnan(probability) else probability,
                "exact": bool(first.exact),
                "changes": [
                    {"feature": c.feature, "before": c.before, "after": c.after}
                    for c in changes.itertuples(index=False)
                ],
            }
        )
    return out


def to_html(data: dict, *, title="Recourse report") -> str:
    """A static page (no JavaScript) of a :func:`report`."""
    e = html.escape
    summary = data["summary"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:auto}"
        "td,th{padding:0 1em;text-align:left}</style>",
        f"</head><body><h1>{e(title)}</h1>",
        f"<p>Target: {e(str(data['target']))}. Rows explained: {summary['n']}.</p>",
        "<h2>Summary</h2>",
        "<table><tr><th>status</th><th>rows</th></tr>",
    ]
    parts += [
        f"<tr><td>{e(s)}</td><td>{n}</td></tr>" for s, n in summary["status"].items()
    ]
    parts.append("</table>")
    label = "new score" if data["score"] == "decision_score" else "new probability"
    for person in data["people"]:
        parts += _person(person, label)
    parts.append("</body></html>")
    return "\n".join(parts)


def _person(person: dict, label: str) -> list[str]:
    e = html.escape
    status = person["status"]
    parts = [
        f"<h2>Applicant {e(str(person['row']))}</h2>",
        f"<p>Status: <strong>{e(status)}</strong> ({e(_STATUS_TEXT[status])})</p>",
    ]
    if person["reasons"]:
        parts.append("<h3>Principal reasons</h3><ol>")
        parts += [
            f"<li>{e(r['feature'])} (responsiveness {r['responsiveness']:.2f}): "
            f"{e(r['action'])}</li>"
            for r in person["reasons"]
        ]
        parts.append("</ol>")
    if person["options"]:
        parts.append("<h3>Actions</h3><ol>")
        for o in person["options"]:
            changes = [(c["feature"], c["before"], c["after"]) for c in o["changes"]]
            p = o["new_probability"]
            score = "" if p is None else f", {label} {p:.2f}"
            parts.append(
                f"<li>{e(action_text(changes))} (cost {o['cost']}{score})</li>"
            )
        parts.append("</ol>")
    return parts
