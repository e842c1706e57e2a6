"""The ``mast`` command: one console script whose sub-commands wire the parts together."""
