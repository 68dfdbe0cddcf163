"""The CLI's promise: --version, a fixed seed, one-line errors before the fit,
exit code 2 for bad input and 130 for Ctrl-C, an example under every --help."""

import socket
import subprocess
import sys
import textwrap
import time

import pytest

import featimp
from featimp import _cli_checks
from featimp._base import BaseImportanceSelector
from featimp.cli import main
from featimp.methods import MethodSpec
from tests._shared import GERMAN_TARGET, german_with_blanks

COMMANDS = ["methods", "datasets", "rank", "select", "serve"]
CANCER = ["--dataset", "breast_cancer", "--method", "mi", "--quiet"]


class FitCalled(Exception):
    """Raised by a patched fit: main does not catch it, so the test fails."""


@pytest.fixture
def no_fit(monkeypatch):
    """Any fit raises FitCalled: an error reported must come before the fit."""

    def fit(self, X, y=None):
        raise FitCalled

    monkeypatch.setattr(BaseImportanceSelector, "fit", fit)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("featimp: error: ")
    for needle in needles:
        assert needle in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"featimp {featimp.__version__}\n"


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_shows_an_example(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "Example" in out
    assert f"featimp {command or ''}".strip() in out.split("Example", 1)[1]


def test_help_documents_the_seed_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["rank", "--help"])
    assert "(default: 0, so two runs give the same" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "Exit codes: 0 done, 2 bad input" in capsys.readouterr().out


# The seed


def test_two_runs_give_the_same_ranking(capsys):
    first = run(capsys, "rank", *CANCER)
    second = run(capsys, "rank", *CANCER)
    assert first[0] == 0 and first == second
    assert run(capsys, "rank", *CANCER, "--seed", "0") == first
    assert run(capsys, "rank", *CANCER, "--param", "random_state=0") == first
    one = run(capsys, "rank", *CANCER, "--seed", "1")
    two = run(capsys, "rank", *CANCER, "--seed", "2")
    assert one[0] == two[0] == 0 and one[1] != two[1]
    agreeing = ["--seed", "1", "--param", "random_state=1"]  # both, the same
    assert run(capsys, "rank", *CANCER, *agreeing) == one


def test_seed_reaches_the_method_and_the_significance_wrapper(
    capsys, monkeypatch, no_fit
):
    made = []
    make_selector = MethodSpec.make_selector

    def spy(self, **params):
        made.append((self.name, params.get("random_state", "none taken")))
        return make_selector(self, **params)

    monkeypatch.setattr(MethodSpec, "make_selector", spy)
    argv = ["rank", "--dataset", "wine", "--quiet", "--significance", "0.1"]
    with pytest.raises(FitCalled):
        main([*argv, "--method", "ecfs", "--seed", "7"])
    assert made == [("ecfs", "none taken"), ("significance", 7)]
    made.clear()
    with pytest.raises(FitCalled):
        main([*argv, "--method", "consensus"])
    assert made[0] == ("consensus", 0)  # its members take seeds from it


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--seed", "1", "--param", "random_state=2"], ["--seed 1", "random_state=2"]),
        (["--seed", "-1"], ["--seed", "must be in [0, 4294967295]"]),
        (["--seed", "x"], ["--seed", "expected an integer"]),
    ],
)
def test_bad_seed(capsys, no_fit, argv, needles):
    code, _, err = run(capsys, "rank", *CANCER, *argv)
    assert_one_line_error(code, err, *needles)


# Paths, counts and the target, all before the fit


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("")
    (tmp_path / "a_dir.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--output", "nodir/x.csv"], ["--output nodir/x.csv", "'nodir' does not"]),
        (["--output", "a_file/x.csv"], ["--output", "is not a directory"]),
        (["--output", "a_dir.csv"], ["--output a_dir.csv: is a directory"]),
        (["--output", "x.txt"], ["--output x.txt", "unsupported file type '.txt'"]),
        (["--output", "."], ["--output", "unsupported file type '(none)'"]),
        (["--plot", "nodir/x.png"], ["--plot nodir/x.png", "'nodir' does not"]),
        (["--plot", "x.bmpx"], ["--plot x.bmpx", "unsupported image type 'bmpx'"]),
        (["--top", "0"], ["argument --top", "at least 1, got 0"]),
        (["--top", "-3"], ["argument --top", "at least 1, got -3"]),
        (["--top", "two"], ["argument --top", "expected an integer"]),
    ],
)
def test_rank_options_are_checked_before_the_fit(capsys, in_tmp, no_fit, argv, needles):
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    code, _, err = run(capsys, "rank", *CANCER, *argv)
    assert_one_line_error(code, err, *needles)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--output", "nodir/x.csv"], ["--output nodir/x.csv", "does not exist"]),
        (["--output", "x.xlsx"], ["--output x.xlsx", "unsupported file type"]),
        (["-k", "0"], ["argument -k/--n-features", "got 0"]),
        (["-k", "-2"], ["argument -k/--n-features", "got -2"]),
        (["--n-features", "1.5"], ["argument -k/--n-features", "got 1.5"]),
        (["-k", "many"], ["argument -k/--n-features", "expected a number"]),
        (["-k", "31"], ["-k/--n-features 31", "feature columns (30)"]),
    ],
)
def test_select_options_are_checked_before_the_fit(
    capsys, in_tmp, no_fit, argv, needles
):
    code, _, err = run(capsys, "select", *CANCER, "--output", "out.csv", *argv)
    assert_one_line_error(code, err, *needles)
    assert "n_features_to_select" not in err  # the option, not the parameter


