"""The ``featimp`` command line.

``featimp methods`` lists the registered methods; ``featimp rank`` ranks the
features of a CSV or Parquet file (or a bundled dataset); ``featimp select``
writes the reduced dataset; ``featimp action-set init`` prints an editable
recourse action set for a table, as JSON; ``featimp explain`` explains single
predictions of a model in terms of that action set, with a per-applicant
report (:mod:`featimp._cli_explain`). Tables are read as they are: text,
categorical and nullable columns and empty cells go to the method, which
encodes them. Randomized methods are seeded with ``--seed`` (default 0), so
that two runs give the same ranking. Bad input prints one line and exits with
code 2, checked before the fit where it can be; Ctrl-C exits with code 130;
warnings from the library (such as columns that cannot be used) print one
line each.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

import pandas as pd

import featimp
from featimp import _cli_checks as checks
from featimp import _cli_explain
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
from featimp._validation import TASKS, infer_task
from featimp.datasets import dataset_names, describe_datasets, load_dataset
from featimp.methods import (
    SELECTION_PARAMETERS,
    UNSUPERVISED,
    InputColumn,
    all_methods,
    get_method,
    method_names,
    ranking_table,
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(message)


def load_inputs(args) -> tuple[pd.DataFrame, pd.Series | None]:
    """X and y from ``DATA --target COL`` or ``--dataset NAME``."""
    if (args.data is None) == (args.dataset is None):
        raise UsageError("give either a DATA file or --dataset NAME (not both)")
    if args.dataset is not None:
        if args.dataset not in dataset_names():
            raise UsageError(
                f"unknown dataset {args.dataset!r}; choose one of: "
                f"{', '.join(dataset_names())}"
            )
        X, y = load_dataset(args.dataset)
        if args.target is not None:
            raise UsageError("--target is implied by --dataset; drop it")
        return X, y
    frame = read_table(args.data)
    if args.target is None:
        return frame, None
    if args.target not in frame.columns:
        raise UsageError(
            f"target column {args.target!r} is not in {args.data}; columns are: "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )
    return frame.drop(columns=args.target), frame[args.target]


def requested_task(args, params: dict) -> str:
    """``--task``, or ``--param task=...`` when ``--task`` is left on auto."""
    given = params.get("task")
    if args.task == "auto":
        return given if given in TASKS else "auto"
    if given is not None and given != args.task:
        raise UsageError(f"--task {args.task} conflicts with --param task={given}")
    return args.task


def resolve_task(spec, y, task: str) -> str:
    if y is None:
        if not spec.supports(UNSUPERVISED):
            raise UsageError(f"method {spec.name!r} is supervised: give --target COL")
        return UNSUPERVISED
    _check_target(y)
    try:
        task = infer_task(y, task)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not spec.supports(task):
        raise UsageError(
            f"method {spec.name!r} does not support {task} "
            f"(it supports: {', '.join(spec.tasks)})"
        )
    return task


def _check_target(y: pd.Series) -> None:
    rows = [str(r) for r in y.index[y.isna().to_numpy()]]
    if rows:
        more = ", ..." if len(rows) > 8 else ""
        raise UsageError(
            f"target column {y.name!r} has {len(rows)} missing value(s), in "
            f"row(s) {', '.join(rows[:8])}{more}; drop those rows first"
        )


def column_kind(series: pd.Series) -> str:
    """``"numeric"``, ``"categorical"``, ``"string"`` or ``"other"``.

    Read from the dtype; for object columns, from pandas' C-level look at
    the values, so that it stays cheap on large tables.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if not pd.api.types.is_object_dtype(dtype):
        return "string" if pd.api.types.is_string_dtype(dtype) else "other"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in ("string", "mixed", "mixed-integer", "bytes"):
        return "string"
    if inferred in _NUMERIC_OBJECTS:
        return "numeric"
    return "other"


_NUMERIC_OBJECTS = ("boolean", "integer", "floating", "mixed-integer-float", "decimal")


def check_input(spec, X: pd.DataFrame) -> None:
    """Refuse, before the fit, columns the method's input tags do not accept."""
    missing = X.isna().sum().to_numpy()
    columns = [
        InputColumn(str(name), column_kind(X.iloc[:, j]), int(missing[j]))
        for j, name in enumerate(X.columns)
    ]
    try:
        spec.check_input(columns)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def selector_params(spec, params: dict, task: str) -> dict:
    """``params``, plus the resolved task for methods that take one."""
    if task in TASKS and "task" in spec.parameters() and "task" not in params:
        return {**params, "task": task}
    return params


