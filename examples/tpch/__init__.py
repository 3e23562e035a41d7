"""TPC-H queries as pipelines: each reads the TPC-H tables as Parquet files under
``<warehouse>/landing/tpch/`` (``make tpch-data`` writes them with ``tpchgen-cli``) and
publishes its answer as a Delta table ``tpch_q<N>`` (mode ``overwrite``).

Run one: ``pipelines run q6 --date 2026-11-26 --conf pipeline_packages=[examples.tpch]``.
The tests compare every answer with DuckDB's on the same files.
"""
