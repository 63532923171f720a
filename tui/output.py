"""One escaping rule for every line a headless command prints, stdout and stderr alike.

What tokentop prints comes partly from elsewhere: a path, a server's reply, an HTTP
reason phrase, a log record, an event's payload. Some commands escaped it, others
printed it raw: an OSC 52 sequence in an SSE reason phrase reached the terminal (and
could set its clipboard), ``logs``/``spans``/``events`` JSON carried raw C1 controls
(U+009B is a CSI) and bidi overrides (U+202E). So the headless commands write through
these streams: every control character but newline, tab and carriage return (the
progress line), and every Unicode format, separator, surrogate or private-use
character, is written as ``\\uXXXX``. Inside a JSON string that is the same string to a
JSON reader (only C0 controls were escaped before, by the encoders); in a text line it
is visible instead of acted on. Bytes that are not UTF-8 become U+FFFD. Credentials in
URLs and DSNs (``tokentop.store.redact.redact_text``) are masked on the way too.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from typing import Any, BinaryIO, TextIO

from tokentop.store.redact import redact_text

_ASCII_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# everything but tab, newline, carriage return and printable ASCII, written as the
# complement: the range up to U+10FFFF took ~5 ms to compile, on every command's start
_MAYBE_BAD = re.compile("[^\t\n\r\x20-\x7e]")
_BAD_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code > 0x7f and unicodedata.category(ch) not in _BAD_CATEGORIES:
        return ch
    if code > 0xffff:  # a private-use plane character: as its surrogate pair, as JSON does
        code -= 0x10000
        return f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}"
    return f"\\u{code:04x}"


def escape_output(text: str) -> str:
    """``text`` with every character a terminal could act on written as ``\\uXXXX``,
    and credentials in URLs masked."""
    text = redact_text(text)
    if text.isascii():
        return _ASCII_BAD.sub(_escape, text) if _ASCII_BAD.search(text) else text
    return _MAYBE_BAD.sub(_escape, text)


class _Wrapped:
    """What both wrappers pass straight to the stream they wrap."""

    _raw: Any

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._raw.flush()

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def isatty(self) -> bool:
        return bool(self._raw.isatty())


class SafeBinary(_Wrapped, io.RawIOBase):
    """A binary stream (``sys.stdout.buffer``) under the same rule."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def write(self, data: Any) -> int:
        data = bytes(data)
        if (data.isascii() and b"://" not in data and b"assword" not in data
                and not _ASCII_BAD.search(data.decode("ascii"))):
            self._raw.write(data)
        else:
            self._raw.write(escape_output(data.decode("utf-8", "replace")).encode("utf-8"))
        return len(data)


class SafeText(_Wrapped, io.TextIOBase):
    """A text stream (``sys.stdout``, ``sys.stderr``) under the rule; ``buffer`` too."""

    def __init__(self, raw: TextIO) -> None:
        self._raw = raw
        self._buffer: SafeBinary | None = None

    def write(self, text: str) -> int:  # type: ignore[override]
        self._raw.write(escape_output(text))
        return len(text)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._raw, "encoding", "utf-8") or "utf-8"

    @property
    def buffer(self) -> SafeBinary:
        if self._buffer is None:
            self._buffer = SafeBinary(self._raw.buffer)  # type: ignore[attr-defined]
        return self._buffer


def install() -> None:
    """Route this process's stdout and stderr through the rule (headless commands only:
    the dashboard's terminal driver writes escape sequences on purpose)."""
    if not isinstance(sys.stdout, SafeText):
        sys.stdout = SafeText(sys.stdout)
    if not isinstance(sys.stderr, SafeText):
        sys.stderr = SafeText(sys.stderr)
