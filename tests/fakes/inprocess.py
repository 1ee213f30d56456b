"""An in-process PTB request object backed by the fake Bot API; nothing touches the network."""

from __future__ import annotations

import json
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakes.botapi import TIMEOUT, FakeBotAPI


class FakeRequest(BaseRequest):
    """Answers every Bot API call from a `FakeBotAPI`, recording it."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = _plain(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            # Uploaded files (sendPhoto…) travel as multipart parts, not as parameters.
            for part, (_, content, _) in request_data.multipart_data.items():
                params.setdefault(part, f"attach://{part}")
                if name == "sendPhoto":
                    self.api.photos.append(bytes(content))
        status, body = self.api.handle(name, params)
        if status == TIMEOUT:
            raise TimedOut("fake time-out")
        return status, json.dumps(body).encode()


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the server would decode them from JSON."""
    return json.loads(json.dumps(params, default=str))
