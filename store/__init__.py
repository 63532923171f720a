"""tokentop's data layer: sources, the ring and the stores. Never imports the UI."""
