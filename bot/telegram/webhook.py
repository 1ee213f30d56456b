"""Webhook mode onto the durable inbox: a call is answered 200 only once its update is stored.

PTB's own webhook server answers before the update is handled, so a bot killed with updates in
flight loses them; here Telegram keeps re-sending a call until the inbox holds its update.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from functools import partial

from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.telegram.intake import Intake
from bot.telegram.polling import Source
from bot.telegram.send import with_retry

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # bytes: an update is far smaller; larger calls are refused


class WebhookHandler(RequestHandler):
    """One route: Telegram's POSTs, checked against the secret token, stored, then 200."""

    def initialize(self, intake: Intake, secret: str) -> None:
        self.intake, self.secret = intake, secret

    async def post(self) -> None:
        """Store the update; 403 without the secret, 400 if unreadable, 500 if not stored."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            return
        try:
            raw = json.loads(self.request.body)
        except ValueError:
            log.warning("webhook call with a body that is not JSON, refused")
            self.set_status(400)
            return
        try:
            await self.intake.take_one(raw)
        except Exception:  # not stored: Telegram will call again
            log.exception("could not store a webhook update")
            self.set_status(500)
            return
        self.set_status(200)

    def log_exception(self, typ: object, value: BaseException | None, tb: object) -> None:
        """Tornado's error log, without the request (its headers hold the secret)."""
        log.error("webhook server error: %s", value)


def webhook_source(listen: str, port: int, path: str, url: str, secret: str) -> Source:
    """The webhook source for `polling.serve`: listen, register with Telegram, serve."""

    async def source(app: Application, intake: Intake, stop: asyncio.Event) -> None:
        routes = [(rf"/{path}/?", WebhookHandler, {"intake": intake, "secret": secret})]
        server = HTTPServer(WebApplication(routes), max_body_size=MAX_BODY)
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
            log.info("serving webhook calls on %s:%s/%s", listen, port, path)
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()

    return source
