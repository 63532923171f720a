"""The canonical usage store: a SQLite database of AI-agent usage events, compatible
with openusage's ``telemetry.db`` (DESIGN 2.2), fed by collectors that read the logs
agents already write (DESIGN 2.3)."""
