"""Emit: generated functions as source text, compiled with that text in ``linecache``."""
