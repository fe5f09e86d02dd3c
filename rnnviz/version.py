"""The version of rnnviz, in one place."""

__version__ = "0.1.0"
