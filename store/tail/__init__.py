"""Read append-only line files as they grow: from an offset, across rotation, once.

Knows nothing of who wrote the files. ``reader`` reads complete lines from an offset
(plain or gzip); ``cursor`` tells whether a file is still the one read; ``family`` lists
a lumberjack file family (active file and rotated siblings); ``family_tail`` follows a
family incrementally; ``backread`` takes a family's last N lines without reading it
whole; ``walk`` and ``offsets`` find files and plan reads from stored offsets.
"""
