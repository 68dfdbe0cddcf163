"""The benchmarks' environment block (benchmarks/_environment.py) and the
results that carry it."""

import json
from pathlib import Path

import pytest

from tests._shared import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "benchmarks" / "results").glob("*.json"))


def _environment_module():
    return load_benchmark("_environment")


def _check_block(block: dict) -> None:
    machine, versions = block["machine"], block["versions"]
    assert isinstance(machine["cpu_count"], int) and machine["cpu_count"] >= 1
    assert len(machine["load_average_1_5_15_min"]) == 3
    assert isinstance(versions["python"], str)
    assert isinstance(versions["numpy"], str)
    if "loaded" in machine:  # the block as it is written today
        assert isinstance(machine["loaded"], bool)
        assert len(machine["load_average_at_start"]) == 3
        assert "OPENBLAS_CORETYPE" in machine and "threadpools" in machine


def test_the_block_records_threads_and_load_at_both_ends():
    block = _environment_module().environment("scipy")
    _check_block(block)
    assert block["versions"]["scipy"]
    assert block["machine"]["threadpools"], "numpy's BLAS should be listed"


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_results_json_parse_and_carry_a_valid_block_if_any(path):
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "machine" in data and "versions" in data:
        _check_block(data)
