"""Entry points: the command line, notebooks and the cluster bundle."""
