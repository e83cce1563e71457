"""Federated analysis: the data stays at each hospital node, only checked aggregates travel."""
