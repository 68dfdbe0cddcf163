.PHONY: install lint test bench bench-table notebooks

install:
	pip install -c constraints.txt -e ".[all,test]"

lint:
	ruff check .
	ruff format --check .

test:
	python -m pytest

bench:
	python benchmarks/bench_mutual_info.py
	python benchmarks/bench_centrality.py

bench-table:
	python benchmarks/tables.py --write

notebooks:
	python notebooks/refresh.py
