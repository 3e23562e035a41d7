"""Data-quality gates: one-pass expectation metrics.

``ge_adapter`` is the one module that imports Great Expectations.
"""