def fit_selector(args, extra_params=None):
    """Load the data, build the selector from the registry and fit it.

    The resolved task goes to methods that take a ``task`` parameter, unless
    ``--param task=...`` sets it; the seed goes to methods that take a
    ``random_state`` and to the ``--significance`` wrapper.
    """
    spec = get_method(args.method)
    params = {**parse_params(args.param), **(extra_params or {})}
    seed = checks.resolve_seed(args.seed, params)
    if "random_state" in spec.parameters():
        params["random_state"] = seed
    with progress_bar(args.quiet) as bar, warnings_as_lines():
        bar.set_postfix_str("loading data")
        X, y = load_inputs(args)
        task = resolve_task(spec, y, requested_task(args, params))
        check_input(spec, X)
        if getattr(args, "n_features", None) is not None:
            checks.check_feature_count(args.n_features, X.shape[1])
        selector = spec.make_selector(**selector_params(spec, params, task))
        if args.significance is not None:
            selector = with_significance(selector, args.significance, params, seed)
        bar.set_postfix_str(f"{spec.name} on {X.shape[0]} x {X.shape[1]}")
        selector.fit(X, y)
    return selector, X, y, task


def with_significance(selector, alpha: float, params: dict, seed):
    """``selector`` inside a SignificanceSelector keeping features with q <= alpha.

    The selection parameters in ``params`` and ``seed`` apply to the wrapper.
    """
    spec = get_method("significance")
    if isinstance(selector, spec.selector_class()):
        raise UsageError(
            "--significance wraps another method; with --method significance "
            "use --param alpha=... instead"
        )
    if not 0 < alpha <= 1:
        raise UsageError(f"--significance must be in (0, 1], got {alpha:g}")
    selection = {k: params[k] for k in SELECTION_PARAMETERS if k in params}
    return spec.make_selector(
        estimator=selector,
        alpha=alpha,
        random_state=seed,
        **selection,
    )


def data_label(args, X) -> str:
    """What a figure title says about the data: name, rows x columns."""
    name = args.dataset if args.dataset else Path(args.data).name
    return f"{name}, {X.shape[0]:,} rows x {X.shape[1]} features"


def cmd_methods(args) -> int:
    specs = [s.to_dict() for s in all_methods()]
    if args.json:
        print(json.dumps(specs, indent=2))
        return 0
    for spec in specs:
        print(f"{spec['name']:<10} {', '.join(spec['tasks'])}")
        print(f"    {spec['summary']}")
        print(f"    reads: {_reads(spec['input_tags'])}")
        for p in spec["parameters"]:
            print(f"    --param {p['name']}={p['default']}")
    return 0


_READS = {"string": "text", "categorical": "categories", "allow_nan": "missing values"}


def _reads(tags: dict) -> str:
    """What a method's input tags let it read, in words."""
    accepted = [word for tag, word in _READS.items() if tags[tag]]
    return "numbers, " + ", ".join(accepted) if accepted else "numbers only"


def cmd_datasets(args) -> int:
    print(describe_datasets().to_string())
    return 0


def streams(args) -> bool:
    """Whether ``featimp rank`` reads DATA in batches: a glob, a directory,
    a URL (``s3://...``, ``file://...``), or ``--stream``."""
    data = args.data
    return data is not None and (
        args.stream or glob.has_magic(data) or "://" in data or Path(data).is_dir()
    )


def cmd_rank_stream(args) -> int:
    """``featimp rank`` on a dataset of files, read in batches
    (:func:`featimp.rank_dataset`); every check before the first read."""
    from featimp._streaming import METHODS, rank_dataset

    if args.method not in METHODS:
        raise UsageError(
            f"--method {args.method} cannot stream a dataset of files; "
            f"streaming methods: {', '.join(METHODS)} (or give one file to rank "
            "it in memory)"
        )
    if args.target is None:
        raise UsageError("streaming ranks against a target: give --target COL")
    for flag, given in (("--plot", args.plot), ("--significance", args.significance)):
        if given is not None:
            raise UsageError(f"{flag} needs the data in memory; drop it to stream")
    params = parse_params(args.param)
    spec = get_method(args.method)
    seed = checks.resolve_seed(args.seed, params)
    if "random_state" in spec.stream_parameters():
        params["random_state"] = seed
    task = requested_task(args, params)
    if task != "auto":
        params["task"] = task
    with progress_bar(args.quiet) as bar, warnings_as_lines():
        bar.set_postfix_str(f"{args.method}, streamed from {args.data}")
        try:
            table = rank_dataset(
                args.data,
                args.target,
                method=args.method,
                batch_size=args.batch_size,
                **params,
            )
        except FileNotFoundError as exc:
            raise UsageError(exc.args[0] if exc.args else str(exc)) from exc
    for column, rate in table.attrs["hashed"].items():
        print(
            f"featimp: warning: column {column!r} has more distinct values than "
            f"max_categories and was hashed (collision rate {rate:.2%})",
            file=sys.stderr,
        )
    if args.output:
        with writing(args.output, "--output"):
            write_table(table, args.output)
    shown = table.head(args.top) if args.top else table
    print(
        f"method={args.method} task={table.attrs['task']} "
        f"rows={table.attrs['n_samples']} features={len(table)} "
        f"files={table.attrs['n_files']} streamed"
    )
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0


