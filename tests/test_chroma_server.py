"""Client/server mode against a real `chroma run` on loopback, started and stopped here."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.index import IndexError_, open_index
from agent.retrieve import open_retriever


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_command() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (from the chromadb package) is not installed")
    return found


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([_chroma_command(), "run", "--path", str(tmp_path / "server"), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start listening within 60 s")
    yield f"http://127.0.0.1:{port}", proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def test_build_and_search_on_a_chroma_server(chroma_server, use_settings, use_embedder, tmp_path):
    url, proc = chroma_server
    settings = use_settings.model_copy(update={"chroma_url": url, "data_dir": tmp_path / "local"})
    messages = []
    retriever = open_retriever(settings, progress=messages.append, embedder=use_embedder)
    assert any("index missing" in m for m in messages)
    hits = retriever.search("Brand Affinity 分数是怎么算的", k=3)
    assert hits[0].lang == "zh" and "Brand Affinity" in hits[0].text
    assert not (tmp_path / "local" / "chroma").exists()  # nothing was stored locally
    # a second client finds the same index on the server without rebuilding
    messages.clear()
    again = open_index(settings, progress=messages.append)
    assert again.manifest == retriever.index.manifest and not messages
    proc.terminate()
    proc.wait(timeout=30)
    with pytest.raises(IndexError_, match=url.replace(".", r"\.")):
        open_index(settings, progress=messages.append)
