"""Example pipelines written with the declarative vocabulary only (no Map stages)."""
