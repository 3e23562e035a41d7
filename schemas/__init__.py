"""StructType contracts for sources and outputs. Imports nothing from the framework."""
