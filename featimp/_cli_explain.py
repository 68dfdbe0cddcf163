"""``featimp explain``: per-applicant recourse reports from the command line.

Reads a table, a fitted model and an action set (as ``featimp action-set
init`` writes it), picks the rows (``--rows``, as the service's ``rows.filter``
does), explains them with :class:`~featimp.recourse.ResponsivenessExplainer`
and prints one line per person: status, first reason, cheapest action.
``--report DIR`` writes the same report the service's
``GET /v1/jobs/{id}/report`` serves for the same table, model and action set
(``report.json``, ``index.html`` and one page per person); ``--output`` the
same table as its ``/result``.

Models are files the user trusts: XGBoost JSON (``save_model("m.json")``)
and LightGBM text (``booster_.save_model("m.txt")``), read as the service
reads them (:mod:`service.model_files`), or any fitted scikit-learn
classifier saved with joblib (``.joblib``, ``.pkl``), which is unpickled:
never point it at a file from someone else.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import joblib
import numpy as np

from featimp import _cli_checks as checks
from featimp._cli_checks import UsageError
from featimp._cli_io import (
    parse_params,
    parse_value,
    progress_bar,
    read_table,
    warnings_as_lines,
    write_table,
    writing,
)
from featimp.recourse import (
    ROW_FILTERS,
    ActionSet,
    ResponsivenessExplainer,
    result_table,
    select_rows,
)
from featimp.recourse._report import option_text, score_label
from featimp.recourse._scores import check_target

#: Model files by suffix: what reads them.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
BOOSTER_SUFFIXES = (".json", ".txt")
#: People printed to the terminal before "... N more".
SHOWN = 20
#: What ``--param`` may set; the rest have options of their own.
PARAMETERS = tuple(
    name
    for name in inspect.signature(ResponsivenessExplainer).parameters
    if name not in {"estimator", "action_set", "target", "n_actions", "progress"}
)
EXAMPLES = """\
Examples:
  featimp action-set init applicants.csv --target default > actions.json
  featimp explain applicants.csv --target default --model model.json \\
      --action-set actions.json --desired 1 --report report/

Rows are those the model does not predict as --desired (--rows denied), as
in the service's responsiveness job; --rows all explains every row. Models:
XGBoost JSON (.json), LightGBM text (.txt), or a scikit-learn classifier
saved with joblib (.joblib/.pkl: unpickled, so only files you trust).
Exit codes: 0 done, 2 bad input (one line on stderr, checked before the
explanation starts)."""


def add_command(subs, command) -> None:
    """Register ``explain`` with the CLI's subparsers (``command`` makes it)."""
    sub = command(subs, "explain", "explain single predictions with recourse")
    sub.add_argument("data", help="CSV or Parquet file of the rows to explain")
    sub.add_argument(
        "--model",
        required=True,
        help="fitted classifier: .json (XGBoost), .txt (LightGBM), .joblib/.pkl",
    )
    sub.add_argument(
        "--action-set",
        required=True,
        metavar="FILE",
        help="action set JSON (featimp action-set init)",
    )
    sub.add_argument("--target", help="target column of DATA, left out if present")
    sub.add_argument("--rows", default="denied", choices=ROW_FILTERS)
    sub.add_argument(
        "--desired",
        default="1",
        metavar="LABEL",
        help="the prediction a person wants (default: 1)",
    )
    for option, default, what in [
        ("--options", 1, "actions per person in the report"),
        ("--reasons", 4, "principal reasons per person"),
    ]:
        sub.add_argument(
            option,
            type=checks.at_least_one,
            default=default,
            metavar="K",
            help=f"{what} (default: {default})",
        )
    sub.add_argument("--report", metavar="DIR", help="write the report into DIR")
    sub.add_argument("--output", help="write the result table (.csv/.json/.parquet)")
    sub.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"explainer parameter (repeatable): {', '.join(PARAMETERS)}",
    )
    sub.add_argument(
        "--seed",
        type=checks.parse_seed,
        metavar="N",
        help="random_state of sampled reachable sets (default: 0)",
    )
    sub.add_argument("--quiet", action="store_true", help="print nothing but errors")
    sub.epilog = EXAMPLES
    sub.set_defaults(func=cmd_explain)


