"""The terminal front end: the same engine and store, buttons typed as numbers."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.engine import Incoming
from bot.redact import has_secret
from bot.services import Services
from bot.texts import html_to_plain
from bot.turn import Shown, run_turn

TERMINAL_USER = 0
QUIT = {"/quit", "/quitter", "/exit"}
# The /oubli confirmation buttons (terminal only: never a callback data the engine makes).
FORGET = {"console:forget_yes": True, "console:forget_no": False}


class ConsolePort:
    """The turn's port in a terminal: replies printed as plain text, buttons numbered."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.keyboard: list[tuple[str, str]] = []  # (callback data, label) of the last buttons

    async def send(self, shown: Shown) -> None:
        """Print a reply; its buttons become the numbered keyboard."""
        self.show(shown)

    def show(self, shown: Shown) -> None:
        """Print a reply; its buttons become the numbered keyboard."""
        self.out.write("\n" + html_to_plain(shown.text) + "\n")
        if shown.buttons:
            self.keyboard = [(data, label) for row in shown.buttons for label, data in row]
            for number, (_, label) in enumerate(self.keyboard, 1):
                self.out.write(f"  {number}. {label}\n")
        self.out.flush()

    async def edit(self, shown: Shown) -> bool:
        """A terminal cannot change what it printed: always a new message."""
        return False

    async def effect(self, name: str) -> None:
        """No front-end effects in the terminal (no support staff there)."""


class ConsoleChat:
    """Reads lines, runs each as a turn, prints the replies."""

    def __init__(self, services: Services, out: TextIO, user_id: int = TERMINAL_USER) -> None:
        self.services = services
        self.port = ConsolePort(out)
        self.user_id = user_id

    async def send(self, line: str) -> None:
        """Handle one typed line and print what the bot answers."""
        line = line.strip()
        if not line:
            return
        keyboard = self.port.keyboard
        if line.isdigit() and 1 <= int(line) <= len(keyboard):
            data = keyboard[int(line) - 1][0]
            if data in FORGET:
                await self._forget(FORGET[data])
                return
            msg = Incoming(self.user_id, "button", data)
        elif line.split()[0].lower() == "/oubli":
            self._ask_forget()
            return
        elif line.startswith("/"):
            msg = Incoming(self.user_id, "command", line[1:].split()[0].lower())
        elif has_secret(line):
            msg = Incoming(self.user_id, "secret", "kept_out")
        else:
            msg = Incoming(self.user_id, "text", line)
        await run_turn(self.services, msg, self.port)

    def _ask_forget(self) -> None:
        """/oubli, as /aide lists it: confirm before erasing the terminal voter's data."""
        template = "support/forget_confirm.html"
        renderer = self.services.renderer
        buttons = tuple(
            (renderer.label(template, choice), f"console:{choice}")
            for choice in ("forget_yes", "forget_no")
        )
        self.port.show(Shown(renderer.text(template), (buttons,)))

    async def _forget(self, erase: bool) -> None:
        if erase:
            async with self.services.engine.lock(self.user_id):
                await self.services.store.erase_user(self.user_id)
        text = self.services.renderer.text("support/forgotten.html", {"erased": erase})
        self.port.keyboard = []
        self.port.show(Shown(text))

    async def begin(self) -> None:
        """Greet a new voter, or show a returning one where they left off."""
        known = await self.services.store.load_conversation(self.user_id)
        await self.send("/resume" if known else "/start")


async def run_console(
    services: Services, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    """Chat in the terminal until end of input (works interactively and with piped input)."""
    chat = ConsoleChat(services, out)
    await services.warm_up()
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
