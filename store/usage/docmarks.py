"""Which events of a rewritten document are new since its last read.

Some agents rewrite a whole document in place as a conversation grows (an Amp thread, a
Codebuff chat, a Gemini ``.json`` session): one new message makes the runner parse the
whole document again, and every earlier message comes back as an event the store
already holds. Ingesting those as duplicates cost ~80 µs each (normalising, keying, a
look-up): one message in a 300-message thread, ~25 ms. So the runner remembers a digest
of every event a document gave (its ``DOC_KEY`` mark, stored with the events in the
same transaction, as a database's row marks are) and passes on only the events whose
digest it has not seen: a new message, or an old one whose values changed.

The digest is of the whole canonical request (msgpack, BLAKE2b, 64 bits), so an event
is skipped only when everything the store was given for it is equal: what the store
would do with it again is nothing. Digests are of content, not position, so a
document replaced by a copy (a new inode) costs nothing either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from tokentop.store.usage.model import IngestRequest

DOC_KEY = "\x00events"  # the row key of a document's mark (no agent's row has a NUL)
MIN_EVENTS = 2  # fewer: no mark kept (a look-up and a row cost more than one duplicate)
_HEX = 16  # characters of one digest (64 bits)

_encode = msgspec.msgpack.Encoder().encode


def digest(req: IngestRequest) -> str:
    return hashlib.blake2b(_encode(req), digest_size=_HEX // 2).hexdigest()


def fresh(requests: Sequence[IngestRequest], mark: str | None,
          ) -> tuple[list[IngestRequest], str]:
    """(the requests not in ``mark``, the document's mark now). ``mark``: the one
    stored at the last read, None at the first (every request is fresh)."""
    digests = [digest(r) for r in requests]
    known = ({mark[i:i + _HEX] for i in range(0, len(mark), _HEX)}
             if mark else set())
    new = [r for r, d in zip(requests, digests, strict=True) if d not in known]
    return new, "".join(sorted(set(digests)))
