"""PaCo benchmarks: `python -m bench` (or `make bench`); results are summarised in BENCHMARKS.md."""
