"""Demo data for the example pipelines (not part of the framework)."""