def cmd_rank(args) -> int:
    if args.output:
        checks.check_output_path(args.output, "--output")
    if args.plot:
        checks.check_plot_path(args.plot)
    if args.batch_size is not None and not streams(args):
        raise UsageError("--batch-size applies when DATA is streamed (see --stream)")
    if streams(args):
        if args.dataset is not None:
            raise UsageError("give either a DATA file or --dataset NAME (not both)")
        return cmd_rank_stream(args)
    selector, X, _, task = fit_selector(args)
    table = ranking_table(selector, X.columns)
    if args.output:
        with writing(args.output, "--output"):
            write_table(table, args.output)
    if args.plot:
        from featimp.plotting import save_selector_plot

        with writing(args.plot, "--plot"):
            save_selector_plot(
                selector,
                args.plot,
                feature_names=X.columns,
                top=args.top or 20,
                title=f"{args.method}: {data_label(args, X)}",
            )
    shown = table.head(args.top) if args.top else table
    header = f"method={args.method} task={task} rows={X.shape[0]} features={X.shape[1]}"
    if hasattr(selector, "null_"):
        header += f" alpha={selector.alpha} null={selector.null_}"
    print(header)
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0


def cmd_select(args) -> int:
    checks.check_output_path(args.output, "--output")
    extra = {}
    if args.n_features is not None:
        extra["n_features_to_select"] = args.n_features
    selector, X, y, _ = fit_selector(args, extra)
    # A DataFrame comes back as its selected columns, dtypes and all.
    reduced = selector.transform(X)
    kept = ", ".join(map(str, reduced.columns))
    n_kept = reduced.shape[1]
    if y is not None:
        reduced = pd.concat([reduced, y.rename(str(y.name or "target"))], axis=1)
    with writing(args.output, "--output"):
        write_table(reduced, args.output)
    print(f"kept {n_kept} of {X.shape[1]} features: {kept}")
    print(
        f"wrote {reduced.shape[0]} rows x {reduced.shape[1]} columns to {args.output}"
    )
    return 0


def cmd_serve(args) -> int:
    try:
        from service.main import SERVE_OPTIONS, serve
    except ImportError as exc:
        raise ImportError(
            "featimp serve needs the 'service' extra: "
            "pip install 'featimp-toolkit[service]'"
        ) from exc
    # The service connects to Dask as it starts, with a 30 s timeout and a
    # traceback; a quick probe here reports an unreachable scheduler at once.
    address = os.environ.get("FEATIMP_DASK_ADDRESS")
    if address:
        checks.check_dask_address(address)
    serve(**{name: getattr(args, name) for name in SERVE_OPTIONS})
    return 0


def cmd_action_set_init(args) -> int:
    from featimp.recourse import ActionSet

    with warnings_as_lines():
        X, _ = load_inputs(args)
        action_set = ActionSet.from_data(X, guess_immutable=True)
    print(action_set.to_json())
    return 0


def _add_data_arguments(sub) -> None:
    sub.add_argument("data", nargs="?", help="CSV or Parquet file")
    sub.add_argument("--dataset", help=f"bundled dataset: {', '.join(dataset_names())}")
    sub.add_argument("--target", help="target column of DATA")
    sub.add_argument(
        "--method",
        required=True,
        choices=method_names(),
        metavar="NAME",
        help=f"one of: {', '.join(method_names())}",
    )
    sub.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="method parameter (repeatable); see `featimp methods`",
    )
    sub.add_argument(
        "--task", default="auto", choices=["auto", "classification", "regression"]
    )
    sub.add_argument(
        "--seed",
        type=checks.parse_seed,
        metavar="N",
        help=f"random_state of randomized methods and of --significance "
        f"(default: {checks.DEFAULT_SEED}, so two runs give the same ranking); "
        "--param random_state=... sets it too, and None leaves it unseeded",
    )
    sub.add_argument(
        "--significance",
        type=float,
        metavar="ALPHA",
        help="test each feature against a permutation or shadow null and keep "
        "those with q <= ALPHA (adds p_value and q_value to the ranking)",
    )
    sub.add_argument("--quiet", action="store_true", help="no progress bar")


