"""A team store on PostgreSQL: several machines ingest into one shared ledger.

Design (issue 18, part 2), and why:

- **SQLite stays the engine; PostgreSQL is the shared ledger.** ``--store
  postgresql://...`` collects on each machine exactly as a local store does, into a
  cache store tokentop owns (``$XDG_STATE_HOME/tokentop/team/<hash>.db``, the hash of
  the URL without its credentials: ``location``). The cache keeps this machine's file
  offsets and row marks, so the collectors, their crash safety and their dedup are the
  ones every local store runs; nothing about reading agent logs is written twice.
- **The database decides duplicates.** What the cache stored or changed since the
  last push (an outbox its triggers fill: ``outbox``) goes to PostgreSQL tables with
  the same columns as ``usage_events`` / ``usage_raw_events`` (``pgschema`` derives
  them from the SQLite schema, so a column added there flows through), with one
  ``INSERT ... ON CONFLICT (dedup_key) DO UPDATE ... WHERE`` (``merge``) whose SET is
  ingest's ``merge`` written in SQL: the copy that ranks higher under
  ``dedup.copy_rank`` / ``copy_tiebreak`` wins, the loser only fills NULLs. The
  UNIQUE constraint and the row lock make it one event whatever machine pushes first
  or at the same moment; a push that changes nothing writes nothing.
- **Reading pulls, then runs the unchanged read model.** Every PostgreSQL row carries
  the id of the transaction that last wrote it (``tokentop_xid``, xid8). A pull takes
  the rows of the transactions finished since the last pull (below the snapshot's
  ``xmin``, so a transaction still running is taken next time, never skipped) into a
  local replica (``team/<hash>.read.db``), an ordinary tokentop store: reports and the
  Usage screen read it with the SQLite code they always ran, so a team store's numbers
  equal a local store's of the same logs by construction.
- **Rollups are kept by the pull, not in PostgreSQL.** The replica's rollup is updated
  with ingest's own ``rollup.Deltas`` in the transaction that applies each pull, as a
  local ingest keeps it. A second rollup in PostgreSQL would be a PL/pgSQL copy of
  ``rollup.py`` (tier thresholds from the local price table, several grains) for no
  reader: nothing queries PostgreSQL but the pull.
"""
