"""Eval transcripts: what `eval --record` keeps of each case and `eval --replay` re-scores.

A transcript holds every request and response of one case's model calls and the final
answer, all redacted as they are captured (secret-named headers replaced, every secret
value and key-shaped string removed by sales_iterable.safety), so nothing secret is ever on disk.
It also holds a SHA-256 digest of its own content, taken when it was written: replay
recomputes it and refuses a transcript whose answer or exchanges were edited since. (The
digest detects edits, not a forger who recomputes it; that would need a key, and
transcripts are meant to travel between machines.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .evalcases import CaseFileError, read_json, safe_name
from .files import atomic_write
from .answer import Answer, Usage
from .backends.claude import usage_of
from .safety import REDACTED, SECRET_NAME, redact_data

FORMAT = 1


def _scrub_headers(headers: dict[str, str]) -> dict[str, str]:
    # x-api-key and authorization match SECRET_NAME by their names; cookies carry sessions.
    return {k: (REDACTED if SECRET_NAME.search(k) or "cookie" in k.lower() else v) for k, v in headers.items()}


class Recorder:
    """httpx event hooks that keep every request and response of one case, redacted on
    capture."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []

    def on_request(self, request) -> None:
        try:
            body = json.loads(request.content or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = {"raw": "(not JSON)"}
        self.exchanges.append(redact_data({"request": body, "method": request.method, "url": str(request.url),
                                           "headers": _scrub_headers(dict(request.headers))}))

    def on_response(self, response) -> None:
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:2000]}
        if self.exchanges:
            self.exchanges[-1].update(redact_data({"status": response.status_code, "response": body}))


def usage(exchanges: list[dict[str, Any]]) -> Usage | None:
    """What the API reported over all exchanges of one case (requests, the tool calls it
    asked for, input, output, cache read and cache write), or None when no response
    reported usage. For an answer that carries no `Usage` of its own: a transcript
    recorded before answers did, or Claude's requests before a fallback to offline."""
    reported = [r for ex in exchanges if isinstance(r := ex.get("response"), dict) and isinstance(r.get("usage"), dict)]
    if not reported:
        return None
    return sum((usage_of(r["usage"], tool_calls=sum(isinstance(b, dict) and b.get("type") == "tool_use"
                                                    for b in r.get("content") or []))
                for r in reported), Usage())


def model_of(exchanges: list[dict[str, Any]]) -> str | None:
    for exchange in reversed(exchanges):
        model = (exchange.get("response") or {}).get("model") or (exchange.get("request") or {}).get("model")
        if model:
            return str(model)
    return None


def digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def write(folder: Path, case_id: str | int, prompt: str, answer: Answer, exchanges: list[dict[str, Any]],
          seconds: float) -> Path:
    """Store one case's transcript (redacted, with its digest) in `folder`."""
    content = redact_data({
        "format": FORMAT, "case": str(case_id), "prompt": prompt, "backend": answer.backend,
        "model": model_of(exchanges), "seconds": round(seconds, 3),
        "answer": answer.model_dump(mode="json"), "exchanges": exchanges,
    })
    content["digest"] = digest(content)
    path = folder / f"{safe_name(case_id)}.json"
    atomic_write(path, json.dumps(content, ensure_ascii=False, indent=2))
    return path


class Transcript(BaseModel):
    model_config = ConfigDict(extra="ignore")
    format: int
    case: str
    prompt: str
    backend: str
    model: str | None = None
    seconds: float = Field(ge=0)
    answer: Answer
    exchanges: list[dict[str, Any]]
    digest: str


@dataclass
class Replayed:
    answer: Answer
    exchanges: list[dict[str, Any]]
    backend: str
    model: str | None
    seconds: float
    path: Path


def read(folder: Path, case_id: str | int, prompt: str) -> Replayed:
    """The transcript recorded for this case and prompt; CaseFileError, naming the file,
    when it is missing, malformed, recorded for another case or prompt, or edited since."""
    path = folder / f"{safe_name(case_id)}.json"
    if not path.exists() and not path.is_symlink():
        raise CaseFileError(f"{folder}: no transcript for case {str(case_id)[:80]!r} ({path.name}); record it first")
    data = read_json(path, "transcript")
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: not a transcript written by eval --record")
    if "digest" not in data:
        raise CaseFileError(f"{path}: transcript has no digest (written by hand or by an older version); "
                            "re-record it with eval --record")
    if data["digest"] != digest({k: v for k, v in data.items() if k != "digest"}):
        raise CaseFileError(f"{path}: transcript was changed after it was recorded (digest mismatch); "
                            "its answer is not scored; re-record it with eval --record")
    try:
        transcript = Transcript.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise CaseFileError(f"{path}: not a usable transcript: field {where}: {first['msg']}") from None
    if transcript.case != str(case_id):
        raise CaseFileError(f"{path}: transcript is for case {transcript.case[:80]!r}, not {str(case_id)[:80]!r}")
    if transcript.prompt != redact_data(prompt):
        raise CaseFileError(f"{path}: transcript answers a different prompt than case {str(case_id)[:80]!r} "
                            "now has; re-record it with eval --record")
    return Replayed(answer=transcript.answer, exchanges=transcript.exchanges, backend=transcript.backend,
                    model=transcript.model, seconds=transcript.seconds, path=path)