#: Shown under each command's --help.
EXAMPLES = {
    None: """\
Examples:
  featimp methods
  featimp rank --dataset breast_cancer --method mi --top 10
  featimp explain applicants.csv --model model.json --action-set actions.json

Randomized methods are seeded (--seed, default 0): two runs give the same
ranking. Exit codes: 0 done, 2 bad input (one line on stderr, checked before
the fit), 130 interrupted (Ctrl-C).""",
    "methods": """\
Example:
  featimp methods --json > methods.json""",
    "datasets": """\
Example:
  featimp datasets""",
    "rank": """\
Examples:
  featimp rank data.csv --target default --method mrmr --top 10 \\
      --output ranking.parquet --plot ranking.png
  featimp rank --dataset german_credit --method mi --seed 1
  featimp rank 'events/*.parquet' --target clicked --method mi --top 20""",
    "select": """\
Example:
  featimp select data.parquet --target y --method ecfs -k 0.25 \\
      --output reduced.csv""",
    "action-set": """\
Example:
  featimp action-set init data.csv --target y > actions.json

Kinds and bounds come from the data, one-hot groups from its text columns;
columns named like age, sex, marital status, foreign worker, race or
nationality are not actionable (a warning lists them). Edit the file, then
give it to the service as the job's action_set.""",
    "serve": f"""\
Example:
  FEATIMP_DASK_ADDRESS=tcp://scheduler:8786 featimp serve --port 8000

With FEATIMP_DASK_ADDRESS set, the scheduler must answer within
{checks.DASK_CONNECT_TIMEOUT:g} s or serve exits with code 2 before starting.""",
}


def _command(subs, name: str, help: str) -> argparse.ArgumentParser:
    return subs.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=EXAMPLES.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="featimp",
        description=__doc__.splitlines()[0],
        epilog=EXAMPLES[None],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"featimp {featimp.__version__}"
    )
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    methods = _command(subs, "methods", "list methods, tasks and parameters")
    methods.add_argument("--json", action="store_true")
    methods.set_defaults(func=cmd_methods)

    datasets = _command(subs, "datasets", "list bundled datasets")
    datasets.set_defaults(func=cmd_datasets)

    rank = _command(subs, "rank", "rank the features of a dataset")
    _add_data_arguments(rank)
    rank.add_argument(
        "--top", type=checks.at_least_one, metavar="K", help="show only the best K"
    )
    rank.add_argument("--output", help="write the ranking (.csv, .json, .parquet)")
    rank.add_argument(
        "--plot",
        metavar="OUT.png",
        help="save a figure of the ranking (png, pdf, svg, ...; the 'plot' extra)",
    )
    rank.add_argument(
        "--stream",
        action="store_true",
        help="read DATA in record batches, never whole (mi, mrmr); implied when "
        "DATA is a glob ('events/*.parquet') or a directory of Parquet/CSV files",
    )
    rank.add_argument(
        "--batch-size",
        type=checks.at_least_one,
        metavar="ROWS",
        help="rows per record batch when streaming (default 65,536)",
    )
    rank.set_defaults(func=cmd_rank)

    select = _command(subs, "select", "write the dataset reduced to the best features")
    _add_data_arguments(select)
    select.add_argument(
        "-k",
        "--n-features",
        type=_parse_count,
        metavar="K",
        help="number (>= 1) or fraction in (0, 1] of features to keep",
    )
    select.add_argument("--output", required=True, help=".csv, .json or .parquet")
    select.set_defaults(func=cmd_select)

    action_set = _command(subs, "action-set", "write recourse action sets")
    action_subs = action_set.add_subparsers(
        dest="action", metavar="{init}", required=True, parser_class=_Parser
    )
    init = action_subs.add_parser(
        "init",
        help="print an action set inferred from a table, as JSON",
        description="Print an action set inferred from a table, as JSON.",
        epilog=EXAMPLES["action-set"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("data", help="CSV or Parquet file")
    init.add_argument(
        "--target", required=True, help="target column of DATA (left out)"
    )
    init.set_defaults(func=cmd_action_set_init, dataset=None)

    _cli_explain.add_command(subs, _command)

    serve = _command(subs, "serve", "run the REST service (FastAPI + uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--data-dir", help="default: $FEATIMP_DATA_DIR or ./featimp-data"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="local process pool size (default: $FEATIMP_WORKERS or 2)",
    )
    serve.add_argument(
        "--database-url",
        help="PostgreSQL metadata shared by replicas, postgresql://user@host/db "
        "(default: $FEATIMP_DATABASE_URL, or SQLite in the data directory)",
    )
    serve.set_defaults(func=cmd_serve)
    return parser


def _parse_count(text: str):
    return checks.feature_count(parse_value(text))


def main(argv=None) -> int:
    """Run one command; the exit code is 0, 2 (bad input), 130 (Ctrl-C) or
    141 (the output pipe closed)."""
    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except (UsageError, ValueError, TypeError, ImportError) as exc:
        message = " ".join(str(exc).split())
        print(f"featimp: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("featimp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``featimp rank ... | head``): stop quietly,
        # and keep Python from failing again as it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
