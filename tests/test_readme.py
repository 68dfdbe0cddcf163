"""The README's shell blocks work when pasted into a fresh shell."""

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block_after(heading: str) -> str:
    """The first ```bash block after ``heading``."""
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _paste(block: str, folder: Path) -> subprocess.CompletedProcess:
    """Run ``block`` as a fresh bash shell in ``folder`` would; it must pass."""
    env = {
        **os.environ,
        # The venv's featimp and python3, as in a shell where it is active.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("FEATIMP_API_KEYS", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_rest_service_block_runs_as_pasted(tmp_path):
    pytest.importorskip("fastapi")
    block = _block_after("## REST service").replace("8000", str(_free_port()))
    done = _paste(block, tmp_path)
    ranking = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(ranking) == 20  # German credit's 20 columns, ranked
    assert [int(row["rank"]) for row in ranking] == list(range(1, 21))
    assert sum(row["selected"] == "true" for row in ranking) == 10
    assert (tmp_path / "featimp-data").is_dir()


def test_the_command_line_block_runs_as_pasted(tmp_path):
    """Every line of the block, its example file made by the block itself."""
    pytest.importorskip("pyarrow")
    done = _paste(_block_after("## Command line"), tmp_path)
    import pandas as pd

    ranking = pd.read_parquet(tmp_path / "ranking.parquet")
    assert len(ranking) == 20 and "rank_low" in ranking.columns
    reduced = pd.read_csv(tmp_path / "reduced.csv")
    assert reduced.shape == (1000, 6)  # 5 of the 20 columns, and the target
    assert "featimp " in done.stdout.splitlines()[-1]
