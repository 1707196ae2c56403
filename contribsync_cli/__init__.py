"""The ``contribsync`` command line: operators' and developers' entry point (not in the layer)."""
