"""The webhook HTTP server onto the durable inbox: a call is refused on its headers (secret,
type, size) before its body is read, bodies are capped, nothing a call carries is logged, and
a call is answered 200 only once its update is stored. The 200 to a voter's press of a flow
button carries the call that stops its spinner (Telegram runs a method given in a webhook's
answer): one Bot API request fewer per press, and the spinner stops as soon as it is stored.

PTB's own webhook server reads the whole body (up to 100 MB) before checking the secret, logs
bodies and wrong secrets at DEBUG, and answers before the update is handled (a bot killed with
updates in flight loses them). This one streams the body only for a call bearing the right
`X-Telegram-Bot-Api-Secret-Token`, tornado closes any connection whose body passes
`VOTEBOT_WEBHOOK_MAX_BODY`, and the update is written to the inbox (calls arriving together
share one transaction) before the 200: Telegram keeps re-sending a call until it is stored.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot import callbacks
from bot.telegram.handlers import ANSWERED_MARK
from bot.telegram.intake import Intake
from bot.telegram.polling import Source
from bot.telegram.send import with_retry

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_LIMIT = 64 * 1024  # a refused call's body up to this size is read and dropped
MAX_BODY = 1_000_000  # bytes, unless VOTEBOT_WEBHOOK_MAX_BODY says otherwise


def spinner_of(raw: object) -> str | None:
    """The query id of a voter's press of a flow button in their private chat (whose spinner
    the handler would stop with no text): stopped by the webhook's answer instead. Other
    presses (staff, support, broadcast buttons, groups) are answered by their handlers."""
    if not isinstance(raw, dict):
        return None
    query = raw.get("callback_query")
    if not isinstance(query, dict) or not isinstance(query.get("id"), str):
        return None
    data, message = query.get("data"), query.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    private = isinstance(chat, dict) and chat.get("type") == "private"
    if not private or not isinstance(data, str) or callbacks.decode(data) is None:
        return None
    return query["id"]


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
    """One Telegram call: headers checked first, then the body read and stored in the inbox."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, intake: Intake, secret: str, max_body: int) -> None:
        """Per request: the inbox intake, the secret and the body cap."""
        self.intake, self.secret, self.max_body = intake, secret, max_body
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
        """Store the update, then 200; 400 if the body is not JSON, 500 if it could not be
        stored (Telegram calls again). A malformed update is stored and set aside by the
        inbox worker (counted in `votebot stats`)."""
        if self.refused is not None:
            self.set_status(self.refused)
            return
        try:
            raw = json.loads(b"".join(self.chunks))
        except ValueError:
            log.warning("webhook: a call with the right secret did not hold JSON")
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        query = spinner_of(raw)
        if query is not None:
            raw = {**raw, ANSWERED_MARK: True}  # the handler then leaves the spinner alone
        try:
            await self.intake.take_one(raw)
        except Exception as exc:  # not stored: Telegram will call again
            log.error("webhook: could not store an update (%s)", type(exc).__name__)
            self.set_status(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        self.set_status(HTTPStatus.OK)
        if query is not None:
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"method": "answerCallbackQuery", "callback_query_id": query}))

    def log_exception(self, *args: object) -> None:
        """Never log a request (its headers hold the secret, its body what voters wrote)."""


def make_server(intake: Intake, path: str, secret: str, max_body: int = MAX_BODY) -> HTTPServer:
    """The HTTP server for the webhook route `path` (not listening yet)."""
    route = "/" + path.strip("/")
    web = tornado.web.Application(
        [
            (
                rf"{route.rstrip('/')}/?",
                WebhookHandler,
                {"intake": intake, "secret": secret, "max_body": max_body},
            )
        ],
        log_function=lambda handler: None,
    )
    return HTTPServer(web, max_body_size=max_body, max_buffer_size=max_body)


def webhook_source(
    listen: str, port: int, path: str, url: str, secret: str, max_body: int = MAX_BODY
) -> Source:
    """The webhook source for `polling.serve`: listen, register with Telegram, serve."""

    async def source(app: Application, intake: Intake, stop: asyncio.Event) -> None:
        server = make_server(intake, path, secret, max_body)
        server.listen(port, address=listen)
        try:
            await with_retry(
                partial(
                    app.bot.set_webhook,
                    url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
            )
            log.info("serving webhook calls on %s:%s", listen, port)
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()

    return source
