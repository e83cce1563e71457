"""Campus: the open platform of a digital-health innovation campus."""

__version__ = "0.1.0"
