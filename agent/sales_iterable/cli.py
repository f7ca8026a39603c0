"""The `sales-iterable` command line.

Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 a runtime failure
reported clearly. Results go to stdout, progress to stderr. Heavy modules are imported
inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from .safety import redact, terminal_safe

PROG = "sales-iterable"


class UsageError(Exception):
    """Bad input from the user: exit 2."""


def settings_for(args: argparse.Namespace):
    from .config import Settings

    overrides = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.chroma_url:
        overrides["chroma_url"] = args.chroma_url
    if args.embedder:
        overrides["embedder"] = args.embedder
    return Settings(**overrides)


def _read_stdin_lines() -> list[str]:
    raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"stdin is not valid UTF-8 (bad byte at offset {exc.start}); send UTF-8 text") from None
    return text.splitlines()


def clipped(text: str, limit: int, what: str) -> str:
    from .policy import clip

    text, notice = clip(text, limit, what)
    if notice:
        print(f"{PROG}: {notice}", file=sys.stderr)
    return text


def _clean_query(query: str, limit: int) -> str:
    query = " ".join(query.split())
    if not query:
        raise UsageError("the query is empty: give a question, e.g. sales-iterable search \"welcome journey\"")
    return clipped(query, limit, "query")


def cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    if args.budget is not None and args.budget < 0:
        raise UsageError("--budget is a number of tokens, 0 or more")
    if args.query:
        queries = [" ".join(args.query)]
    else:
        if sys.stdin.isatty():
            raise UsageError("no query: pass one as an argument, or one per line on stdin")
        queries = [line for line in _read_stdin_lines() if line.strip()]
        if not queries:
            raise UsageError("no query on stdin: send one query per line")
    settings = settings_for(args)
    queries = [_clean_query(q, settings.max_query_chars) for q in queries]

    from .retrieve import open_retriever

    retriever = open_retriever(settings)
    budget = args.budget if args.budget is not None else settings.budget_tokens
    for query in queries:
        hits = retriever.search(query, k=args.k, budget_tokens=budget, lang=args.lang)
        if args.json:
            print(json.dumps({"query": query, "results": [h.model_dump() for h in hits]}, ensure_ascii=False))
        else:
            lines = [f"# {query}"] if hits else [f"# {query}", "  (no passages found)"]
            for rank, hit in enumerate(hits, 1):
                excerpt = " ".join(hit.text.split())
                excerpt = excerpt if len(excerpt) <= 160 else excerpt[:157] + "..."
                lines.append(f"{rank}. [{hit.section}] {hit.heading}  ({hit.lang}, score {hit.score:.4f}, {hit.id})")
                lines.append(f"   {excerpt}")
            print(terminal_safe("\n".join(lines)))
        sys.stdout.flush()
    return 0


def _question(args: argparse.Namespace, limit: int) -> str:
    from .policy import strip_invocation

    if args.question == ["-"]:
        text = "\n".join(_read_stdin_lines())
    elif args.question:
        text = " ".join(args.question)
    else:
        raise UsageError("no question: pass one as an argument, or - to read it from stdin")
    text = strip_invocation(text)
    if not text.strip():
        raise UsageError("the question is empty: ask something, e.g. sales-iterable ask \"How do I build a welcome journey?\"")
    return clipped(text, limit, "question")


def cmd_ask(args: argparse.Namespace) -> int:
    from .backends import ConfigError, answer_with_fallback, auto_notice
    from .retrieve import open_retriever

    settings = settings_for(args)
    question = _question(args, settings.max_query_chars)
    _check_backends(args.backend)  # a bad setting is exit 2 before an index build, not after
    retriever = open_retriever(settings)
    if notice := auto_notice(args.backend):
        print(f"{PROG}: {notice}", file=sys.stderr)
    try:
        answer = answer_with_fallback(args.backend, question, retriever, lang=args.lang,
                                      notify=lambda notice: print(f"{PROG}: {notice}", file=sys.stderr))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.json:  # exact: JSON escapes control characters itself
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
    else:
        from .repl import render_answer

        print(terminal_safe(render_answer(answer)))
    return 0


def _check_backends(choice: str) -> None:
    """Build every backend `choice` may use, so that a bad setting (an unusable key, a bad
    deadline or URL) is a usage error now rather than a failure per question."""
    from .backends import ConfigError, create, resolve

    try:
        for name in resolve(choice):
            create(name)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def cmd_chat(args: argparse.Namespace) -> int:
    from . import repl

    _check_backends(args.backend)
    return repl.run(settings_for(args), backend=args.backend, lang=args.lang)


def cmd_install_skill(args: argparse.Namespace) -> int:
    from .install import BARE_PATH, check_search, find_cli, install_skill, rule_caveat
    from .safety import terminal_safe
    from .skill_dirs import SKILL_NAME, project_skills_dir, user_skills_dir

    if args.dest:
        dest = Path(args.dest).expanduser().absolute()
    elif args.project:
        dest = project_skills_dir() / SKILL_NAME
    else:
        dest = user_skills_dir() / SKILL_NAME
    settings = settings_for(args)
    installed = install_skill(settings.skill_dir, dest, settings.corpus_dir, find_cli(), force=args.force)
    for line in installed.lines():
        print(line)
    sys.stdout.flush()  # keep the report above the check's progress line when both go to one pipe
    caveat = rule_caveat(installed.command)
    if caveat:
        print(f"{PROG}: warning: {caveat}", file=sys.stderr)
    print(f"checking the search command with PATH={BARE_PATH} (its first run builds the index)...", file=sys.stderr)
    problem = check_search(installed.command, dest)
    if problem:
        print(f"{PROG}: warning: the search command written into {dest / 'SKILL.md'} does not run with a bare PATH: "
              f"{terminal_safe(problem)}. Until it does, the skill answers from its references/ files only; install "
              "sales-iterable where it stays (e.g. pipx install .) and run install-skill again.", file=sys.stderr)
    else:
        print(f"checked: it runs from the skill folder with PATH={BARE_PATH} and returns passages")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evalcli import run_eval

    return run_eval(args)


def cmd_index(args: argparse.Namespace) -> int:
    from . import index

    settings = settings_for(args)
    if args.check:
        report = index.status(settings)
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0 if report["current"] else 1
    if args.rebuild:
        manifest = index.build(settings)
    else:  # through the store, not the snapshot: this is the command that makes sure the store is whole
        manifest = index.open_index(settings, use_snapshot=False).manifest
    from .embed import embedder_for
    from .retrieve import embed_phrasings

    embed_phrasings(settings, embedder_for(settings))  # so the first search does not pay for it
    print(f"index {manifest['collection']}: {manifest['chunks']} chunks, embedder {manifest['embedder']}, "
          f"corpus {manifest['corpus_hash']} ({settings.chroma_url or index.chroma_dir(settings)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import backends  # the registry only: no backend module is imported for the choices

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Bilingual (English/中文) help for the Iterable platform, offline by default.",
    )
    parser.add_argument("--data-dir", help="where the local index lives (env SALES_ITERABLE_DATA_DIR)")
    parser.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env SALES_ITERABLE_CHROMA_URL)")
    parser.add_argument("--embedder", help="use (default), e5, hash or st:<model> (env SALES_ITERABLE_EMBEDDER)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    search = sub.add_parser("search", help="find reference passages for a question")
    search.add_argument("query", nargs="*", help="the question; omit to read one per line from stdin")
    search.add_argument("-k", type=int, default=5, help="passages per query (default 5)")
    search.add_argument("--json", action="store_true", help="one JSON object per query per line")
    search.add_argument("--budget", type=int, default=None, help="token budget for the passages returned")
    search.add_argument("--lang", choices=["en", "zh"], help="answer language (default: the query's)")
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="answer a question (offline unless another backend is configured)")
    ask.add_argument("question", nargs="*", help="the question; - reads it from stdin")
    ask.add_argument("--backend", choices=backends.choices(), default=backends.AUTO,
                     help=f"{backends.AUTO} (default): {backends.auto_help()}")
    ask.add_argument("--json", action="store_true", help="print the Answer as one JSON object")
    ask.add_argument("--lang", choices=["en", "zh"], help="answer language (default: the question's)")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal (/help inside for commands)")
    chat.add_argument("--backend", choices=backends.choices(), default=backends.AUTO)
    chat.add_argument("--lang", choices=["auto", "en", "zh"], default="auto")
    chat.set_defaults(func=cmd_chat)

    inst = sub.add_parser("install-skill", help="install the /sales-iterable skill for Claude Code")
    where = inst.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true",
                       help="into ~/.claude/skills/, or $CLAUDE_CONFIG_DIR/skills/ when set (default)")
    where.add_argument("--project", action="store_true", help="into ./.claude/skills/")
    where.add_argument("--dest", help="into this directory")
    inst.add_argument("--force", action="store_true", help="overwrite a locally edited copy")
    inst.set_defaults(func=cmd_install_skill)

    ev = sub.add_parser("eval", help="score answers against the eval cases (offline by default)")
    ev.add_argument("--cases", nargs="+", metavar="PATH", help="case files or folders (default: the bundled evals/)")
    ev.add_argument("--backend", choices=backends.choices(auto=False), default="offline")
    ev.add_argument("--judge", action="store_true", help="let Claude grade checks with no deterministic form (needs a key)")
    rec = ev.add_mutually_exclusive_group()
    rec.add_argument("--record", metavar="DIR", help="save every transcript (redacted, with a digest) to DIR")
    rec.add_argument("--replay", metavar="DIR", help="re-score transcripts saved with --record (digests checked), no model calls")
    ev.add_argument("--compare", action="store_true", help="also run without retrieval (skill-creator's without_skill) and show the delta")
    ev.add_argument("--out", metavar="DIR", help="skill-creator workspace for the results: a new or empty folder, or an earlier run's")
    ev.add_argument("--json", action="store_true", help="print the benchmark summary as JSON")
    ev.add_argument("--min-pass-rate", type=float, default=0.0, metavar="X", help="exit 1 below this pass rate (0-1)")
    ev.set_defaults(func=cmd_eval)

    idx = sub.add_parser("index", help="build the retrieval index (it also builds itself when needed)")
    what = idx.add_mutually_exclusive_group()
    what.add_argument("--rebuild", action="store_true", help="build a fresh index even if the current one is fine")
    what.add_argument("--check", action="store_true", help="report whether the index is current (exit 1 if not)")
    idx.set_defaults(func=cmd_index)
    return parser


def _not_utf8(argv: Sequence[str]) -> str | None:
    """A message naming the first argument that is not valid UTF-8, if any. Python hands
    such bytes over as lone surrogates, which would fail much later, deep in a library."""
    for position, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = os.fsencode(arg)
            return f"argument {position} is not valid UTF-8 ({raw[:40]!r}); pass text in UTF-8"
    return None


def _fail(message: object) -> None:
    """The one line a failure prints: redacted, and with nothing that could drive a terminal."""
    print(terminal_safe(redact(f"{PROG}: {message}")), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if problem := _not_utf8(argv):
        _fail(problem)
        return 2
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage message
        return 2 if exc.code not in (0, None) else 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from pydantic import ValidationError

    from .corpus import CorpusError
    from .embed import EmbedderError, EmbedderSpecError
    from .index import IndexError_

    try:
        return args.func(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        _fail(f"bad setting ({problems}); check SALES_ITERABLE_* variables and flags")
        return 2
    except (UsageError, EmbedderSpecError) as exc:
        _fail(exc)
        return 2
    except (IndexError_, CorpusError, EmbedderError, RuntimeError) as exc:  # InstallError, ClaudeError too
        _fail(exc)
        return 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if os.environ.get("SALES_ITERABLE_DEBUG"):
            raise
        _fail(f"unexpected error: {type(exc).__name__}: {exc} (set SALES_ITERABLE_DEBUG=1 for details)")
        return 1


if __name__ == "__main__":
    # `python -m sales_iterable.cli` runs this file as __main__, a second copy of the module: run
    # the package's own, whose UsageError is the one evalcli.py raises and main() catches.
    from sales_iterable.cli import main as package_main

    sys.exit(package_main())
