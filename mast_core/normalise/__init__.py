"""Normalisation of the minimum dataset: the same rules for the resolver, the offline command,
the API's search and the benchmarks. Pure functions, no I/O beyond the shipped tables."""
