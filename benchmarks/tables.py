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


#: Issue 17's credit data in kan_paper.py (no published figures).
KAN_CREDIT = {
    "german_credit": "German credit (recourse encoding, 36 columns) F1",
    "taiwan_credit": "Taiwan credit (3,000-row sample, 17 columns) F1",
}


def kan_credit() -> str:
    """``kan_paper.json``'s credit datasets: every selector, and how far the
    best KAN variant is from the best baseline."""
    data = _load("kan_paper.json")
    columns = ("all", *KAN_VARIANTS, *BASELINES)
    lines = [
        "| dataset | " + " | ".join(columns) + " | best KAN - best baseline |",
        "|---" * (len(columns) + 2) + "|",
    ]
    for key, label in KAN_CREDIT.items():
        ours = data[key]["ours"]
        gap = max(ours[v] for v in KAN_VARIANTS) - max(ours[b] for b in BASELINES)
        cells = [_short(ours[c]) for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {gap:+.3f} |")
    return "\n".join(lines)


def kan_training() -> str:
    """The authors' training against ours, both scored by the same code:
    KAN-L1 / L2 / SI / KO of ``kan_paper_authors_training.json``, of
    ``kan_paper.json``, of ``kan_paper_deeper.json`` (our defaults with two
    hidden layers of 8; on the credit data, that row of ``kan_levers.json``)
    and, where there is one, the published figure."""
    authors = _load("kan_paper_authors_training.json")
    ours = _load("kan_paper.json")
    deeper = _load("kan_paper_deeper.json")
    # The credit data's deeper networks are a row of kan_levers.py.
    lever = "update_grid=False, hidden_layer_sizes=[8, 8]"
    for key, entry in _load("kan_levers.json").items():
        if key in KAN_CREDIT and lever in entry["levers"]:
            deeper.setdefault(key, entry["levers"][lever])
    labels = {**KAN_DATASETS, **KAN_CREDIT}
    lines = [
        "| dataset (KAN-L1 / L2 / SI / KO) | published | the authors' training | "
        "our defaults | our defaults, hidden [8, 8] |",
        "|---|---|---|---|---|",
    ]

    def cell(scores):
        if not scores:
            return "-"
        return " / ".join(_short(scores[v]) for v in KAN_VARIANTS)

    for key, label in labels.items():
        if key not in authors or key not in ours:
            continue
        lines.append(
            f"| {label} | {cell(ours[key]['published'])} | "
            f"{cell(authors[key]['ours'])} | {cell(ours[key]['ours'])} | "
            f"{cell(deeper.get(key, {}).get('ours'))} |"
        )
    return "\n".join(lines)


def kan_levers() -> str:
    """``kan_levers.json``: per lever and dataset, the best KAN variant's
    score and its gap to the best baseline, and KAN-mean's gap."""
    data = {k: v for k, v in _load("kan_levers.json").items() if k in KAN_CREDIT}
    names = list(next(iter(data.values()))["levers"])
    header = ["lever"]
    for key in data:
        short = key.split("_")[0].title()
        header += [f"{short}: best variant", f"{short}: gap", f"{short}: KAN-mean gap"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name in names:
        labels = {
            "before": "before (defaults until issue 17)",
            "update_grid=False, hidden_layer_sizes=[8]": (
                "`update_grid=False, hidden_layer_sizes=[8]` (the defaults now)"
            ),
        }
        cells = [labels.get(name, f"`{name}`")]
        for entry in data.values():
            lever = entry["levers"].get(name)
            if lever is None:
                cells += ["-", "-", "-"]
                continue
            best = lever["best_variant"]
            cells += [
                f"{_short(lever['ours'][best])} ({best})",
                f"{lever['gap_best_variant']:+.3f}",
                f"{lever['gap_mean']:+.3f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
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


def _machine(data: dict) -> dict:
    """The machine block of a result, wherever the script put it."""
    for key in ("machine", "environment"):
        block = data.get(key)
        if isinstance(block, dict):
            return block.get("machine", block)
    return {}


def _load_note(data: dict) -> str:
    """Why a run's absolute times may be off: the load when it ran."""
    machine = _machine(data)
    cpus = machine.get("cpu_count") or data.get("cpus")
    loads = [
        machine.get("load_average_at_start", [None])[0],
        (machine.get("load_average_1_5_15_min") or [None])[0],
        machine.get("load_average_1min"),
        (data.get("load_average") or [None])[0],
    ]
    loads = [x for x in loads if isinstance(x, int | float)]
    if machine.get("loaded") or (cpus and loads and max(loads) > cpus):
        return f" (run under load {max(loads):.1f} on {cpus} cores)"
    return ""


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{1e3 * value:.1f} ms"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


def _main_rows() -> list[str]:
    rows = []
    mi = _load("mutual_info.json")
    speed, shape = mi["speed"], mi["data"]
    rows.append(
        f"| `bench_mutual_info.py`: binned MI vs `mutual_info_classif` (KSG), "
        f"{shape['n_samples']:,} x {shape['n_features']} | "
        f"{_seconds(speed['sklearn_mutual_info_classif_seconds'])} | "
        f"{_seconds(speed['featimp_binned_seconds'])} | "
        f"**{_ratio(speed['speed_ratio'])}** (target 50x){_load_note(mi)} | "
        f"top-10 overlap with KSG {speed['top10_overlap_with_ksg']}/10 |"
    )
    floor = _load("counting_floor.json")
    shapes = floor["shapes"]
    rows.append(
        "| `bench_counting_floor.py`: binned MI (null-corrected) vs a bare "
        "`np.bincount` of its codes, "
        + ", ".join(f"{r['n_samples']:,} x {r['n_features']}" for r in shapes)
        + " (table below) | "
        + ", ".join(_seconds(r["floor"]) for r in shapes)
        + " | "
        + ", ".join(_seconds(r["mi"]) for r in shapes)
        + f" | **{min(r['mi_over_floor'] for r in shapes):.1f}x-"
        f"{max(r['mi_over_floor'] for r in shapes):.1f}x** the floor (target "
        f"<= 5x){_load_note(floor)} | same codes and scores as the NumPy path |"
    )
    centrality = _load("centrality.json")
    dense = centrality["dense_comparison"]
    size = f"n={dense['n_samples']:,}, d={dense['n_features']:,}"
    for key, label, solver in (
        ("ecfs", "EC-FS", "dense `eigh`"),
        ("inffs", "Inf-FS", "dense solve"),
    ):
        row = dense[key]
        rows.append(
            f"| `bench_centrality.py`: {label} matrix-free vs {solver} "
            f"(NumPy's BLAS on every core), {size} (whole call) | "
            f"{_seconds(row['call_dense_s'])} | "
            f"{_seconds(row['call_matrix_free_s'])} | "
            f"**{_ratio(row['call_ratio'])}** (the step alone "
            f"{_ratio(row['step_ratio'])}; target 20x){_load_note(centrality)} | "
            f"same top-50: {row['top50_agreement']:.0%}; max diff "
            f"{row['max_abs_diff']:.0e} |"
        )
    large = centrality["large"]
    over = large.get("ecfs_over_floor")
    rows.append(
        f"| `bench_centrality.py`: rank d = {large['n_features']:,} features, "
        f"n = {large['n_samples']:,}, against one read for the variances and "
        "one bincount of the binned codes | "
        + (f"floor {_seconds(large['floor_s'])}" if over else "-")
        + f" | EC-FS {_seconds(large['ecfs_call_s'])}, Inf-FS "
        f"{_seconds(large['inffs_call_s'])} | "
        + (
            f"**{over:.1f}x** and {large['inffs_over_floor']:.1f}x the floor "
            f"(target <= 2x)"
            if over
            else "target < 30 s"
        )
        + f"{_load_note(centrality)} | |"
    )
    kan = _load("kan_bench.json")
    peers = {
        "pykan": kan["pykan_by_threads"],
        "efficient-kan": kan["efficient_kan_by_threads"],
    }
    peer_note = "; ".join(
        f"{name} "
        + " / ".join(f"{r['ms_per_step']:.2f}" for r in by_threads.values())
        + " ms/step at "
        + " / ".join(by_threads)
        + " thread(s)"
        for name, by_threads in peers.items()
    )
    fastest = kan["fastest_peer"]
    fastest_name = {"pykan": "pykan", "efficient_kan": "efficient-kan"}[
        fastest["library"]
    ]
    rows.append(
        "| `bench_kan.py`: KAN training step, breast cancer, [30, 61, 2], grid "
        f"5, order 3 vs the fastest peer ({fastest_name}, "
        f"{fastest['threads']} thread(s)) | "
        f"{kan[fastest['library']]['ms_per_step']:.2f} ms/step | "
        f"{kan['ours']['ms_per_step']:.2f} ms/step (1 thread) | "
        f"**{kan['speedup_vs_fastest_peer']:.2f}x** (target 2x; {peer_note}); "
        f"**{kan['ours_over_floor']:.2f}x** the bare-torch floor of the same "
        f"shapes, {kan['floor']['ms_per_step']:.2f} ms/step (target <= 2x)"
        f"{_load_note(kan)} | accuracy on the training data: ours "
        f"{kan['ours']['accuracy']:.3f}, pykan {kan['pykan']['accuracy']:.3f}, "
        f"efficient-kan {kan['efficient_kan']['accuracy']:.3f} |"
    )
    german = kan["german_selector"]
    rows.append(
        "| `bench_kan.py`: default `KANSelector(random_state=0)` (5 folds x 3 "
        f"seeds), German credit ({german['features']} recourse columns) | serial: "
        f"{_seconds(german['default']['seconds'])} | `n_jobs=2`: "
        f"{_seconds(german['n_jobs=2']['seconds'])} with cold workers (each "
        f"imports torch), {_seconds(german['n_jobs=2 warm']['seconds'])} warm | "
        "target <= 30 s"
        f"{_load_note(kan)} | same top ten: {german['same_top10']}; breast "
        f"cancer, serial: {_seconds(kan['selector_cv5_seeds3_seconds'])} |"
    )
    parallel = _load("parallel_kan.json")
    best = parallel["best_seconds"]
    rows.append(
        "| `bench_parallel_kan.py`: `GridSearchCV` (3 x 3 fits) over "
        "Pipeline(StandardScaler, `KANSelector(cv=2, n_seeds=1)`, "
        f"LogisticRegression), breast cancer | `n_jobs=1`: "
        f"{_seconds(best['n_jobs=1'])} | `n_jobs=2`: {_seconds(best['n_jobs=2'])} "
        f"| **{parallel['n_jobs_2_over_1']:.2f}x** the time (best of 3 each; each "
        f"fit keeps torch to one thread){_load_note(parallel)} | same best score: "
        f"{parallel['same_best_score']} |"
    )
    responsiveness = _load("responsiveness.json")
    for result in responsiveness["results"]:
        if "reachml_ms_per_person" in result:
            rows.append(
                f"| `bench_responsiveness.py`: {result['dataset'].title()} credit, "
                f"{result['model']}, {result['people']} denied people, vs reachml "
                f"{result['reachml_version']} | "
                f"{result['reachml_ms_per_person']:,.1f} ms/person | "
                f"{result['featimp_ms_per_person']:.2f} ms/person | "
                f"**{_ratio(result['speedup'])}**{_load_note(responsiveness)} | "
                f"max diff {result['max_abs_diff_vs_reachml_paper_rule']:g} |"
            )
        else:
            rows.append(
                f"| `bench_responsiveness.py`: {result['dataset'].title()} credit, "
                f"{result['model']}, all {result['rows']:,} rows | - | "
                f"{_seconds(result['seconds'])} ({result['ms_per_person']:.2f} "
                f"ms/row) | {_load_note(responsiveness).strip()} | |"
            )
    portfolio = _load("portfolio.json")
    side, one = portfolio["side_by_side"], portfolio["portfolio"]["n_jobs=1"]
    two = portfolio["portfolio"].get("n_jobs=2")
    rows.append(
        f"| `bench_portfolio.py`: {portfolio['dataset'].title()} credit, all "
        f"{portfolio['rows']:,} rows, {portfolio['model']}, explain + reasons + "
        f"JSON report | featimp at {side['reference_commit']}, first "
        f"{side['rows']} rows: {side['reference_ms_per_row']:.1f} ms/row | "
        f"{side['rows']} rows: {side['featimp_ms_per_row']:.2f} ms/row; "
        f"{portfolio['rows']:,} rows: {one['ms_per_row']:.2f} ms/row "
        f"({one['ms_per_row_with_pages']:.2f} with the HTML pages)"
        + (f", `n_jobs=2` {two['ms_per_row']:.2f}" if two else "")
        + f" | **{_ratio(side['speedup'])}** on the {side['rows']} rows (target "
        f"<= 1 ms/row){_load_note(portfolio)} | same reasons and options where "
        f"the status did not change: {side['same_where_status_unchanged']} |"
    )
    service = _load("service.json")
    speed, polling = service["speed"], service["polling"]
    shape = service["data"]
    rows.append(
        f"| `bench_service.py`: {shape['n_samples']:,} x {shape['n_features']} "
        f"CSV ranked with {shape['method']}, REST end to end vs in-process | "
        f"{_seconds(speed['library_seconds'])} | {_seconds(speed['rest_seconds'])} "
        f"| **{speed['rest_over_library']:.2f}x** of the library call, best of 3 "
        f"({speed['rest_over_library_medians']:.2f}x of medians; target <= "
        f"{speed['target']}x){_load_note(service)} | max score difference "
        f"{speed['max_abs_score_difference']:g}; {polling['clients']} clients "
        f"polling {polling['seconds']:.0f} s: {polling['errors']} errors, p99 "
        f"{polling['latency_ms']['p99']:.0f} ms |"
    )
    encoding = _load("encoding.json")
    ratios = {m: r["ratio"] for m, r in encoding["methods"].items()}
    others = [r for m, r in ratios.items() if m != "mi"]
    rows.append(
        "| `bench_encoding.py`: each method's fit on raw German credit (13 text "
        "columns) vs the same method on a pre-encoded numeric frame | "
        f"pre-encoded | raw | **{min(others):.2f}-{max(others):.2f}** for "
        f"{len(others)} methods, mi {ratios['mi']:.2f} (target <= "
        f"{encoding['limit']}){_load_note(encoding)} | same importances |"
    )
    consensus = _load("consensus.json")
    rows.append(
        f"| `bench_consensus.py`: `ConsensusSelector` "
        f"({', '.join(consensus['methods'])}) x {consensus['n_bootstrap']} "
        f"resamples, breast cancer | {consensus['reference_serial_loop_s']:.1f} s "
        f"(plain serial loop) | {consensus['consensus_n_jobs_2_s']:.1f} s "
        f"(`n_jobs=2`) | **{consensus['speedup']:.2f}x** (target < 60 s)"
        f"{_load_note(consensus)} | Kuncheva {consensus['kuncheva']:.2f}, "
        f"Jaccard {consensus['mean_jaccard']:.2f} |"
    )
    return rows


def main_table() -> str:
    """The headline table: one row per benchmark result."""
    header = [
        "| benchmark | reference | featimp | ratio | quality check |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + _main_rows())


def counting_floor() -> str:
    """``counting_floor.json``: MI and mRMR per shape against the floor and
    the peers."""
    data = _load("counting_floor.json")
    first = data.get("process_first_call")
    lines = [
        "| shape | floor | MI | MI / floor (1 thread) | first call on new data "
        "| null / plain | peak memory / X | OutRank core / MI plain (1 thread) | "
        "mRMR (K=10) | mrmr_selection / mRMR |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["shapes"]:
        outrank = r.get("outrank_core_over_mi_plain")
        peer = r.get("mrmr_selection_over_mrmr")
        lines.append(
            f"| {r['n_samples']:,} x {r['n_features']} | {_seconds(r['floor'])} | "
            f"{_seconds(r['mi'])} | {r['mi_over_floor']:.1f}x "
            f"({r['mi_one_thread_over_floor']:.1f}x) | "
            f"{r['first_over_steady']:.2f}x | {r['null_ratio']:.2f}x | "
            f"{r['peak_over_X']:.2f} | "
            + (
                f"{outrank:.1f}x ({r['outrank_core_over_mi_plain_one_thread']:.1f}x)"
                if outrank
                else "-"
            )
            + f" | {_seconds(r['mrmr'])} | "
            + (f"{peer:.1f}x" if peer else "-")
            + " |"
        )
    threads = _machine(data).get("numba_threads")
    lines += [
        "",
        f"numba threads: {threads}{_load_note(data)}; each figure the best of "
        f"{data['repeats']} calls. The process's first MI call (importing numba "
        "and loading its cached kernels) took "
        + (
            f"{_seconds(first['process_first'])} on {first['shape']}, against "
            f"{_seconds(first['steady'])} once loaded."
            if first
            else "-."
        ),
    ]
    return "\n".join(lines)


def scale() -> str:
    """``scale.json``: streaming rows, seconds, peak RSS, the counting floor,
    and OutRank's MI core and featimp in memory on the same files."""
    data = _load("scale.json")
    lines = [
        "| rows | seconds | rows/s (2 cores) | peak RSS | x counting floor | "
        "x one read | planted in top 7 / 10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["runs"]:
        floor = f"{r['over_floor']:.1f}x" if r.get("over_floor") else "-"
        read = f"{r['over_read']:.1f}x" if r.get("over_read") else "-"
        lines.append(
            f"| {r['rows']:,} | {r['seconds']:.1f} | {r['rows_per_second']:,.0f} | "
            f"{r['peak_rss_mb']:.0f} MB | {floor} | {read} | "
            f"{r['planted_in_top_7']}/7, {r.get('planted_in_top_10', '-')}/7 |"
        )
    lines += ["", f"`{data['method']}` on {data['data']}{_load_note(data)}."]
    peers = [
        (run, "OutRank MI core, " + run["variant"])
        for run in (data.get("outrank") or {}).get("runs", [])
        if "seconds" in run
    ] + [
        (run, "featimp in memory")
        for run in (data.get("in_memory") or {}).get("runs", [])
        if "seconds" in run
    ]
    if peers:
        ours = {r["rows"]: r for r in data["runs"]}
        lines += [
            "",
            "| on the same files | rows | seconds | rows/s per core | peak RSS | "
            "planted in top 7 | streaming featimp's rows/s per core, over it |",
            "|---|---|---|---|---|---|---|",
        ]
        for run, name in peers:
            mine = ours.get(run["rows"])
            rate = run["rows_per_second_per_core"]
            ratio = f"{mine['rows_per_second_per_core'] / rate:.1f}x" if mine else "-"
            lines.append(
                f"| {name} | {run['rows']:,} | {run['seconds']:.1f} | "
                f"{run['rows_per_second_per_core']:,.0f} | {run['peak_rss_mb']:.0f} MB "
                f"| {run['planted_in_top_7']}/7 | {ratio} |"
            )
    return "\n".join(lines)


KAN_DEFAULT_DATA = {
    "diabetes": "diabetes",
    "friedman1": "make_friedman1 (n=500)",
    "regression": "make_regression (n=400, noise 20)",
    "friedman3": "make_friedman3 (n=500, noise 0.1)",
    "breast_cancer": "breast cancer",
    "wine": "wine",
    "german_credit": "German credit (recourse encoding, 36 columns)",
    "taiwan_credit": "Taiwan credit (3,000-row sample, 17 columns)",
}


def kan_defaults() -> str:
    """``kan_regressor.json``: 5-fold CV of the default KAN estimators beside
    ridge / logistic regression and gradient boosting."""
    data = _load("kan_regressor.json")

    def cell(score: dict) -> str:
        return f"{score['mean']:.3f} +- {score['std']:.3f}"

    parts = [
        ("regression_r2", "R^2", ("kan_old_defaults", "kan_defaults", "ridge", "hgb"),
         ("KAN, old defaults", "KAN, defaults", "ridge", "HGB")),
        ("classification_accuracy", "accuracy",
         ("kan_old_defaults", "kan_defaults", "logistic", "hgb"),
         ("KAN, old defaults", "KAN, defaults", "logistic regression", "HGB")),
    ]  # fmt: skip
    lines = []
    for key, metric, models, names in parts:
        table = data.get(key) or {}
        if lines:
            lines.append("")
        lines += [
            f"| data set ({metric}) | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        for name, scores in table.items():
            cells = " | ".join(cell(scores[m]) if m in scores else "-" for m in models)
            lines.append(f"| {KAN_DEFAULT_DATA.get(name, name)} | {cells} |")
    return "\n".join(lines)


TABLES = {
    "main": main_table,
    "counting-floor": counting_floor,
    "scale": scale,
    "kan-paper": kan_paper,
    "kan-credit": kan_credit,
    "kan-levers": kan_levers,
    "kan-training": kan_training,
    "significance": significance,
    "kan-defaults": kan_defaults,
}


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
