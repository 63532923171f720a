"""One connection to a box: the user's ``ssh`` running ``script.SCRIPT`` there.

Why the user's own ``ssh`` binary and not a library: their keys, agent, ``~/.ssh/config``
(ProxyJump, aliases, certificates) and known_hosts all work as in their terminal, and
nothing of theirs is copied into tokentop. ``BatchMode=yes`` so it never prompts (a
dashboard has no terminal to prompt on); the connection is multiplexed
(``ControlMaster``) through a socket in tokentop's state directory, so reconnecting after
a dropped session, or a second tool on the same box, costs no new handshake while the
master lives.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tokentop.store.remote.script import SCRIPT, cksum
from tokentop.store.state import state_dir

HELLO = b"tokentop-remote 1\n"
# The login shell on the box may be anything (bash, zsh, fish, csh): it only has to run
# this one line, which reads the program from stdin and runs it under /bin/sh.
PROGRAM = SCRIPT
REMOTE_COMMAND = (
    f"exec /bin/sh -c 'eval \"$(head -c {len(PROGRAM.encode())})\"'"
)
TIMEOUT_S = 30.0  # a read that takes longer: the connection is taken as dropped
NOISE = 200  # lines a login shell may print before the program's greeting


class Listed(NamedTuple):
    """One file of a listing: its kind (``c`` Claude Code, ``x`` Codex, ``m`` a
    followed tree, ``a<n>`` a root added with ``add_root``), inode, size, mtime (0 but
    for ``a<n>``; in nanoseconds where the box's ``stat`` has them, else seconds: only
    ever compared with itself) and path on the box."""

    kind: str
    inode: int
    size: int
    mtime: int
    path: str


def _listed(line: bytes) -> Listed | None:
    """A listing line, None for one the program does not write (passed over)."""
    kind, _, rest = line.partition(b" ")
    added = kind[:1] == b"a" and kind[1:].isdigit()
    if not added and kind not in (b"c", b"x", b"m"):
        return None
    parts = rest.split(b" ", 3 if added else 2)
    if added and len(parts) == 4:  # an mtime with its fraction: compared, never shown
        parts[2] = parts[2].replace(b".", b"", 1)
    if len(parts) != (4 if added else 3) or not all(p.isdigit() for p in parts[:-1]):
        return None
    nums = [int(p) for p in parts[:-1]]
    mtime = nums[2] if added else 0
    return Listed(kind.decode(), nums[0], nums[1], mtime,
                  parts[-1].decode("utf-8", "surrogateescape"))


class RemoteError(Exception):
    """A box could not be read: the message is one line, fit to show as is."""


@dataclass
class SshOptions:
    """How to run ``ssh``. ``TOKENTOP_SSH`` names the binary and ``TOKENTOP_SSH_CONFIG``
    a config file passed with ``-F`` (tests point both at throwaway ones);
    ``TOKENTOP_SSH_CONTROL_DIR`` where the control sockets go."""

    ssh: str = "ssh"
    config: Path | None = None
    control_dir: Path | None = None
    connect_timeout_s: int = 10
    extra: Sequence[str] = field(default_factory=tuple)

    @classmethod
    def from_env(cls) -> SshOptions:
        env = os.environ
        config = env.get("TOKENTOP_SSH_CONFIG", "").strip()
        control = env.get("TOKENTOP_SSH_CONTROL_DIR", "").strip()
        return cls(ssh=env.get("TOKENTOP_SSH", "").strip() or "ssh",
                   config=Path(config) if config else None,
                   control_dir=Path(control) if control else None)

    def socket_dir(self) -> Path:
        return self.control_dir or state_dir("tokentop") / "ssh"

    def argv(self, host: str, command: str) -> list[str]:
        control = self.socket_dir()
        argv = [self.ssh]
        if self.config is not None:
            argv += ["-F", str(self.config)]
        for opt in ("BatchMode=yes", "ControlMaster=auto", f"ControlPath={control}/%C",
                    "ControlPersist=60", f"ConnectTimeout={self.connect_timeout_s}",
                    "ServerAliveInterval=10", "ServerAliveCountMax=2", "Compression=yes",
                    "LogLevel=ERROR"):
            argv += ["-o", opt]
        return [*argv, *self.extra, "-T", "--", host, command]


def check_host(host: str) -> str:
    """``host`` as given (``user@box``, an alias of ``~/.ssh/config``); refused when it
    could be read as an option or carries what no destination does."""
    host = host.strip()
    if not host or host.startswith("-") or any(c.isspace() or ord(c) < 32 for c in host):
        raise RemoteError(f"not an ssh destination: {host!r}")
    return host


@dataclass
class Traffic:
    """Bytes tokentop wrote to and read from the session (the program itself apart)."""

    up: int = 0
    down: int = 0


class Session:
    """A running ``ssh host sh`` speaking the protocol of ``script``."""

    def __init__(self, host: str, options: SshOptions | None = None) -> None:
        self.host = check_host(host)
        self.options = options or SshOptions.from_env()
        self.traffic = Traffic()
        self._buf = b""
        control = self.options.socket_dir()
        control.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.proc = subprocess.Popen(
                self.options.argv(self.host, REMOTE_COMMAND), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                start_new_session=True)
        except OSError as exc:
            raise RemoteError(f"{self.host}: cannot run ssh: {exc.strerror or exc}") from None
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        try:
            self._write(PROGRAM.encode(), count=False)
            self._hello()
        except RemoteError:
            self.close()
            raise
        self.traffic = Traffic()  # what a poll costs, from here on

    def _hello(self) -> None:
        """Wait for the program's greeting. A login shell may print first (a ``.bashrc``
        that echoes for every shell): up to ``NOISE`` lines of that are passed over."""
        deadline = self.options.connect_timeout_s + TIMEOUT_S
        for _ in range(NOISE):
            if self._line(deadline) + b"\n" == HELLO:
                return
        raise RemoteError(f"{self.host}: unexpected answer from the remote shell")

    # --- the protocol -----------------------------------------------------------------

    def forget(self) -> None:
        self._write(b"F\n")

    def follow_tree(self, root: str) -> str:
        """List every file under ``root`` (on the box) from now on, and no agent log;
        returns ``root`` as the box spells it (``~`` expanded, no trailing slash)."""
        name = root.encode("utf-8", "surrogateescape")
        if b"\n" in name:
            raise RemoteError(f"{self.host}: not a path: {root!r}")
        self._write(b"W %s\n" % name)
        resolved = self._line().decode("utf-8", "surrogateescape")
        self.forget()
        return resolved

    def add_root(self, n: int, pattern: str, root: str) -> None:
        """Also list the files named ``pattern`` under ``root`` on the box (``root``
        itself when it is a file), as kind ``a<n>``; answered by nothing."""
        name = root.encode("utf-8", "surrogateescape")
        if b"\n" in name or not pattern or any(c.isspace() for c in pattern):
            raise RemoteError(f"{self.host}: not a path: {root!r}")
        self._write(b"A %d %s %s\n" % (n, pattern.encode(), name))

    def tokentop(self) -> str | None:
        """The box's ``tokentop`` executable (its PATH, else ``~/.local/bin``), if any."""
        self._write(b"X\n")
        found = self._line().decode("utf-8", "surrogateescape")
        return found or None

    def list(self) -> tuple[list[Listed], int]:
        """The files that changed since the last call and how many there are in all."""
        self._write(b"L\n")
        changed = []
        while True:
            line = self._line()
            if line.startswith(b"."):
                try:
                    return changed, int(line[1:])
                except ValueError:
                    raise RemoteError(f"{self.host}: garbled listing") from None
            got = _listed(line)
            if got is not None:
                changed.append(got)

    def read(self, path: str, start: int, head: bytes, limit: int
             ) -> tuple[int, int, bytes] | None:
        """(inode, where the bytes start, bytes) of ``path`` from ``start`` (0 when the
        file no longer starts with ``head``); None when it cannot be read."""
        name = path.encode("utf-8", "surrogateescape")
        if b"\n" in name:
            return None
        self._write(b"R %d %d %d %d %s\n" % (start, len(head), cksum(head), limit, name))
        line = self._line()
        if line == b"E":
            return None
        parts = line.split(b" ")
        if len(parts) != 4 or parts[0] != b"D" or not all(p.isdigit() for p in parts[1:]):
            raise RemoteError(f"{self.host}: garbled read answer")
        inode, used, n = (int(p) for p in parts[1:])
        if n > limit:  # more than was asked for: not the program speaking
            raise RemoteError(f"{self.host}: garbled read answer")
        return inode, used, self._exact(n)

    def close(self) -> None:
        """End the session (the shell removes its temporary directory on EOF)."""
        proc = self.proc
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._sel.close()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    # --- bytes ------------------------------------------------------------------------

    def _write(self, data: bytes, count: bool = True) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
        except (BrokenPipeError, OSError, ValueError):
            raise self._dropped() from None
        if count:
            self.traffic.up += len(data)

    def _fill(self, deadline: float) -> None:
        fd = self.proc.stdout
        assert fd is not None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RemoteError(f"{self.host}: no answer in {TIMEOUT_S:.0f} s")
            if self._sel.select(left):
                chunk = os.read(fd.fileno(), 1 << 16)
                if not chunk:
                    raise self._dropped()
                self.traffic.down += len(chunk)
                self._buf += chunk
                return

    def _line(self, timeout: float = TIMEOUT_S) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            i = self._buf.find(b"\n")
            if i >= 0:
                line, self._buf = self._buf[:i], self._buf[i + 1:]
                return line
            self._fill(deadline)

    def _exact(self, n: int) -> bytes:
        deadline = time.monotonic() + TIMEOUT_S
        parts, have = [], 0
        while True:
            take = self._buf[:n - have]
            self._buf = self._buf[len(take):]
            parts.append(take)
            have += len(take)
            if have == n:
                return b"".join(parts)
            self._fill(deadline)

    def _dropped(self) -> RemoteError:
        """The reason ssh gave (its last line of stderr), else that the session ended."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        err = b""
        if self.proc.stderr is not None and self.proc.poll() is not None:
            try:
                err = self.proc.stderr.read() or b""
            except (OSError, ValueError):
                err = b""
        lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
        reason = _reason(lines) if lines else "connection closed"
        return RemoteError(f"{self.host}: {reason}")


def _reason(lines: list[str]) -> str:
    """One line out of ssh's complaint: the host key warning is a banner of a dozen
    lines whose meaning is its first."""
    for line in lines:
        if "REMOTE HOST IDENTIFICATION HAS CHANGED" in line:
            return "host key changed (refused; check known_hosts)"
        if "Host key verification failed" in line:
            return "host key verification failed (refused)"
    return lines[-1][:200]
