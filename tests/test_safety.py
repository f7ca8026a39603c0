"""The output boundaries: secrets never leave, escape sequences never reach a terminal,
and file writes never follow a planted link."""

import os

import pytest

from sales_iterable.files import UnsafePathError, atomic_write
from sales_iterable.safety import REDACTED, StreamRedactor, redact, redact_data, terminal_safe

ENV = {"ANTHROPIC_API_KEY": "sk-ant-api03-abcdefghijklmnop", "DB_PASSWORD": "hunter2-correct-horse",
       "MY_SERVICE_TOKEN": "tok-abcdef123456", "PATH": "/usr/bin:/bin", "SHORT_KEY": "abc"}


@pytest.mark.fault("secrets")
def test_redact_removes_env_secrets_and_key_shapes():
    text = "key sk-ant-api03-abcdefghijklmnop pw hunter2-correct-horse t tok-abcdef123456 aws AKIAABCDEFGHIJKLMNOP"
    out = redact(text, ENV)
    for secret in ("sk-ant-api03", "hunter2", "tok-abcdef", "AKIAABCDEFGHIJKLMNOP"):
        assert secret not in out
    assert out.count(REDACTED) == 4
    assert redact("/usr/bin:/bin and abc", ENV) == "/usr/bin:/bin and abc"  # not secrets: names, length


@pytest.mark.fault("secrets")
def test_redact_data_walks_json():
    data = {"a": ["x hunter2-correct-horse", {"hunter2-correct-horse": 3}], "n": 1}
    assert "hunter2" not in repr(redact_data(data, ENV))


@pytest.mark.fault("secrets")
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13])
def test_stream_redactor_catches_secrets_split_across_pieces(size):
    text = "Your password is hunter2-correct-horse, the key sk-ant-api03-abcdefghijklmnop; done."
    stream = StreamRedactor(ENV)
    shown = [stream.feed(text[i:i + size]) for i in range(0, len(text), size)] + [stream.flush()]
    joined = "".join(shown)
    assert joined == redact(text, ENV)
    assert all("hunter2-correct-horse"[:8] not in piece for piece in shown)


def test_stream_redactor_releases_ordinary_text_promptly():
    stream = StreamRedactor({"X_TOKEN": "abcdefgh"})
    assert stream.feed("Hello there, ") == "Hello there, "


@pytest.mark.fault("terminal")
@pytest.mark.parametrize("attack", [
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "\x1b]0;owned\x07",  # window title
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC-8 hyperlink
    "\x1b]52;c;ZXZpbA==\x07",  # clipboard write
    "\x9b31m",  # 8-bit CSI
    "\x1bP+q\x1b\\",  # DCS
    "\x1b]0;unterminated title",
    "over\rwrite", "back\x08space", "\u202eevil",
])
def test_terminal_safe_neutralises_escapes(attack):
    out = terminal_safe(f"before {attack} after")
    assert not any(ch in out for ch in "\x1b\x07\x9b\x9c\r\x08\u202e")
    assert out.startswith("before ")


def test_terminal_safe_keeps_text_tabs_newlines_and_chinese():
    text = "Step 1\tdo this\n第二步:配置 Smart Ingest → done"
    assert terminal_safe(text) == text


@pytest.mark.fault("files")
def test_atomic_write_refuses_a_planted_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "dest" / "record.json"
    target.parent.mkdir()
    os.symlink(victim, target)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        atomic_write(target, "new")
    assert victim.read_text() == "precious"
    atomic_write(target, "new", replace_link=True)  # replaces the link, not its target
    assert victim.read_text() == "precious" and target.read_text() == "new" and not target.is_symlink()


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "file.txt"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["file.txt"]
