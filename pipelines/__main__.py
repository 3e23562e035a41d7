"""``python -m pipelines ...`` and the ``spark-submit`` entry point."""

from pipelines.core.cli import entry

if __name__ == "__main__":
    entry()
