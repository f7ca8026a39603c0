"""What the local stand-ins for model APIs share (tests/stub_anthropic.py, tests/stub_openai.py):
an HTTP server on a free local port that answers each POST from a script of replies and records
every request's JSON body and headers. A stub says how one request is answered (`respond`).
Stalls wait on `closing`, so they end when the stub shuts down."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubServer:
    def __init__(self) -> None:
        self.script: deque[Any] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.closing = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                stub.requests.append(body)
                stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                stub.respond(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def next_reply(self, body: dict[str, Any]) -> Any:
        """The script's next reply (a callable one is given the request body), or None when
        the script is empty."""
        if not self.script:
            return None
        reply = self.script.popleft()
        return reply(body) if callable(reply) else reply

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, status: int, content_type: str, data: bytes,
             headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("content-type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
