"""Partner adapters: how agencies' systems publish interaction events to MAST."""
