"""Programmes: calls, applications by organisations, reviews with scoring grids, decisions."""
