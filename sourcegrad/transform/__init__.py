"""Transforms: reverse mode (``reverse``), built from rule templates (``templates``)."""
