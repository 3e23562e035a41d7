"""``python -m pipelines ...`` and the ``spark-submit`` entry point."""

from pipelines.core.interfaces.cli import entry

if __name__ == "__main__":
    entry()
