"""The HTTP client under python-telegram-bot: aiohttp instead of PTB's default httpx.

With httpx the bare echo bot of bench/ spent a full core at ~110 updates/s inside the client
(httpcore's pool scans every kept-alive connection on each request); with aiohttp it answers
900+ updates/s on the same machine, so the bot's throughput is set by its own work. Same
contract as PTB's HTTPXRequest: (status, body) back, `TimedOut` / `NetworkError` raised,
files sent as multipart.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """A PTB request backend on one aiohttp session with a bounded keep-alive pool."""

    def __init__(self, connections: int = 32, read_timeout: float | None = READ_TIMEOUT) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read time-out used when a call gives none (PTB adds it to getUpdates' wait)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (once; again after a shutdown)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One Bot API call: (HTTP status, body)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = CONNECT_TIMEOUT if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = None if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = MEDIA_WRITE_TIMEOUT if files else None
        if not isinstance(write_timeout, DefaultValue) and write_timeout is not None:
            write = write_timeout
        total = None if read is None else read + (write or 0.0) + (connect or 0.0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=pool, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data, files),
                headers=_headers(files),
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


JSON = {"Content-Type": "application/json"}


def _headers(files: dict[str, Any] | None) -> dict[str, str] | None:
    """The content type of a JSON body (multipart sets its own, with its boundary)."""
    return None if files else JSON


def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
    """The parameters as one JSON object (one C-speed dump of the plain values, as PTB's docs
    suggest: its `json_payload` dumps each nested value, then the whole again; a form
    percent-encoded every character of a long French text), as multipart with files."""
    if request_data is None:
        return None
    if not files:
        return json.dumps(request_data.parameters, ensure_ascii=False).encode()
    fields = request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in files.items():
        if isinstance(part, tuple):
            filename, content, *rest = part
            form.add_field(
                name, content, filename=filename, content_type=rest[0] if rest else None
            )
        else:
            form.add_field(name, part, filename=name)
    return form
