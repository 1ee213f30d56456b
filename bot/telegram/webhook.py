"""The webhook HTTP server: a call is refused on its headers (secret, type, size) before its
body is read; bodies are capped; nothing a call carries is logged.

PTB's own webhook server reads the whole body (up to 100 MB) before checking the secret, and
logs bodies and wrong secrets at DEBUG. This one streams the body only for a call bearing the
right `X-Telegram-Bot-Api-Secret-Token`, and tornado closes any connection whose body passes
`VOTEBOT_WEBHOOK_MAX_BODY`. Updates go to the Application's queue, as with PTB's server.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from urllib.parse import urlsplit

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.telegram.guards import parse_update
from bot.telegram.send import with_retry

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_LIMIT = 64 * 1024  # a refused call's body up to this size is read and dropped


def refusal(headers: Mapping[str, str], secret: str, max_body: int) -> HTTPStatus | None:
    """Why a webhook call is refused from its headers alone, or None if its body may be read."""
    given = headers.get(SECRET_HEADER) or ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return HTTPStatus.FORBIDDEN
    if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
        return HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    length = headers.get("Content-Length")
    if length is not None and (not length.isdigit() or int(length) > max_body):
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    return None


@tornado.web.stream_request_body
class WebhookHandler(tornado.web.RequestHandler):
    """One Telegram call: headers checked first, then the body read and queued as an update."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, app: Application, secret: str, max_body: int) -> None:
        """Per request: the Application, the secret and the body cap."""
        self.app, self.secret, self.max_body = app, secret, max_body
        self.chunks: list[bytes] = []
        self.refused: HTTPStatus | None = None

    def prepare(self) -> None:
        """Refuse on the headers: the body of a refused call is never kept. A small one is
        drained (so the client reads the answer on a clean connection), a large one not read."""
        self.refused = refusal(self.request.headers, self.secret, self.max_body)
        if self.refused is None:
            return
        length = self.request.headers.get("Content-Length") or ""
        if not length.isdigit() or int(length) > DRAIN_LIMIT:
            self.set_status(self.refused)
            self.finish()

    def data_received(self, chunk: bytes) -> None:
        """Collect the body (tornado stops at `max_body_size`); a refused one is dropped."""
        if self.refused is None:
            self.chunks.append(chunk)

    async def post(self) -> None:
        """Queue the update; a body that is not JSON gets 400 (and is not logged)."""
        if self.refused is not None:
            self.set_status(self.refused)
            return
        try:
            raw = json.loads(b"".join(self.chunks))
        except ValueError:
            log.warning("webhook: a call with the right secret did not hold JSON")
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        update = parse_update(raw, self.app.bot)
        if update is not None:  # a malformed update is acknowledged and dropped
            await self.app.update_queue.put(update)

    def log_exception(self, *args: object) -> None:
        """Never log a request (its body holds what voters wrote)."""


def make_server(app: Application, path: str, secret: str, max_body: int) -> HTTPServer:
    """The HTTP server for the webhook route `path` (not listening yet)."""
    route = "/" + path.strip("/")
    web = tornado.web.Application(
        [
            (
                rf"{route.rstrip('/')}/?",
                WebhookHandler,
                {"app": app, "secret": secret, "max_body": max_body},
            )
        ],
        log_function=lambda handler: None,
    )
    return HTTPServer(web, max_body_size=max_body, max_buffer_size=max_body)


async def serve(
    app: Application, url: str, listen: str, port: int, secret: str, max_body: int
) -> None:
    """Set the webhook to `url`, serve it on `listen:port` until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    server = make_server(app, urlsplit(url).path, secret, max_body)
    try:
        if app.post_init:
            await app.post_init(app)
        await with_retry(
            partial(
                app.bot.set_webhook, url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
        )
        await app.start()
        server.listen(port, address=listen)
        log.info("serving the webhook on %s:%s", listen, port)
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
