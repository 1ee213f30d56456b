"""A round-robin TCP proxy in front of several webhook replicas (a load balancer's stand-in).

Each accepted connection goes to the next backend in turn; a backend refusing the connection
(a killed replica) is skipped for the next one. Bytes are piped both ways unchanged, so a
replica killed mid-call closes the client's connection and the caller retries, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools


class RoundRobinProxy:
    """Listens on 127.0.0.1 and spreads connections over `backends` (host, port) in turn."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._turn = itertools.cycle(range(len(backends)))
        self.server: asyncio.Server | None = None
        self.connections = [0] * len(backends)  # accepted connections routed to each backend
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        """Start listening; the port."""
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            index = next(self._turn)
            try:
                conn = await asyncio.open_connection(*self.backends[index])
            except OSError:
                continue
            self.connections[index] += 1
            return conn
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