def cmd_explain(args) -> int:
    params = parse_params(args.param)
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise UsageError(
            f"--param {unknown[0]} is not an explainer parameter; "
            f"choose from: {', '.join(PARAMETERS)}"
        )
    params["random_state"] = checks.resolve_seed(args.seed, params)
    if args.output is not None:
        checks.check_output_path(args.output, "--output")
    action_set = read_action_set(args.action_set)
    model = read_model(args.model)
    frame = read_table(args.data)
    if args.target is not None and args.target in frame.columns:
        frame = frame.drop(columns=args.target)
    X = _columns(frame, action_set, args.data)
    target = parse_value(args.desired)
    with warnings_as_lines():
        explainer = ResponsivenessExplainer(
            model, action_set, target=target, n_actions=args.options, **params
        )
        explainer._validate_params()  # bad --param values before any work
        _check_target(model, target)
        predictions, keep = select_rows(
            model, action_set, X, rows=args.rows, target=target
        )
        if not keep.any():
            raise UsageError(
                f"--rows {args.rows} keeps none of the {len(X)} rows of "
                f"{args.data} (the model predicts "
                f"{np.unique(predictions).tolist()}; --desired is {target!r})"
            )
        report_dir = _report_directory(args.report)
        if not args.quiet:
            print(f"explaining {int(keep.sum())} of {len(X)} rows ...", file=sys.stderr)
        with progress_bar(args.quiet):
            result = explainer.explain(X[keep])
    if not args.quiet or report_dir is not None:
        # The options search, with its own bar; the report reuses it.
        with progress_bar(args.quiet) as bar:
            bar.set_postfix_str("options of each applicant")
            people = json.loads(result.to_json(n_reasons=args.reasons))
    if args.output is not None:
        with writing(args.output, "--output"):
            write_table(result_table(result, predictions[keep]), args.output)
    if report_dir is not None:
        with writing(str(report_dir), "--report"):
            index = result.write_report(report_dir, n_reasons=args.reasons)
        if not args.quiet:
            print(f"report: {index}", file=sys.stderr)
    if not args.quiet:
        print_people(people)
    return 0


def read_action_set(path: str) -> ActionSet:
    """The action set of a JSON file, or one line naming the file."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--action-set: no such file: {path}")
    try:
        return ActionSet.from_json(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--action-set {path} is not JSON: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"--action-set {path}: {exc}") from None


def read_model(path: str):
    """A fitted classifier from ``path`` (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--model: no such file: {path}")
    suffix = p.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        try:
            model = joblib.load(p)
        except Exception as exc:  # unpickling raises anything
            raise UsageError(f"--model {path}: cannot load: {exc}") from None
        if not hasattr(model, "predict"):
            raise UsageError(
                f"--model {path}: holds a {type(model).__name__}, not a fitted "
                "classifier with predict"
            )
        return model
    if suffix not in BOOSTER_SUFFIXES:
        raise UsageError(
            f"--model {path}: unsupported model file {suffix!r} (use .json for "
            f"XGBoost, .txt for LightGBM, or {'/'.join(PICKLE_SUFFIXES)})"
        )
    from service.model_files import ModelFileError, load_model, model_format

    try:
        return load_model(p, model_format(p.read_bytes()))
    except ModelFileError as exc:
        raise UsageError(f"--model {path}: {exc}") from None


def _report_directory(path: str | None) -> Path | None:
    if path is None:
        return None
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--report {path}: exists and is not a directory")
    with writing(path, "--report"):
        directory.mkdir(parents=True, exist_ok=True)
    return directory


def _columns(frame, action_set: ActionSet, data: str):
    names = action_set.input_names
    missing = [n for n in names if n not in frame.columns]
    if missing:
        more = ", ..." if len(missing) > 8 else ""
        raise UsageError(
            f"{data} lacks {len(missing)} column(s) of the action set: "
            f"{', '.join(missing[:8])}{more}"
        )
    return frame[names]


def _check_target(model, target) -> None:
    try:
        check_target(model, target)
    except ValueError:
        raise UsageError(
            f"--desired {target!r} is not a class of the model "
            f"(its classes are {np.asarray(model.classes_).tolist()})"
        ) from None


def print_people(data: dict, *, stream=None, shown: int = SHOWN) -> None:
    """The report's summary and one line per person (the first ``shown``)."""
    stream = stream or sys.stdout
    counts = ", ".join(f"{s} {n}" for s, n in data["summary"]["status"].items() if n)
    print(f"{data['summary']['n']} rows: {counts}", file=stream)
    for person in data["people"][:shown]:
        reason = person["reasons"][0]["action"] if person["reasons"] else "-"
        option = person["options"][0] if person["options"] else None
        action = "-" if option is None else option_text(option, score_label(data))
        print(
            f"row {person['row']}: {person['status']}; first reason: {reason}; "
            f"cheapest action: {action}",
            file=stream,
        )
    hidden = len(data["people"]) - shown
    if hidden > 0:
        print(f"... {hidden} more (--report DIR writes every person)", file=stream)
