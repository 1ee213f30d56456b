"""A fake Telegram Bot API: chats, messages and an update queue, checked against the spec."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC = json.loads((Path(__file__).parent / "botapi_methods.json").read_text())["methods"]
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Votebot",
    "username": "votebot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class UnexpectedCall(AssertionError):
    """The bot called a method the fake does not serve, or with wrong parameters."""


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


Fault = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]
TIMEOUT = 0  # a fault status meaning "no answer in time": the client sees a time-out


def check_call(method: str, params: dict[str, Any]) -> str | None:
    """What is wrong with a call according to the Bot API specification, or None."""
    return FakeBotAPI._check(method, params)


class FakeBotAPI:
    """Telegram's side of the conversation, shared by the in-process and HTTP fakes."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self.fault: Fault | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None  # setWebhook parameters, while set

    # -- what the bot sees -----------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Serve one call: (HTTP status, JSON body)."""
        problem = self._check(method, params)
        if problem:
            self.errors.append(problem)
            return 400, {"ok": False, "error_code": 400, "description": problem}
        with self._cond:
            self.calls.append(Call(method, params))
            self._cond.notify_all()
        if self.fault is not None:
            injected = self.fault(method, params)
            if injected is not None:
                return injected
        chat_id = params.get("chat_id")
        if chat_id is not None and int(chat_id) in self.blocked:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        serve = getattr(self, f"_{method}", None)
        if serve is None:
            self.errors.append(f"unexpected method {method}")
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return 200, {"ok": True, "result": serve(params)}

    @staticmethod
    def _check(method: str, params: dict[str, Any]) -> str | None:
        spec = SPEC.get(method)
        if spec is None:
            return f"{method}: not a Bot API method"
        unknown = sorted(set(params) - set(spec))
        missing = sorted(p for p, (required, _) in spec.items() if required and p not in params)
        if unknown or missing:
            return f"{method}: unknown parameters {unknown}, missing {missing}"
        text = params.get("text")
        if isinstance(text, str) and not 1 <= len(text) <= 4096:
            return f"{method}: text must be 1-4096 characters, got {len(text)}"
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return f"{method}: callback_data over 64 bytes"
        return None

    def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def _setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 2.0)
        with self._cond:
            while True:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = self.updates[:limit]
                if ready or time.monotonic() >= deadline:
                    return ready
                self._cond.wait(timeout=max(0.0, deadline - time.monotonic()))

    def _message(self, chat_id: int, text: str, markup: Any = None) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = message
        return message

    def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(int(params["chat_id"]), params["text"], params.get("reply_markup"))

    def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key) or self._message(key[0], params["text"])
        message["text"] = params["text"]
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key) or self._message(key[0], "…")
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _deleteMessage(self, params: dict[str, Any]) -> bool:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    # -- what the test does ----------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigning the next id if it has none)."""
        update.setdefault("update_id", next(self._update_ids))
        with self._cond:
            self.updates.append(update)
            self._cond.notify_all()
        return update

    def text_update(self, user_id: int, text: str, first_name: str = "Camille") -> dict[str, Any]:
        """An update carrying a private text message."""
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": first_name},
                "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                "text": text,
                **(
                    {
                        "entities": [
                            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                        ]
                    }
                    if text.startswith("/")
                    else {}
                ),
            },
        }

    def press_update(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """An update pressing a button (callback data `data`) under `message`."""
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": {"id": user_id, "is_bot": False, "first_name": "Camille"},
                "chat_instance": str(user_id),
                "message": message,
                "data": data,
            },
        }

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages the bot sent or edited (sendMessage, editMessageText), oldest first."""
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText")
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        """The newest message shown in a chat (after edits)."""
        mine = [m for (c, _), m in self.messages.items() if c == chat_id]
        return max(mine, key=lambda m: m["message_id"])

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until `predicate()` holds (the bot runs in another thread or process)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what was expected in time")
                self._cond.wait(timeout=min(left, 0.1))


def button_data(message: dict[str, Any], label_part: str) -> str:
    """The callback data of the button of `message` whose label contains `label_part`."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if label_part in button["text"]:
                return button["callback_data"]
    labels = [
        b["text"] for r in message.get("reply_markup", {}).get("inline_keyboard", []) for b in r
    ]
    raise AssertionError(f"no button with {label_part!r} among {labels}")
