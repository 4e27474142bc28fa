"""Facts about the normal form, kept beside the tree (frozen dataclasses of sets and dicts)."""
