"""A local stand-in for the Anthropic Messages API, for tests that run the real SDK.

It serves POST /v1/messages from a script of responses (JSON, or server-sent events when
the request asks to stream) and records every request it receives. Faulty servers are
scripted with `Raw` replies: any body and content type, a stall before the first byte,
or a body that trickles out slowly. Stalls end when the stub shuts down."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from stub_server import StubServer


@dataclass
class Raw:
    """A reply sent as given: `stall` seconds of silence first, then the headers and `body`
    in `pieces` parts `trickle` seconds apart, `repeat` times over."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0
    trickle: float = 0.0
    pieces: int = 1
    repeat: int = 1


Reply = tuple[int, dict[str, Any]] | Raw | Callable[[dict[str, Any]], "tuple[int, dict[str, Any]] | Raw"]


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, input: Any, id: str = "toolu_01") -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def thinking(value: str = "", signature: str = "sig-0123") -> dict[str, Any]:
    """A thinking block as the default model sends it (display "omitted": empty text, a signature)."""
    return {"type": "thinking", "thinking": value, "signature": signature}


def redacted_thinking(data: str = "opaque-0123") -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": data}


USAGE = {"input_tokens": 10, "output_tokens": 5}


def message(*blocks: dict[str, Any], stop_reason: str | None = None, stop_details: dict[str, Any] | None = None,
            stop_sequence: str | None = None, usage: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    stop = stop_reason or ("tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn")
    return 200, {"id": "msg_1", "type": "message", "role": "assistant", "model": "stub-model", "content": list(blocks),
                 "stop_reason": stop, "stop_sequence": stop_sequence, "stop_details": stop_details,
                 "usage": usage or dict(USAGE)}


def error(status: int, kind: str = "api_error") -> tuple[int, dict[str, Any]]:
    return status, {"type": "error", "error": {"type": kind, "message": f"stub {status}"}}


def stall(seconds: float = 3600) -> Raw:
    """A server that accepts the request and says nothing for `seconds`."""
    return Raw(stall=seconds, body=json.dumps(message(text("too late"))[1]).encode())


def pings(seconds: float, every: float = 0.2) -> Raw:
    """A stream that says nothing for `seconds`: an SSE ping every `every` seconds, then it ends."""
    return Raw(content_type="text/event-stream", body=b'event: ping\ndata: {"type": "ping"}\n\n',
               trickle=every, repeat=max(1, round(seconds / every)))


def trickle(reply: tuple[int, dict[str, Any]], seconds: float, pieces: int = 200) -> Callable[[dict[str, Any]], Raw]:
    """A correct reply (streamed if the request asks) whose body takes `seconds` to arrive."""
    status, payload = reply

    def slow(request: dict[str, Any]) -> Raw:
        if request.get("stream"):
            return Raw(status, _sse(payload), "text/event-stream", trickle=seconds / pieces, pieces=pieces)
        return Raw(status, json.dumps(payload).encode(), trickle=seconds / pieces, pieces=pieces)

    return slow


def _sse(body: dict[str, Any]) -> bytes:
    """`body` as the API streams it: the stop reason, its details and the output count
    arrive only in message_delta, as they do from the API."""
    usage = body.get("usage") or {}
    start_usage = {**usage, "output_tokens": 1}
    events = [("message_start", {"type": "message_start", "message": {
        **body, "content": [], "stop_reason": None, "stop_details": None, "stop_sequence": None, "usage": start_usage}})]
    for i, block in enumerate(body["content"]):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "text", "text": ""}}))
            for piece in [block["text"][j:j + 7] for j in range(0, len(block["text"]), 7)]:
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "text_delta", "text": piece}}))
        elif block["type"] == "thinking":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "thinking", "thinking": "",
                                                                     "signature": ""}}))
            if block["thinking"]:
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "thinking_delta",
                                                                 "thinking": block["thinking"]}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                   "delta": {"type": "signature_delta",
                                                             "signature": block["signature"]}}))
        elif block["type"] == "tool_use":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {**block, "input": {}}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                   "delta": {"type": "input_json_delta",
                                                             "partial_json": json.dumps(block["input"])}}))
        else:  # redacted_thinking, and anything else, arrives whole
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": block}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": body["stop_reason"],
                                               "stop_sequence": body.get("stop_sequence"),
                                               "stop_details": body.get("stop_details")},
                                     "usage": {"output_tokens": usage.get("output_tokens", 5)}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


class StubAnthropic(StubServer):
    def respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        reply = self.next_reply(body) if handler.path.rstrip("/") == "/v1/messages" else error(404, "not_found_error")
        if isinstance(reply, Raw):
            return self._send_raw(handler, reply)
        status, payload = reply if reply is not None else error(500)
        streaming = body.get("stream") and status == 200
        data = _sse(payload) if streaming else json.dumps(payload).encode()
        self.send(handler, status, "text/event-stream" if streaming else "application/json", data,
                  {"retry-after": "0"})

    def _send_raw(self, handler: BaseHTTPRequestHandler, reply: Raw) -> None:
        if self.closing.wait(reply.stall):
            return
        handler.send_response(reply.status)
        handler.send_header("content-type", reply.content_type)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.repeat == 1:
            handler.send_header("content-length", str(len(reply.body)))
        handler.end_headers()
        size = max(1, -(-len(reply.body) // reply.pieces))
        try:
            for _ in range(reply.repeat):
                for at in range(0, len(reply.body), size):
                    handler.wfile.write(reply.body[at:at + size])
                    handler.wfile.flush()
                    if reply.trickle and self.closing.wait(reply.trickle):
                        return
        except OSError:  # the client gave up: that is what a fault probe expects
            return

    @property
    def url(self) -> str:
        return self.origin
