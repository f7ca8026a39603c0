"""`sales-iterable chat` driven for real in a pseudo-terminal (pexpect)."""

import os
import sys
import time
from pathlib import Path

import pexpect
import pytest

from agent.policy import Answer
from agent.repl import Session, Turn, resolve
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


def spawn(env, *args):
    child = pexpect.spawn(COMMAND, ["chat", *args], env=env, encoding="utf-8", timeout=60, dimensions=(50, 220))
    child.expect(PROMPT)
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


def test_offline_conversation(chat_env):
    child = spawn(chat_env, "--backend", "offline")
    banner = child.before
    assert "backend offline" in banner and "/help" in banner and "266 passages" in banner
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
    command(child, "/help", "/backend auto\\|offline\\|claude")
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


def test_slash_commands_change_language_and_backend(chat_env, tmp_path):
    fresh = {**chat_env, "SALES_ITERABLE_DATA_DIR": str(tmp_path / "fresh")}  # no index yet: built on start
    child = pexpect.spawn(COMMAND, ["chat", "--backend", "offline"], env=fresh, encoding="utf-8", timeout=120,
                          dimensions=(50, 220))
    child.expect("building index")
    child.expect("embedded 266/266")
    child.expect(PROMPT)
    child.sendintr()  # Ctrl-C at the prompt: a fresh prompt, not an exit
    child.expect(PROMPT)
    command(child, "/lang zh", "language: zh")
    answer = ask(child, "How do I build a welcome journey in Studio?", until="来源")
    assert "旅程" in answer
    command(child, "/backend claude", "needs ANTHROPIC_API_KEY")
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
    session.turns.append(Turn("How do I A/B test subject lines?", answer))
    question, lang = resolve("and what about push?", session)
    assert "push" in question and "A/B test subject lines" in question and lang is None
    assert resolve("用中文回答", session) == ("How do I A/B test subject lines?", "zh") and session.lang == "zh"
    assert resolve("why?", session)[0].startswith("why? (How do I A/B")
    assert resolve("answer in English please", session) == ("How do I A/B test subject lines?", "en")
    assert resolve("/sales-iterable What is Studio and how do journeys start?", session)[0].startswith("What is Studio")


def test_piped_chat_prints_plain_text(chat_env):
    import subprocess

    done = subprocess.run([COMMAND, "chat", "--backend", "offline"], env=chat_env, capture_output=True, text=True,
                          input="What is Studio?\n/sources\n", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout  # no terminal escapes when stdout is not a terminal
    assert "[studio]" in done.stdout and "\nSources: studio" in done.stdout
