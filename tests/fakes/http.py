"""The fake Bot API over real HTTP, for end-to-end tests of the `votebot run` process."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.botapi import SPEC, FakeBotAPI


def _decode(method: str, form: dict[str, str]) -> dict[str, Any]:
    """Form values as typed values, using the parameter types of the specification."""
    out: dict[str, Any] = {}
    for name, raw in form.items():
        types = SPEC.get(method, {}).get(name, [False, ["String"]])[1]
        if types == ["String"] or not isinstance(raw, str):  # a JSON body's typed value
            out[name] = raw
            continue
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def _multipart(ctype: str, raw: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields and uploaded files of a multipart/form-data body (sendPhoto…)."""
    head = f"Content-Type: {ctype}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = data
            form[name] = f"attach://{name}"
        else:
            form[name] = data.decode()
    return form, files


class FakeBotAPIServer:
    """Serves `{base}/bot{token}/{method}` on 127.0.0.1 from a thread."""

    def __init__(self, api: FakeBotAPI | None = None, token: str = "123456:TEST") -> None:
        self.api = api or FakeBotAPI()
        self.token = token
        self.bad_tokens: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                ctype = self.headers.get("Content-Type", "")
                prefix, _, method = self.path.rpartition("/")
                if ctype.startswith("multipart/form-data"):
                    form, files = _multipart(ctype, raw)
                    if method == "sendPhoto" and "photo" in files:
                        outer.api.photos.append(files["photo"])
                else:
                    body = raw.decode()
                    form = json.loads(body) if "json" in ctype else dict(parse_qsl(body))
                if prefix != f"/bot{outer.token}":
                    outer.bad_tokens.append(prefix)
                    self._reply(
                        401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                    )
                    return
                status, payload = outer.api.handle(method, _decode(method, form))
                self._reply(status, payload)

            do_GET = do_POST

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The root to give as TELEGRAM_API_BASE_URL."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeBotAPIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
