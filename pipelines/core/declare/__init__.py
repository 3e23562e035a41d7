"""The declarative vocabulary a pipeline module is written in: plain, frozen data."""
