"""The terminal front end: the same engine and store, buttons typed as numbers."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.engine import Incoming
from bot.flows import Reply
from bot.redact import has_secret
from bot.services import Services
from bot.texts import html_to_plain

TERMINAL_USER = 0
QUIT = {"/quit", "/quitter", "/exit"}


class ConsoleChat:
    """Reads lines, sends them through the engine, prints the replies."""

    def __init__(self, services: Services, out: TextIO, user_id: int = TERMINAL_USER) -> None:
        self.services = services
        self.out = out
        self.user_id = user_id
        # (reply, trigger, label); reply None: a /oubli confirmation button
        self.keyboard: list[tuple[Reply | None, str, str]] = []

    async def send(self, line: str) -> None:
        """Handle one typed line and print what the bot answers."""
        line = line.strip()
        if not line:
            return
        engine = self.services.engine
        if line.isdigit() and 1 <= int(line) <= len(self.keyboard):
            reply, trigger, _ = self.keyboard[int(line) - 1]
            if reply is None:
                await self._forget(trigger == "forget_yes")
                return
            msg = Incoming(self.user_id, "button", engine.callback_data(reply, trigger))
        elif line.split()[0].lower() == "/oubli":
            self._ask_forget()
            return
        elif line.startswith("/"):
            msg = Incoming(self.user_id, "command", line[1:].split()[0].lower())
        elif has_secret(line):
            msg = Incoming(self.user_id, "secret", "kept_out")
        else:
            msg = Incoming(self.user_id, "text", line)
        async with engine.lock(self.user_id):
            outcome = await engine.handle(msg)
        self.show(outcome.replies)

    def show(self, replies: list[Reply]) -> None:
        """Print replies; the last one with buttons becomes the numbered keyboard."""
        for reply in replies:
            rendered = self.services.renderer.render(reply)
            self.out.write("\n" + html_to_plain(rendered.text) + "\n")
            if rendered.buttons:
                self.keyboard = []
                for row in rendered.buttons:
                    for label, trigger in row:
                        self.keyboard.append((reply, trigger, label))
                        self.out.write(f"  {len(self.keyboard)}. {label}\n")
        self.out.flush()

    def _ask_forget(self) -> None:
        """/oubli, as /aide lists it: confirm before erasing the terminal voter's data."""
        template = "support/forget_confirm.html"
        renderer = self.services.renderer
        self.out.write("\n" + html_to_plain(renderer.text(template)) + "\n")
        self.keyboard = []
        for choice in ("forget_yes", "forget_no"):
            label = renderer.label(template, choice)
            self.keyboard.append((None, choice, label))
            self.out.write(f"  {len(self.keyboard)}. {label}\n")
        self.out.flush()

    async def _forget(self, erase: bool) -> None:
        if erase:
            async with self.services.engine.lock(self.user_id):
                await self.services.store.erase_user(self.user_id)
        text = self.services.renderer.text("support/forgotten.html", {"erased": erase})
        self.keyboard = []
        self.out.write("\n" + html_to_plain(text) + "\n")
        self.out.flush()

    async def begin(self) -> None:
        """Greet a new voter, or show a returning one where they left off."""
        known = await self.services.store.load_conversation(self.user_id)
        await self.send("/resume" if known else "/start")


async def run_console(
    services: Services, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    """Chat in the terminal until end of input (works interactively and with piped input)."""
    chat = ConsoleChat(services, out)
    interactive = stdin.isatty()
    if interactive:
        out.write(html_to_plain(services.renderer.text("console/intro.html")) + "\n")
    await chat.begin()
    while True:
        if interactive:
            out.write("› ")
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip().lower() in QUIT:
            break
        await chat.send(line)
