"""Import cost is part of the interface (issue 11): `--help` and `search` on the snapshot
path must not import the heavy SDKs or chromadb (about two and four seconds each on these
machines). Checked in a fresh interpreter, by what is in sys.modules when the command ends."""

import os
import subprocess
import sys

import pytest

HEAVY = ("anthropic", "openai", "chromadb")
PROBE = (
    "import sys\n"
    "from sales_iterable.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print('loaded:', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _loaded(args, env):
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("loaded:"), done.stderr
    return line, done.stdout


@pytest.fixture
def env(use_settings, retriever):  # `retriever` builds the session's index and its snapshot first
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SALES_ITERABLE_")},
            "SALES_ITERABLE_DATA_DIR": str(use_settings.data_dir), "SALES_ITERABLE_EMBEDDER": "use",
            # backends configured must not load their SDKs either
            "ANTHROPIC_API_KEY": "sk-ant-import-cost-0000000000", "SALES_ITERABLE_OPENAI_MODEL": "llama3.2"}


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["chat", "--help"], ["eval", "--help"]])
def test_help_imports_no_sdk_and_no_chromadb(args, env):
    line, stdout = _loaded(args, env)
    assert line == "loaded: []" and "usage:" in stdout


def test_search_on_the_snapshot_imports_no_sdk_and_no_chromadb(env):
    line, stdout = _loaded(["search", "--json", "welcome journey"], env)
    assert line == "loaded: []" and '"results": [{' in stdout
