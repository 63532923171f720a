"""A real OpenSSH server on 127.0.0.1 for the remote-collection tests and bench.

Debian's ``openssh-server`` (``/usr/sbin/sshd``), run as the current user with a
throwaway host key and user key in a temporary directory; the client side is the
user's ``ssh`` with a throwaway config (``TOKENTOP_SSH_CONFIG``, passed with ``-F``)
whose known_hosts holds only that host key, ``StrictHostKeyChecking yes``. The box's
``HOME`` is a directory of the test's (``SetEnv`` in sshd_config), so its agent logs
are files the test writes.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
HOST = "box"


def missing_reason() -> str | None:
    """Why a real sshd cannot run here (None: it can)."""
    if not SSHD.exists():
        return "needs /usr/sbin/sshd (Debian package openssh-server)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "needs ssh and ssh-keygen (Debian package openssh-client)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


@dataclass
class Sshd:
    """One server and the client config that reaches it as ``box``."""

    dir: Path
    home: Path  # the box's $HOME
    port: int
    proc: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.dir / "ssh_config"

    @property
    def control_dir(self) -> Path:
        return self.dir / "cm"

    def env(self) -> dict[str, str]:
        return {"TOKENTOP_SSH_CONFIG": str(self.config),
                "TOKENTOP_SSH_CONTROL_DIR": str(self.control_dir)}

    def start(self) -> None:
        with open(self.dir / "sshd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(self.dir / "sshd_config"),
                 "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.dir / "sshd.log").read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("sshd did not listen")

    def kill(self) -> None:
        """The listener and every connection it forked (the session's process group)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.stop_master()

    def stop_master(self) -> None:
        """End the ControlPersist master ssh left behind for this config."""
        subprocess.run(["ssh", "-F", str(self.config), "-o",
                        f"ControlPath={self.control_dir}/%C", "-O", "exit", HOST],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)

    def new_host_key(self) -> None:
        """Replace the server's host key (known_hosts keeps the old one)."""
        for name in ("hostkey", "hostkey.pub"):
            (self.dir / name).unlink()
        _keygen(self.dir / "hostkey")


def make(base: Path | None = None) -> Sshd:
    """Keys, configs and a home; not started. A short temporary directory: the control
    socket's path must fit in a sockaddr_un."""
    d = Path(tempfile.mkdtemp(prefix="tt-ssh-", dir=base))
    home = d / "home"
    home.mkdir()
    (d / "cm").mkdir(mode=0o700)
    port = _free_port()
    _keygen(d / "hostkey")
    _keygen(d / "userkey")
    shutil.copy(d / "userkey.pub", d / "authorized_keys")
    user = getpass.getuser()
    (d / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\n"
        f"AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin yes\n"
        f"AllowUsers {user}\nSetEnv HOME={home}\nPrintMotd no\nPrintLastLog no\n")
    (d / "ssh_config").write_text(
        f"Host {HOST}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n"
        f"  IdentityFile {d}/userkey\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  CheckHostIP no\n")
    pub = (d / "hostkey.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n")
    if os.geteuid() == 0 and not Path("/run/sshd").exists():
        Path("/run/sshd").mkdir(mode=0o755)  # sshd's privilege separation directory
    return Sshd(dir=d, home=home, port=port)


def cleanup(server: Sshd) -> None:
    server.kill()
    shutil.rmtree(server.dir, ignore_errors=True)


@contextlib.contextmanager
def running(monkeypatch, extra_config: str = "") -> Iterator[Sshd]:  # type: ignore[no-untyped-def]
    """A started server for one test, its ssh variables set through ``monkeypatch``
    (skipped, with the reason, where there is no sshd); ``extra_config`` is appended to
    the client's ssh_config before it starts. Killed and removed afterwards."""
    import pytest

    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = make()
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    if extra_config:
        server.config.write_text(server.config.read_text() + extra_config)
    server.start()
    try:
        yield server
    finally:
        cleanup(server)
