"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temporary folder.

The server refuses to run as root: when the tests run as root, every server command runs as
the `postgres` user (`runuser`), which owns the folder. The cluster listens on a free port of
127.0.0.1 only, trusts local connections, and skips fsync (its data is thrown away).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"


class ClusterUnavailable(Exception):
    """The PostgreSQL server binaries are missing or the cluster did not start."""


def bindir() -> Path:
    """The folder of initdb and pg_ctl (`pg_config --bindir`, or VOTEBOT_PG_BINDIR)."""
    if os.environ.get("VOTEBOT_PG_BINDIR"):
        found = Path(os.environ["VOTEBOT_PG_BINDIR"])
    else:
        pg_config = shutil.which("pg_config")
        if pg_config is None:
            raise ClusterUnavailable("pg_config not found (Debian: apt-get install postgresql)")
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        found = Path(out.stdout.strip())
    if not (found / "initdb").exists() or not (found / "pg_ctl").exists():
        raise ClusterUnavailable(f"no initdb/pg_ctl in {found} (the server package is missing)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Cluster:
    """One temporary cluster; `url(name)` for a database in it."""

    def __init__(self) -> None:
        self.bin = bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self.owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ClusterUnavailable(f"running as root and no {SERVER_USER!r} user") from None
        # As root, under /tmp whatever TMPDIR says: the server user must be able to reach it.
        self.root = Path(
            tempfile.mkdtemp(prefix="votebot-pg-", dir="/tmp" if self.as_root else None)
        )
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(f"{command[0]}: {exc}") from None

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        if self.as_root:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        init = self._run(
            f"{self.bin}/initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode:
            raise ClusterUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        ctl = self._run(
            f"{self.bin}/pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip
        if ctl.returncode:
            log = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            raise ClusterUnavailable(f"pg_ctl start failed: {ctl.stderr.strip()} {log}")
        self.started = True

    def url(self, database: str = "postgres") -> str:
        """A connection URL for `database` as the superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self.started:
            self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """A started cluster (ClusterUnavailable if that cannot be done here)."""
    cluster = Cluster()
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
