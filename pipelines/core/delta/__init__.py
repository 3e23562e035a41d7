"""Delta Lake I/O: table facts, and the one module that writes sinks."""
