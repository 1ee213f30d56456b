"""A fake Telegram Bot API: chats, messages and an update queue, checked against the spec."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC = json.loads((Path(__file__).parent / "botapi_methods.json").read_text())["methods"]
# Content of non-text messages, for updates built by tests.
PHOTO = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Votebot",
    "username": "votebot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class Refused(Exception):
    """Telegram refuses a well-formed call (e.g. a deleted forum topic)."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description, self.code = description, code


TIMEOUT = 0  # a fault status meaning "no answer in time": the client sees a time-out


def api_error(code: int, description: str, retry_after: int | None = None) -> tuple[int, dict]:
    """A Bot API error answer: (HTTP status, JSON body), with `retry_after` for a 429."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


def fault_answer(kind: str) -> tuple[int, dict[str, Any]]:
    """The answer of an injected fault: "timeout", "429" (retry after 1 s) or a 5xx code."""
    if kind == "timeout":
        return TIMEOUT, {}
    if kind == "429":
        return api_error(429, "Too Many Requests: retry after 1", retry_after=1)
    return api_error(int(kind), "Server error")


class UnexpectedCall(AssertionError):
    """The bot called a method the fake does not serve, or with wrong parameters."""


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


Fault = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]
SENDS = frozenset({"sendMessage", "editMessageText"})


class RateLimit:
    """Telegram's flood limits: 429 beyond `per_second` sends overall or 1 per chat per second."""

    def __init__(self, per_second: int = 30, per_chat: float = 1.0, retry_after: int = 1) -> None:
        self.per_second = per_second
        self.per_chat = per_chat
        self.retry_after = retry_after
        self.rejected = 0
        self._recent: deque[float] = deque()
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()

    def check(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """A 429 answer if this call goes over a limit, else None (and the call is counted)."""
        if method not in SENDS:
            return None
        chat = int(params.get("chat_id") or 0)
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_second or now - self._last.get(chat, -1e9) < (
                self.per_chat
            ):
                self.rejected += 1
                description = f"Too Many Requests: retry after {self.retry_after}"
                return api_error(429, description, retry_after=self.retry_after)
            self._recent.append(now)
            self._last[chat] = now
        return None


def check_call(method: str, params: dict[str, Any]) -> str | None:
    """What is wrong with a call according to the Bot API specification, or None."""
    return FakeBotAPI._check(method, params)


def webhook_call(body: bytes) -> tuple[str, dict[str, Any]] | None:
    """The Bot API call a webhook call's answer names (method, parameters), or None."""
    if not body.strip():
        return None
    params = json.loads(body)
    method = params.pop("method", None)
    return (method, params) if isinstance(method, str) else None


class FakeBotAPI:
    """Telegram's side of the conversation, shared by the in-process and HTTP fakes."""

    def __init__(self, rate_limit: RateLimit | None = None) -> None:
        self.rate_limit = rate_limit  # optional: enforce Telegram's flood limits with 429s
        self.delivered: list[Call] = []  # sendMessage calls answered 200, oldest first
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self.fault: Fault | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        # Forum topics of supergroups: chat id → thread id → {"name", "closed"}.
        self.topics: dict[int, dict[int, dict[str, Any]]] = {}
        self.photos: list[bytes] = []  # uploaded photos (sendPhoto), oldest first
        self.webhook: dict[str, Any] | None = None  # setWebhook parameters, while set

    # -- what the bot sees -----------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Serve one call: (HTTP status, JSON body)."""
        problem = self._check(method, params)
        if problem:
            self.errors.append(problem)
            return api_error(400, problem)
        with self._cond:
            self.calls.append(Call(method, params))
            self._cond.notify_all()
        if self.fault is not None:
            injected = self.fault(method, params)
            if injected is not None:
                return injected
        chat_id = params.get("chat_id")
        if chat_id is not None and int(chat_id) in self.blocked:
            return api_error(403, "Forbidden: bot was blocked by the user")
        if self.rate_limit is not None:
            limited = self.rate_limit.check(method, params)
            if limited is not None:
                return limited
        serve = getattr(self, f"_{method}", None)
        if serve is None:
            self.errors.append(f"unexpected method {method}")
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = serve(params)
        except Refused as refused:
            return refused.code, {
                "ok": False,
                "error_code": refused.code,
                "description": refused.description,
            }
        if method == "sendMessage":
            with self._cond:
                self.delivered.append(Call(method, params))
                self._cond.notify_all()
        return 200, {"ok": True, "result": result}

    def webhook_answer(self, body: bytes) -> None:
        """What Telegram does with a webhook call's answer: runs the method it names, if any
        (the result goes nowhere)."""
        named = webhook_call(body)
        if named is not None:
            self.handle(*named)

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
        chat_id = int(params["chat_id"])
        thread = self._thread(chat_id, params)
        message = self._message(chat_id, params["text"], params.get("reply_markup"))
        return self._in_thread(message, thread)

    # -- forum topics, photos, copies ------------------------------------------------------

    def _thread(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The topic a call posts into; refused like Telegram when the topic was deleted."""
        thread = params.get("message_thread_id")
        if thread is None:
            return None
        if int(thread) not in self.topics.get(chat_id, {}):
            raise Refused("Bad Request: message thread not found")
        return int(thread)

    def _in_thread(self, message: dict[str, Any], thread: int | None) -> dict[str, Any]:
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
            message["chat"]["is_forum"] = True
        return message

    def _createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        thread = next(self._message_ids)
        self.topics.setdefault(chat_id, {})[thread] = {"name": params["name"], "closed": False}
        return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}

    def _closeForumTopic(self, params: dict[str, Any]) -> bool:
        thread = self._thread(int(params["chat_id"]), params)
        assert thread is not None
        self.topics[int(params["chat_id"])][thread]["closed"] = True
        return True

    def _editForumTopic(self, params: dict[str, Any]) -> bool:
        thread = self._thread(int(params["chat_id"]), params)
        assert thread is not None
        if params.get("name"):
            self.topics[int(params["chat_id"])][thread]["name"] = params["name"]
        return True

    def _reopenForumTopic(self, params: dict[str, Any]) -> bool:
        thread = self._thread(int(params["chat_id"]), params)
        assert thread is not None
        self.topics[int(params["chat_id"])][thread]["closed"] = False
        return True

    def _sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        thread = self._thread(chat_id, params)
        message = self._message(chat_id, params.get("caption") or "")
        message.pop("text")
        message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 960, "height": 540}]
        if params.get("caption"):
            message["caption"] = params["caption"]
        return self._in_thread(message, thread)

    def _copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        thread = self._thread(chat_id, params)
        return {"message_id": next(self._message_ids), **({"thread": thread} if thread else {})}

    def delete_topic(self, chat_id: int, thread: int) -> None:
        """Staff deleted a topic in the Telegram app."""
        del self.topics[chat_id][thread]

    def topic_update(
        self, chat_id: int, user_id: int, thread: int | None, text: str, first_name: str = "Dom"
    ) -> dict[str, Any]:
        """An update carrying a message written in a forum supergroup (in a topic if given)."""
        update = self.text_update(user_id, text, first_name)
        message = update["message"]
        message["chat"] = {
            "id": chat_id,
            "type": "supergroup",
            "title": "Support",
            "is_forum": True,
        }
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        return update

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
