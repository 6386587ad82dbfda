"""Benchmarks of voltbook: `python -m benchmarks [name ...]` (or `./dev bench`).

See docs/benchmarks.md for what each one measures and the figures measured so far.
"""
