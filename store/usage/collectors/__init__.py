"""Collectors: read agent logs incrementally and turn them into IngestRequests."""
