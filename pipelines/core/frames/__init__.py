"""Turning declared sources and stages into DataFrames.

The one builder that the plan (on empty frames) and the run share.
"""
