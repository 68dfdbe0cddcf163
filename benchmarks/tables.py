"""README tables made from the benchmarks' JSON, never typed by hand.

Each table sits in README.md between ``<!-- bench-table: NAME -->`` and
``<!-- /bench-table -->``; this script rewrites what is between them from
``benchmarks/results/``:

    python benchmarks/tables.py            # print every table
    python benchmarks/tables.py --write    # rewrite them in README.md
    python benchmarks/tables.py --check    # exit 1 if README.md is stale

(``make bench-table`` runs ``--write``.) A test runs ``--check``, so a
README figure always is the figure of the committed JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"(<!-- bench-table: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /bench-table -->)",
    re.S,
)


def _load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _short(value: float) -> str:
    """0.961 -> '.961', as the paper's charts print them."""
    text = f"{value:.3f}"
    return text[1:] if text.startswith("0.") else text.replace("-0.", "-.")


KAN_DATASETS = {
    "breast_cancer": "breast_cancer F1",
    "wine": "wine F1",
    "digits3": "digits(3) F1",
    "make_classification": "make_classification F1",
    "diabetes": "diabetes R^2",
    "make_regression": "make_regression R^2",
}
KAN_VARIANTS = ("KAN-L1", "KAN-L2", "KAN-SI", "KAN-KO")
BASELINES = ("LASSO", "MI", "Perm-RF", "SVM-RFE")


def kan_paper() -> str:
    """``kan_paper.json``: ours (published) per dataset and selector, and the
    counts the README's text quotes."""
    data = _load("kan_paper.json")
    columns = ("all", *KAN_VARIANTS, *BASELINES)
    lines = [
        "| dataset | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    met = total = wins = 0
    for key, label in KAN_DATASETS.items():
        ours, published = data[key]["ours"], data[key]["published"]
        cells = [f"{_short(ours[c])} ({_short(published[c])})" for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        for variant in KAN_VARIANTS:
            total += 1
            met += round(ours[variant], 3) >= published[variant]
        best_kan = max(round(ours[v], 3) for v in KAN_VARIANTS)
        wins += best_kan >= max(round(ours[b], 3) for b in BASELINES)
    lines += [
        "",
        f"{met} of {total} KAN figures are at or above the published ones; the "
        f"best KAN variant matches or beats the best baseline on {wins} of "
        f"{len(KAN_DATASETS)} datasets (all rounded to 3 decimals).",
    ]
    return "\n".join(lines)


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def significance() -> str:
    """``significance.json``: power and FDR on the planted problems, and the
    selection rates on pure noise, for every method."""
    data = _load("significance.json")
    alpha = data["alpha"]
    out = []
    for title, summary in (
        ("10 seeds (40 on pure noise), every method", data["summary"]),
        (
            "the methods under 3 s a run, more seeds",
            data.get("summary_many_seeds") or [],
        ),
    ):
        if not summary:
            continue
        runs = sorted({e["runs"] for e in summary})
        out.append(
            f"*{title}* (runs per cell: {', '.join(map(str, runs))}; alpha = {alpha}):"
        )
        out.append("")
        planted = [e for e in summary if e["scenario"] != "noise"]
        out += [
            "| scenario | method | power | FDR (mean FDP) | BH bound | features "
            "selected | s/run |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {e['scenario']} | {e['method']} | {_cell(e['power'])} | "
            f"{_cell(e['fdr'])} | {_cell(e['fdr_bound'])} | "
            f"{e['n_selected']:.1f} | {e['seconds']:.2f} |"
            for e in planted
        ]
        noise = [e for e in summary if e["scenario"] == "noise"]
        if noise:
            out += [
                "",
                "| pure noise: method | share of features selected | most "
                "often selected feature | runs selecting anything | s/run |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {e['method']} | {_cell(e['selection_rate'])} | "
                f"{_cell(e['max_feature_rate'])} | {_cell(e['any_selected'])} | "
                f"{e['seconds']:.2f} |"
                for e in noise
            ]
        out.append("")
    return "\n".join(out).rstrip()


TABLES = {"kan-paper": kan_paper, "significance": significance}


def render(text: str) -> str:
    """``text`` with every bench-table block regenerated."""

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"README.md: unknown bench-table {name!r}")
        return f"{match[1]}{TABLES[name]()}\n{match[4]}"

    return _BLOCK.sub(replace, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite README.md")
    action.add_argument(
        "--check", action="store_true", help="exit 1 if README.md's tables are stale"
    )
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        for name, make in TABLES.items():
            print(f"## {name}\n\n{make()}\n")
        return 0
    text = README.read_text()
    fresh = render(text)
    if args.check:
        pairs = zip(_BLOCK.finditer(text), _BLOCK.finditer(fresh), strict=True)
        stale = [old["name"] for old, new in pairs if old["body"] != new["body"]]
        if stale:
            print(
                f"README.md tables out of date: {', '.join(stale)} "
                "(run: python benchmarks/tables.py --write)",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
