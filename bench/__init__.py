"""Benchmarks. Each module measures Campus against a baseline in the same run and prints ratios."""
