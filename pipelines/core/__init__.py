"""The framework: declaring, planning, executing and recording pipelines.

The map of its subpackages and their layers is ``docs/architecture.md``.
"""
