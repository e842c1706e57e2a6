"""Synthetic populations and their partner events, with ground truth: for measuring linkage
quality and speed, and for demos. Every name and address is generated; none is real."""
