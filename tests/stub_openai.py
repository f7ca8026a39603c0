"""A local stand-in for an OpenAI-compatible chat-completions server (what Ollama, llama.cpp's
llama-server and vLLM serve), for tests that run the real `openai` SDK.

It serves POST /v1/chat/completions from a script of replies and records every request.
A reply is a completion (`completion(...)`); when the request asks to stream, it goes out
as server-sent chunks the way these servers send them: text in small deltas, a tool call
as a first delta with its index, id and name, then its arguments in fragments (or, with
`whole_calls`, as Ollama does: each call whole in one delta, every call of a batch at
index 0), the finish_reason on the last chunk, and usage in a final chunk with no choices
when the request asked for it. `stall(...)` answers nothing for a while."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

from stub_server import StubServer

Reply = dict[str, Any]


def call(name: str, arguments: Any, id: str = "call_1") -> dict[str, Any]:
    """A tool call; `arguments` goes out as given when it is a string (bad JSON included)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": id, "type": "function", "function": {"name": name, "arguments": text}}


USAGE = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}


def completion(content: str | None = None, *calls: dict[str, Any], finish_reason: str | None = None,
               usage: dict[str, Any] | None = USAGE, whole_calls: bool = False) -> Reply:
    finish = finish_reason or ("tool_calls" if calls else "stop")
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "stub-local-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage,
            "_whole_calls": whole_calls}


def error(status: int, message: str = "stub error") -> Reply:
    return {"_status": status, "error": {"message": message, "type": "invalid_request_error"}}


def stall(seconds: float) -> Reply:
    return {"_stall": seconds}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "stub-local-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _chunks(reply: Reply, include_usage: bool) -> list[dict[str, Any]]:
    message = reply["choices"][0]["message"]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    text = message.get("content") or ""
    chunks += [_chunk({"content": text[i:i + 7]}) for i in range(0, len(text), 7)]
    for position, tool_call in enumerate(message.get("tool_calls") or []):
        function = tool_call["function"]
        if reply.get("_whole_calls"):
            chunks.append(_chunk({"tool_calls": [{"index": 0, **tool_call}]}))
            continue
        chunks.append(_chunk({"tool_calls": [{"index": position, "id": tool_call["id"], "type": "function",
                                              "function": {"name": function["name"], "arguments": ""}}]}))
        arguments = function["arguments"]
        chunks += [_chunk({"tool_calls": [{"index": position, "function": {"arguments": arguments[i:i + 8]}}]})
                   for i in range(0, len(arguments), 8)]
    chunks.append(_chunk({}, reply["choices"][0]["finish_reason"]))
    if include_usage:
        chunks.append({**_chunk({}), "choices": [], "usage": reply.get("usage")})
    return chunks


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StubOpenAI(StubServer):
    def respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        reply = self.next_reply(body) if handler.path.rstrip("/") == "/v1/chat/completions" else error(404, "no route")
        if reply is None:
            reply = error(500, "the stub's script is empty")
        if "_stall" in reply:
            self.closing.wait(reply["_stall"])
            return
        status = reply.get("_status", 200)
        if body.get("stream") and status == 200:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            data = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in _chunks(reply, include_usage))
            self.send(handler, status, "text/event-stream", data + b"data: [DONE]\n\n")
        else:
            self.send(handler, status, "application/json",
                      json.dumps({k: v for k, v in reply.items() if not k.startswith("_")}).encode())

    @property
    def url(self) -> str:
        """The base URL a client is given (OPENAI_BASE_URL)."""
        return f"{self.origin}/v1"
