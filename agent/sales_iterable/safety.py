"""The two output boundaries: secret redaction and terminal safety.

Every string that came from a model passes through `redact` (or a `StreamRedactor`,
for text that arrives in pieces) before it reaches stdout, a stream, a log or a file;
every string shown on a terminal — model text or the user's own input echoed back —
passes through `terminal_safe`. `--json` output is redacted but otherwise exact: JSON
escapes control characters by itself.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

REDACTED = "[redacted]"

# Environment variables whose values are secrets by their name.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|PRIVATE|_PASS$|^PASS", re.I)
# Shorter values are too likely to occur in ordinary text ("true", a port number).
MIN_SECRET_LENGTH = 8
# Shapes of well-known credentials, redacted even when no environment variable holds them.
KEY_SHAPES = re.compile(
    r"sk-ant-[A-Za-z0-9_-]{8,}"  # Anthropic
    r"|sk-(?:proj-)?[A-Za-z0-9_-]{20,}"  # OpenAI and compatible servers
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google
)
# Characters a credential is made of: a run of them at the end of streamed text may be
# the first half of a key, so a stream holds it back until the run ends.
_KEY_CHARS_TAIL = re.compile(r"[A-Za-z0-9_+/=.-]+$")


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables, longest first (so a secret that
    contains another is replaced whole)."""
    env = os.environ if env is None else env
    values = {v for name, v in env.items() if v and len(v) >= MIN_SECRET_LENGTH and SECRET_NAME.search(name)}
    return sorted(values, key=len, reverse=True)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value and key-shaped string replaced by [redacted]."""
    return _redact(text, secret_values(env)) if text else text


def _redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return KEY_SHAPES.sub(REDACTED, text)


def redact_data(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """`redact` applied to every string inside JSON-like data (dict keys included); the
    environment is read once per call, not once per string."""
    return _redact_data(value, secret_values(env))


def _redact_data(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _redact(value, secrets) if value else value
    if isinstance(value, dict):
        return {_redact_data(k, secrets): _redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_data(v, secrets) for v in value]
    return value


class StreamRedactor:
    """Redacts text that arrives in pieces (streamed model deltas).

    A secret can be split across pieces, so the end of the text seen so far is held back
    while it could still be the start of a secret: the longest tail that begins a secret
    value, and any trailing run of key characters (the start of a key-shaped string).
    Ordinary prose flows through at once. `flush` releases the rest."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._secrets = secret_values(self._env)
        self._buffer = ""

    def _open_tail(self, raw: str) -> int:
        """Length of the longest tail of `raw` that is a proper prefix of a secret."""
        longest = 0
        for secret in self._secrets:
            last = raw[-1]
            # Only prefixes ending in raw's last character can match: few candidates.
            for k in range(min(len(secret) - 1, len(raw)), longest, -1):
                if secret[k - 1] == last and raw.endswith(secret[:k]):
                    longest = k
                    break
        return longest

    def feed(self, piece: str) -> str:
        """The text that is now safe to show (possibly empty)."""
        raw = self._buffer + piece
        if not raw:
            return ""
        cut = len(raw) - self._open_tail(raw)
        tail = _KEY_CHARS_TAIL.search(raw)
        if tail:
            cut = min(cut, tail.start())
        # Never cut through a complete secret: it must be redacted whole.
        moved = True
        while moved:
            moved = False
            spans = [m.span() for m in KEY_SHAPES.finditer(raw)]
            spans += [(i, i + len(v)) for v in self._secrets for i in _find_all(raw, v)]
            for start, end in spans:
                if start < cut < end:
                    cut, moved = start, True
        self._buffer = raw[cut:]
        return redact(raw[:cut], self._env)

    def flush(self) -> str:
        out, self._buffer = redact(self._buffer, self._env), ""
        return out


def _find_all(text: str, needle: str) -> list[int]:
    out, at = [], text.find(needle)
    while at >= 0:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


# ESC-introduced sequences: CSI (colours, cursor, clear screen), OSC (window title,
# OSC-8 hyperlinks, clipboard), DCS/SOS/PM/APC strings, and two-character escapes. An
# unterminated string sequence runs to the end of the text.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x9d\x90\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)",
    re.S,
)
# Remaining C0 controls except tab and newline (carriage return rewrites the line,
# backspace hides text), DEL, C1 controls, and the bidirectional overrides that reorder
# what is displayed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with escape sequences and control characters removed, so nothing in it can
    move the cursor, clear the screen, set a title or plant a hyperlink."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