def test_missing_extras_are_named_before_the_fit(capsys, in_tmp, no_fit, monkeypatch):
    monkeypatch.setattr(_cli_checks, "_importable", lambda *modules: False)
    code, _, err = run(capsys, "rank", *CANCER, "--plot", "x.png")
    assert_one_line_error(code, err, "--plot needs matplotlib", "[plot]")
    code, _, err = run(capsys, "rank", *CANCER, "--output", "x.parquet")
    assert_one_line_error(code, err, "--output x.parquet", "[parquet]")


def test_output_directory_not_writable(capsys, tmp_path, no_fit, monkeypatch):
    # os.access, not a chmod: root (as in CI containers) writes anywhere
    monkeypatch.setattr(_cli_checks.os, "access", lambda path, mode: False)
    for option in ("--output", "--plot"):
        path = tmp_path / ("x.csv" if option == "--output" else "x.png")
        if option == "--plot":
            pytest.importorskip("matplotlib")
        code, _, err = run(capsys, "rank", *CANCER, option, path)
        assert_one_line_error(code, err, f"{option} {path}: permission denied")


def test_write_failure_after_the_fit_is_one_line(capsys, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("featimp.cli.write_table", full)
    code, _, err = run(
        capsys, "rank", "--dataset", "iris", "--method", "ecfs", "--quiet",
        "--output", tmp_path / "x.csv",
    )  # fmt: skip
    assert_one_line_error(code, err, "--output", "No space left on device")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_missing_target_values_are_named_before_the_fit(
    capsys, tmp_path, no_fit, suffix
):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    frame = german_with_blanks()
    frame.loc[[3, 7, 11], GERMAN_TARGET] = None
    path = tmp_path / f"blank_target{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    code, _, err = run(
        capsys, "rank", path, "--target", GERMAN_TARGET, "--method", "mi"
    )
    assert_one_line_error(
        code, err, f"target column '{GERMAN_TARGET}'", "3 missing value(s)"
    )
    assert "Input contains NaN" not in err


# Ctrl-C


def test_ctrl_c_exits_130_quietly(capsys, monkeypatch):
    def fit(self, X, y=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(BaseImportanceSelector, "fit", fit)
    code, out, err = run(capsys, "rank", *CANCER)
    assert (code, out, err) == (130, "", "featimp: interrupted\n")


def test_sigint_in_a_real_process_exits_130_without_a_traceback():
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        from featimp._base import BaseImportanceSelector
        from featimp.cli import main

        def fit(self, X, y=None):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)

        BaseImportanceSelector.fit = fit
        sys.exit(main(["rank", "--dataset", "iris", "--method", "ecfs", "--quiet"]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 130
    assert proc.stderr == "featimp: interrupted\n"


# featimp serve with an unreachable Dask scheduler


@pytest.fixture
def serve_must_not_start(monkeypatch):
    pytest.importorskip("distributed")
    service_main = pytest.importorskip("service.main")

    def serve(**kwargs):
        raise AssertionError("the server started")

    monkeypatch.setattr(service_main, "serve", serve)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "needles"),
    [
        ("tcp://127.0.0.1:{port}", ["cannot reach the Dask scheduler", "refused"]),
        ("bogus://x", ["FEATIMP_DASK_ADDRESS 'bogus://x'", "unknown address scheme"]),
    ],
)
def test_serve_fails_fast_on_an_unreachable_dask_scheduler(
    capsys, monkeypatch, tmp_path, serve_must_not_start, address, needles
):
    address = address.format(port=_closed_port())
    monkeypatch.setenv("FEATIMP_DASK_ADDRESS", address)
    start = time.monotonic()
    code, _, err = run(capsys, "serve", "--data-dir", tmp_path)
    assert time.monotonic() - start < _cli_checks.DASK_CONNECT_TIMEOUT
    assert_one_line_error(code, err, *needles)


def test_dask_probe_gives_up_after_its_timeout():
    """A port that accepts but never answers, as a hung scheduler would."""
    pytest.importorskip("distributed")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(_cli_checks.UsageError, match=r"within 0\.5 s"):
            _cli_checks.check_dask_address(address, timeout=0.5)
        assert time.monotonic() - start < 3


def test_dask_probe_accepts_a_live_scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=False, dashboard_address=None
    ) as cluster:
        _cli_checks.check_dask_address(cluster.scheduler_address)
    _cli_checks.check_dask_address("local")  # started by the service: not probed


def test_main_reads_dask_address_only_when_set(capsys, monkeypatch, tmp_path):
    """Without FEATIMP_DASK_ADDRESS the probe is skipped and serve runs."""
    service_main = pytest.importorskip("service.main")
    started = {}
    monkeypatch.delenv("FEATIMP_DASK_ADDRESS", raising=False)
    monkeypatch.setattr(service_main, "serve", lambda **kw: started.update(kw))
    code, _, _ = run(capsys, "serve", "--data-dir", tmp_path, "--port", "8123")
    assert code == 0 and started["port"] == 8123
