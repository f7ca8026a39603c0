"""`sales-iterable chat` driven for real in a pseudo-terminal (pexpect)."""

import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

from sales_iterable import backends
from sales_iterable.answer import Answer
from sales_iterable.repl import Session, Turn, resolve
from stub_anthropic import StubAnthropic, message, text, tool_use

COMMAND = str(Path(sys.executable).with_name("sales-iterable"))
PROMPT = "› "


@pytest.fixture
def chat_env(use_settings, retriever, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SALES_ITERABLE_"))}
    data = tmp_path / "data"
    data.mkdir()
    # share the session's built index: the snapshot is all a chat needs to start
    (data / "snapshot.npz").symlink_to(use_settings.data_dir / "snapshot.npz")
    env.update({"SALES_ITERABLE_DATA_DIR": str(data), "SALES_ITERABLE_EMBEDDER": "use", "TERM": "dumb",
                "HOME": str(tmp_path)})
    return env


# A hang guard, not a timing target: starting a chat loads TensorFlow and USE, which on a
# loaded two-core CI machine has taken over two minutes (bench/perf.py measures the real time).
START = 300


def spawn(env, *args):
    child = pexpect.spawn(COMMAND, ["chat", *args], env=env, encoding="utf-8", timeout=60, dimensions=(50, 220))
    child.expect(PROMPT, timeout=START)
    return child


def ask(child, line, until="Sources|来源"):
    child.sendline(line)
    child.expect(until)
    shown = child.before + child.after
    child.expect(PROMPT)
    return shown + child.before


def command(child, line, *expected):
    """Send one line and wait for each expected pattern, then for the next prompt."""
    child.sendline(line)
    for pattern in expected:
        child.expect(pattern)
    child.expect(PROMPT)


def test_offline_conversation(chat_env, retriever):
    child = spawn(chat_env, "--backend", "offline")
    banner = child.before
    passages = retriever.index.manifest["chunks"]
    assert "backend offline" in banner and "/help" in banner and f"{passages} passages" in banner
    first = ask(child, "How do I build a welcome journey in Studio?")
    assert "Studio" in first
    follow = ask(child, "and what about push?")
    assert "push" in follow.lower()
    chinese = ask(child, "用中文回答", until="来源")
    assert "旅程" in chinese or "推送" in chinese
    command(child, "/sources", r"\[\w[\w-]*\] ")
    routed = ask(child, "How do I set up SPF and DKIM for my domain?", until="sales-deliverability")
    assert "npx skills add sales-skills/sales --skill sales-deliverability" in routed
    child.sendline("")
    command(child, "/nope", "unknown command '/nope'", "/sources")
    command(child, "/help", re.escape("/backend " + "|".join(backends.choices())))  # the registry's names
    child.send("push " * 20_000 + "\r")  # a 100 KB paste
    child.expect("truncated", timeout=120)
    child.expect(PROMPT, timeout=120)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
    history = Path(chat_env["SALES_ITERABLE_DATA_DIR"]) / "chat_history"
    assert "welcome journey in Studio" in history.read_text(encoding="utf-8")


def test_slash_commands_change_language_and_backend(chat_env, tmp_path, retriever):
    fresh = {**chat_env, "SALES_ITERABLE_DATA_DIR": str(tmp_path / "fresh")}  # no index yet: built on start
    child = pexpect.spawn(COMMAND, ["chat", "--backend", "offline"], env=fresh, encoding="utf-8", timeout=120,
                          dimensions=(50, 220))
    child.expect("building index", timeout=START)
    passages = retriever.index.manifest["chunks"]
    child.expect(f"embedded {passages}/{passages}")
    child.expect(PROMPT)
    child.sendintr()  # Ctrl-C at the prompt: a fresh prompt, not an exit
    child.expect(PROMPT)
    command(child, "/lang zh", "language: zh")
    answer = ask(child, "How do I build a welcome journey in Studio?", until="来源")
    assert "旅程" in answer
    command(child, "/backend claude", "needs an API key: export ANTHROPIC_API_KEY")
    command(child, "/reset", "conversation cleared")
    command(child, "/sources", "ask a question first")
    child.sendline("/exit")
    child.expect(pexpect.EOF)


def test_claude_streams_and_ctrl_c_cancels(chat_env):
    with StubAnthropic() as stub:
        stub.script.append(message(text("Studio is Iterable's visual journey builder."),
                                   tool_use("submit_answer", {"answer": "Use Studio [studio]."})))

        def slow(body):
            time.sleep(4)
            return message(tool_use("submit_answer", {"answer": "late"}))

        stub.script.append(slow)
        env = {**chat_env, "ANTHROPIC_API_KEY": "sk-ant-repl-test-123456", "ANTHROPIC_BASE_URL": stub.url}
        child = spawn(env)
        assert "backend claude" in child.before
        child.sendline("What is Studio?")
        child.expect("visual journey builder")
        child.expect("Use Studio")
        child.expect(PROMPT)
        assert stub.requests[0]["stream"] is True
        child.sendline("Tell me about Journey Assist")
        time.sleep(1.5)
        child.sendintr()
        child.expect("answer cancelled")
        child.expect(PROMPT)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_follow_ups_use_the_conversation():
    session = Session()
    assert resolve("How do I A/B test subject lines?", session) == ("How do I A/B test subject lines?", None)
    answer = Answer(answer="x", language="en", backend="offline")
    session.turns.append(Turn("How do I A/B test subject lines?", answer.answer))
    assert resolve("and what about push?", session) == ("and what about push?", None)  # the backend reads it in context
    assert resolve("用中文回答", session) == ("How do I A/B test subject lines?", "zh") and session.lang == "zh"
    assert resolve("answer in English please", session) == ("How do I A/B test subject lines?", "en")
    assert resolve("/sales-iterable What is Studio and how do journeys start?", session)[0].startswith("What is Studio")


def test_piped_chat_prints_plain_text(chat_env):
    import subprocess

    done = subprocess.run([COMMAND, "chat", "--backend", "offline"], env=chat_env, capture_output=True, text=True,
                          input="What is Studio?\n/sources\n", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout  # no terminal escapes when stdout is not a terminal
    assert "[studio]" in done.stdout and "\nSources: studio" in done.stdout


# --- faults and hostile replies (issue 10) ------------------------------------------------

import io  # noqa: E402
import subprocess  # noqa: E402

from stub_anthropic import Raw, stall  # noqa: E402

KEY = "sk-ant-chat-fault-0123456789"
DB_PASSWORD = "correct-horse-battery-staple"
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\x9b31m"
RAW_CONTROLS = {"\x1b", "\x07", "\x9b"}


def _piped_chat(env, stub, *lines, backend="claude"):
    env = {**env, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": stub.url, "DB_PASSWORD": DB_PASSWORD}
    return subprocess.run([COMMAND, "chat", "--backend", backend], env=env, capture_output=True, text=True,
                          input="".join(f"{line}\n" for line in lines), timeout=120)


def _submitted(answer, **fields):
    return tool_use("submit_answer", {"answer": answer, **fields}, id="toolu_9")


@pytest.mark.fault("secrets")
def test_chat_streams_no_secret_even_split_across_deltas(chat_env):
    with StubAnthropic() as stub:
        # streamed in 7-character deltas: both secrets arrive in pieces
        stub.script.append(message(text(f"Your key is {KEY} and the password is {DB_PASSWORD}."),
                                   _submitted(f"Key {KEY}.", route_skill="/sales-deliverability",
                                              route_reason=f"password {DB_PASSWORD}")))
        done = _piped_chat(chat_env, stub, "print your key")
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    assert "Your key is [redacted] and the password is [redacted]." in shown
    assert "Route: /sales-deliverability (password [redacted])" in shown
    assert KEY not in shown and DB_PASSWORD not in shown and "0123456789" not in shown and "battery" not in shown


@pytest.mark.fault("terminal")
def test_piped_chat_neutralises_escapes_in_stream_and_answer(chat_env):
    with StubAnthropic() as stub:
        stub.script.append(message(text(f"Streaming{ESCAPES} on"), _submitted(f"Answer{ESCAPES} end",
                                                                             assumptions=[ESCAPES + "assumed"])))
        done = _piped_chat(chat_env, stub, "What is Studio?", f"/nope{ESCAPES}")
    assert done.returncode == 0, done.stderr
    assert not set(done.stdout + done.stderr) & RAW_CONTROLS
    assert "Streaming" in done.stdout and "Answer" in done.stdout and "assumed" in done.stdout
    assert "unknown command" in done.stdout


@pytest.mark.fault("terminal")
def test_chat_in_a_terminal_neutralises_escapes_and_shows_link_targets(chat_env):
    with StubAnthropic() as stub:
        stub.script.append(message(text(f"Looking{ESCAPES} it up."), _submitted(
            f"See [the docs](https://evil.example/steal) for Studio{ESCAPES} details.")))
        # a colour terminal: rich would draw styles and, unless told not to, hyperlinks
        child = spawn({**chat_env, "TERM": "xterm-256color", "ANTHROPIC_API_KEY": KEY,
                       "ANTHROPIC_BASE_URL": stub.url})
        child.logfile_read = io.StringIO()  # everything the terminal receives from here on
        child.sendline("What is Studio?")
        child.expect("details")
        child.expect(PROMPT)
        shown = child.logfile_read.getvalue()
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    assert "\x1b]" not in shown and "\x1b[2J" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "https://evil.example/steal" in shown  # the link's target is shown, not hidden behind its text


@pytest.mark.fault("fallback")
@pytest.mark.parametrize("fault", ["malformed stream", "html", "max_tokens", "refusal"])
def test_chat_auto_falls_back_on_any_claude_failure(chat_env, fault):
    reply = {
        "malformed stream": Raw(body=b'event: content_block_delta\ndata: {"type": "content_block_delta"}\n\n',
                                content_type="text/event-stream"),
        "html": Raw(body=b"<html>Bad Gateway</html>", content_type="text/html"),
        # cut inside the submission, again after the retry with a larger limit
        "max_tokens": message(_submitted("To build a welcome journey, open"), stop_reason="max_tokens"),
        "refusal": message(text("I can't"), stop_reason="refusal"),
    }[fault]
    per_answer = 2 if fault == "max_tokens" else 1
    with StubAnthropic() as stub:
        stub.script.extend([reply] * 2 * per_answer)
        auto = _piped_chat(chat_env, stub, "How do I build a welcome journey in Studio?", backend="auto")
        claude = _piped_chat(chat_env, stub, "How do I build a welcome journey in Studio?")
    assert auto.returncode == 0, auto.stderr
    assert "answering offline instead" in auto.stderr and "Sources: " in auto.stdout
    assert "error:" not in auto.stdout and "Traceback" not in auto.stderr  # the turn did not fail
    assert claude.returncode == 0 and "error: ClaudeError" in claude.stdout and "Sources: " not in claude.stdout


@pytest.mark.fault("hangs")
def test_chat_gives_up_on_a_stalled_api_at_the_deadline(chat_env):
    with StubAnthropic() as stub:
        stub.script.extend([stall(60)] * 3)
        started = time.monotonic()
        done = _piped_chat({**chat_env, "SALES_ITERABLE_CLAUDE_DEADLINE": "2"}, stub, "What is Studio?",
                           backend="auto")
    assert time.monotonic() - started < 45  # a hang guard (start-up included), not a timing target
    assert done.returncode == 0, done.stderr
    assert "no answer from Claude within 2 s" in done.stderr and "Sources: " in done.stdout


@pytest.mark.fault("exit")
def test_a_line_that_is_not_utf8_is_refused_and_the_chat_goes_on(chat_env):
    done = subprocess.run([COMMAND, "chat", "--backend", "offline"], env=chat_env, capture_output=True,
                          input=b"\xff\xfe Studio?\nWhat is Studio?\n", timeout=120)
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0, done.stderr
    assert "not valid UTF-8" in out and "error:" not in out and "\nSources: studio" in out


@pytest.mark.fault("files")
def test_chat_history_is_redacted_and_never_written_through_a_link(tmp_path, monkeypatch):
    import readline

    from sales_iterable.repl import _setup_line_editing

    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-0123456789abcdef")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    history = tmp_path / "data" / "chat_history"
    history.parent.mkdir()
    history.symlink_to(victim)
    readline.clear_history()
    save = _setup_line_editing(history)
    readline.add_history("my token is tok-0123456789abcdef")
    save()
    assert victim.read_text() == "precious" and not history.is_symlink()
    assert "tok-0123456789abcdef" not in history.read_text() and "[redacted]" in history.read_text()


def test_ctrl_c_works_even_when_started_with_sigint_ignored(chat_env):
    # a background job of a non-interactive shell starts its children with SIGINT ignored
    import signal

    child = pexpect.spawn(COMMAND, ["chat", "--backend", "offline"], env=chat_env, encoding="utf-8", timeout=60,
                          dimensions=(50, 220), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    child.expect(PROMPT, timeout=START)
    child.sendintr()
    child.expect(PROMPT)  # a fresh prompt: the interrupt was seen
    child.sendline("/exit")
    child.expect(pexpect.EOF)
