"""Client/server mode against a real `chroma run` on loopback, started and stopped here."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sales_iterable.config import Settings
from sales_iterable.embed import HashEmbedder
from sales_iterable.index import IndexError_, open_index
from sales_iterable.retrieve import open_retriever
from conftest import CORPUS


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


# --- faults (issue 10) ---------------------------------------------------------------------


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.fault("hangs")
def test_a_server_that_never_answers_fails_within_the_timeout(silent_port, tmp_path):
    url = f"http://127.0.0.1:{silent_port}"
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(tmp_path), "SALES_ITERABLE_EMBEDDER": "hash",
           "SALES_ITERABLE_CHROMA_URL": url, "SALES_ITERABLE_CHROMA_TIMEOUT": "2"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "sales_iterable.cli", "search", "welcome journey"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 60
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "did not answer within 2 s" in lines[0], done.stderr


@pytest.mark.fault("hangs")
def test_a_server_that_stops_answering_mid_session_fails_within_the_timeout(chroma_server, tmp_path):
    url, proc = chroma_server
    settings = Settings(data_dir=tmp_path / "local", embedder="hash", corpus_dir=CORPUS, chroma_url=url,
                        chroma_timeout=8)  # short, yet room for a loaded machine before the stall
    retriever = open_retriever(settings, progress=lambda m: None, embedder=HashEmbedder())
    assert retriever.search("Smart Ingest", k=2)
    outcome: list[BaseException | object] = []

    def search() -> None:
        try:
            outcome.append(retriever.search("welcome journey", k=2))
        except BaseException as exc:
            outcome.append(exc)

    os.kill(proc.pid, signal.SIGSTOP)  # the kernel still accepts connections; nothing answers
    try:
        worker = threading.Thread(target=search, daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "search still waiting after 60 s"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert isinstance(outcome[0], IndexError_) and url in str(outcome[0]), outcome


@pytest.mark.fault("index")
def test_a_long_lived_retriever_follows_rebuilds_on_the_server(chroma_server, tmp_path):
    url, _ = chroma_server
    settings = Settings(data_dir=tmp_path / "local", embedder="hash", corpus_dir=CORPUS, chroma_url=url)
    retriever = open_retriever(settings, progress=lambda m: None, embedder=HashEmbedder())
    first = retriever.index.manifest["collection"]
    for _ in range(2):  # another client rebuilds twice: the collection opened above is deleted
        env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(tmp_path / "other"), "SALES_ITERABLE_EMBEDDER": "hash",
               "SALES_ITERABLE_CHROMA_URL": url}
        done = subprocess.run([sys.executable, "-m", "sales_iterable.cli", "index", "--rebuild"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    hits = retriever.search("Smart Ingest sync", k=3)
    assert len(hits) == 3 and any(hit.section.startswith("smart-ingest") for hit in hits)
    assert retriever.index.manifest["collection"] != first  # re-resolved through the pointer


@pytest.mark.fault("exit")
@pytest.mark.parametrize("url", ["ftp://x", "http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:abc",
                                 "http://:8000", "http://user:secret@127.0.0.1:8000"])
@pytest.mark.parametrize("how", ["env", "flag"])
def test_a_bad_chroma_url_is_a_bad_setting(url, how, tmp_path, monkeypatch, capsys):
    from sales_iterable.cli import main

    monkeypatch.setenv("SALES_ITERABLE_DATA_DIR", str(tmp_path))
    if how == "env":
        monkeypatch.setenv("SALES_ITERABLE_CHROMA_URL", url)
        argv = ["search", "welcome journey"]
    else:
        monkeypatch.delenv("SALES_ITERABLE_CHROMA_URL", raising=False)
        argv = ["--chroma-url", url, "search", "welcome journey"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and "Chroma URL" in lines[0], captured.err
    assert "secret" not in captured.err and "Traceback" not in captured.err


def test_chroma_urls_are_normalized():
    assert Settings(chroma_url="127.0.0.1:8000").chroma_url == "http://127.0.0.1:8000"
    assert Settings(chroma_url="http://[::1]").chroma_url == "http://[::1]:8000"
    assert Settings(chroma_url="https://chroma.example/").chroma_url == "https://chroma.example:443"
    assert Settings(chroma_url="  ").chroma_url is None
