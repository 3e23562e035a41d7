"""Entry script for ``spark-submit``: the same CLI as ``pipelines``, on the submitted session.

    spark-submit [--master ...] [--packages io.delta:...] submit.py run daily_revenue --date D
"""

from pipelines.core.interfaces.cli import entry

if __name__ == "__main__":
    entry()
