"""gridctl telemetry beyond metrics: inventory and wipe, logs.jsonl, OTLP traces.jsonl.

Files are found with ``tokentop.store.metrics.layout`` and ``tokentop.store.tail.family``
(the same discovery and rotation rules as the metrics reader), so every signal of a
server is read the same way.
"""
