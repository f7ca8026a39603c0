"""`sales-iterable chat`: a multi-turn REPL over the same backends as `ask`.

Follow-ups use the conversation: "and what about push?" or "why?" are answered together
with the previous question, and "用中文回答" / "answer in English" re-answer it in that
language. Slash commands control the session; Ctrl-C cancels the answer in progress,
Ctrl-D exits. With the Claude backend the answer streams as it is written.

Everything shown passes `terminal_safe` (and, but for stream pieces, already redacted
upstream, `redact`): model text and echoed input cannot move the cursor, set a title or
plant a hyperlink, in a terminal or a pipe.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import Callable, TextIO

from . import backends
from .backends import Turn
from .answer import Answer
from .language import Lang
from .policy import clip, strip_invocation
from .safety import redact, terminal_safe

COMMANDS = {
    "/help": "show this list",
    "/sources": "the passages behind the last answer",
    "/lang auto|en|zh": "answer language (auto: the question's)",
    f"/backend {'|'.join(backends.choices())}": "which backend answers",
    "/reset": "forget the conversation",
    "/exit": "leave (Ctrl-D works too)",
}
_TO_ZH = re.compile(r"^(请)?(用|以)?中文(回答|回复|说)?[吧。!!]*$|^(in|answer in) chinese[.!]*$", re.I)
_TO_EN = re.compile(r"^(请)?(用|以)?英文(回答|回复|说)?[吧。!!]*$|^(please )?(answer |reply )?in english( please)?[.!]*$", re.I)
HISTORY_LENGTH = 1000


@dataclass
class Session:
    backend: str = backends.AUTO
    lang: str = "auto"
    turns: list[Turn] = field(default_factory=list)
    answer: Answer | None = None  # the last answer, for /sources

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None


def resolve(line: str, session: Session) -> tuple[str, Lang | None]:
    """The question to answer for `line`, and a language it asks for: "用中文回答" /
    "answer in English" re-answer the last question. Follow-ups ("and what about push?")
    are read with the conversation by the backends themselves."""
    text = strip_invocation(line)
    previous = session.last.question if session.last else None
    if previous and _TO_ZH.match(text):
        session.lang = "zh"
        return previous, "zh"
    if previous and _TO_EN.match(text):
        session.lang = "en"
        return previous, "en"
    wanted: Lang | None = session.lang if session.lang in ("en", "zh") else None  # type: ignore[assignment]
    return text, wanted


def render_answer(answer: Answer) -> str:
    zh = answer.language == "zh"
    labels = ("假设", "问题", "来源", "转交") if zh else ("Assumptions", "Questions", "Sources", "Route")
    out = [answer.answer.rstrip()]
    if answer.assumptions:
        out += ["", f"{labels[0]}:"] + [f"- {a}" for a in answer.assumptions]
    if answer.clarifying_questions:
        out += ["", f"{labels[1]}:"] + [f"{i}. {q}" for i, q in enumerate(answer.clarifying_questions, 1)]
    if answer.route and answer.backend != "offline":  # the offline answer already carries the handoff
        out += ["", f"{labels[3]}: {answer.route.skill} ({answer.route.reason})"]
    if answer.sources:
        sections = list(dict.fromkeys(s.section for s in answer.sources))
        out += ["", f"{labels[2]}: " + ", ".join(sections)]
    return "\n".join(out)


class Repl:
    def __init__(self, settings, backend: str = "auto", lang: str = "auto", out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.settings = settings
        self.session = Session(backend=backend, lang=lang)
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.retriever = None

    # --- output -----------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(terminal_safe(redact(text)), file=self.out, flush=True)

    def notice(self, text: str) -> None:
        print(terminal_safe(redact(text)), file=self.err, flush=True)

    def show(self, answer: Answer) -> None:
        text = render_answer(answer)
        if self.out.isatty():
            from rich.console import Console
            from rich.markdown import Markdown

            # Markdown text is not console markup, so "[b]" stays literal; with hyperlinks
            # on, a model's [text](url) would become an OSC-8 link that hides its target.
            markdown = Markdown(terminal_safe(text).replace("\n", "  \n"), hyperlinks=False)
            Console(file=self.out).print(markdown)
        else:
            self.say(text)

    # --- setup ------------------------------------------------------------------------------

    def start(self) -> None:
        from .retrieve import open_retriever

        self.retriever = open_retriever(self.settings, progress=self.notice)
        # Load what the first answer needs now, so it is not paid for after the prompt.
        from .backends import offline  # noqa: F401

        offline.compose("How do I use Studio?", self.retriever)  # loads the embedding model's weights
        if self.out.isatty():
            import rich.markdown  # noqa: F401
        manifest = self.retriever.manifest
        where = self.settings.chroma_url or str(self.settings.data_dir)
        self.say(f"sales-iterable chat · backend {self.effective_backend()} · index {manifest['chunks']} passages "
                 f"({manifest['embedder']}, {where}) · /help for commands, Ctrl-D to exit")

    def effective_backend(self) -> str:
        return backends.resolve(self.session.backend)[0]

    # --- commands ---------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            for usage, what in COMMANDS.items():
                self.say(f"  {usage:30s} {what}")
            self.say("  anything else is a question; /sales-iterable <question> works too")
        elif name == "/sources":
            self.sources()
        elif name == "/lang" and arg in ("auto", "en", "zh"):
            self.session.lang = arg
            self.say(f"language: {arg}")
        elif name == "/backend" and arg in backends.choices():
            try:
                for chosen in backends.resolve(arg):
                    backends.create(chosen)  # its key and settings, checked before the next question
            except backends.ConfigError as exc:
                self.say(f"{exc}; staying on {self.session.backend}")
            else:
                self.session.backend = arg
                self.say(f"backend: {arg} ({self.effective_backend()})")
        elif name == "/reset":
            self.session.turns.clear()
            self.session.answer = None
            self.say("conversation cleared")
        else:
            self.say(f"unknown command {line.strip()!r}; commands: " + ", ".join(c.split()[0] for c in COMMANDS))
        return True

    def sources(self) -> None:
        last = self.session.answer
        if not last or not last.sources:
            self.say("no sources yet: ask a question first" if not last else "the last answer used no passages")
            return
        for source in last.sources:
            chunk = self.retriever.chunk(source.id)
            self.say(f"[{source.section}] {chunk.heading if chunk else ''} ({source.id})")
            for line in (chunk.text if chunk else "").splitlines():
                self.say(f"    {line}")

    # --- answering --------------------------------------------------------------------------

    def ask(self, line: str) -> None:
        line, notice = clip(line, self.settings.max_query_chars)
        if notice:
            self.notice(f"({notice})")
        from .understand import is_follow_up

        question, lang = resolve(line, self.session)
        answer = self._answer(question, lang)
        # A follow-up is remembered with what it follows, so the next one still has its topic.
        if self.session.last and is_follow_up(question):
            question = f"{self.session.last.question} {question}"
        self.session.turns.append(Turn(question=question, answer=answer.answer))
        self.session.answer = answer
        self.show(answer)

    def _answer(self, question: str, lang: Lang | None) -> Answer:
        streamed: list[str] = []

        def on_text(piece: str) -> None:  # pieces come redacted from the backend
            streamed.append(piece)
            print(terminal_safe(piece), end="", file=self.out, flush=True)

        def fell_back(notice: str) -> None:
            if streamed:
                self.say()
            self.notice(notice)
            streamed.clear()

        try:
            answer = backends.answer_with_fallback(self.session.backend, question, self.retriever, notify=fell_back,
                                                   lang=lang, on_text=on_text, history=self.session.turns[-4:])
        except Exception:  # the error goes on its own line, after what streamed
            if streamed:
                self.say()
            raise
        if streamed:
            self.say("\n")
        return answer

    # --- the loop ---------------------------------------------------------------------------

    def loop(self, read: Callable[[str], str] = input) -> int:
        while True:
            try:
                line = read("› ")
            except EOFError:
                self.say()
                return 0
            except KeyboardInterrupt:  # at the prompt: a fresh line, like a shell
                self.say()
                continue
            if not line.strip():
                continue
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # undecodable input bytes arrive as lone surrogates
                self.say("that line is not valid UTF-8, so it was not asked; type or paste it as UTF-8 text")
                continue
            if line.lstrip().startswith("/") and not line.lstrip().startswith("/sales-iterable"):
                if not self.command(line):
                    return 0
                continue
            try:
                self.ask(line)
            except KeyboardInterrupt:
                self.say("\n(answer cancelled)")
            except Exception as exc:  # one bad turn must not end the conversation
                self.say(f"error: {type(exc).__name__}: {exc}")


def _setup_line_editing(history_file) -> Callable[[], None]:
    """readline line editing with a persistent history file; returns the saver."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline
        return lambda: None
    try:
        readline.read_history_file(str(history_file))
    except (FileNotFoundError, OSError):
        pass
    readline.set_history_length(HISTORY_LENGTH)

    def save() -> None:
        # What the user typed may hold a pasted key: redacted before it is kept. The
        # file is written beside its place and renamed over it, so a link planted at
        # the history file is replaced, never written through.
        for i in range(readline.get_current_history_length(), 0, -1):
            item = readline.get_history_item(i)
            if item and redact(item) != item:
                readline.replace_history_item(i - 1, redact(item))
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(str(tmp := history_file.with_name(f".{history_file.name}.{os.getpid()}.tmp")))
            os.replace(tmp, history_file)
        except OSError:
            pass

    return save


def run(settings, backend: str = "auto", lang: str = "auto") -> int:
    if sys.stdin.isatty():
        # Started from a shell's background job or a script, SIGINT arrives ignored and Python
        # then never raises KeyboardInterrupt: Ctrl-C at the prompt or during an answer would
        # do nothing. At a terminal it must cancel, as the prompt says.
        import signal

        signal.signal(signal.SIGINT, signal.default_int_handler)
    repl = Repl(settings, backend=backend, lang=lang)
    repl.start()
    save = _setup_line_editing(settings.data_dir / "chat_history") if sys.stdin.isatty() else (lambda: None)
    try:
        return repl.loop()
    finally:
        save()
