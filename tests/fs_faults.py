"""Real file-system faults for tests: a small full disk and a read-only directory.

A full disk is a small tmpfs mounted for the test when this process may mount (root, as
on the project's machines and CI); otherwise RLIMIT_FSIZE stands in for it: the limit is
set, in the child processes only, to the size the store already has, so every write that
would grow a file fails (EFBIG, with SIGXFSZ ignored) the way a full disk fails it. A
read-only directory is a read-only bind mount for root (root ignores permission bits) and
plain permissions otherwise.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


class SmallDisk:
    """`root` is where the test puts its data directory; `fill()` uses up the space,
    `free()` gives it back; `preexec` goes to every subprocess the test starts."""

    def __init__(self, root: Path, size_mb: int) -> None:
        self.root = root
        self.size_mb = size_mb
        self.mode = "tmpfs" if _can_mount() and _mount("-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(root)) \
            else "rlimit"
        self._limit: int | None = None

    def fill(self) -> None:
        if self.mode == "tmpfs":
            with open(self.root / "filler", "wb") as handle:
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                        handle.flush()
                except OSError:
                    pass
        else:  # no file may grow past what is there now
            self._limit = max((p.stat().st_size for p in self.root.rglob("*") if p.is_file()), default=0)

    def free(self) -> None:
        if self.mode == "tmpfs":
            (self.root / "filler").unlink(missing_ok=True)
        self._limit = None

    def preexec(self) -> None:  # runs in the child, before exec
        if self._limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (self._limit, self._limit))

    def close(self) -> None:
        if self.mode == "tmpfs":
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


@contextmanager
def small_disk(root: Path, size_mb: int = 16) -> Iterator[SmallDisk]:
    root.mkdir(parents=True, exist_ok=True)
    disk = SmallDisk(root, size_mb)
    try:
        yield disk
    finally:
        disk.close()


@contextmanager
def read_only(path: Path) -> Iterator[str]:
    """`path` (a directory tree) cannot be written inside the block; yields how."""
    if _can_mount() and _mount("--bind", str(path), str(path)):
        try:
            if not _mount("-o", "remount,bind,ro", str(path)):
                raise RuntimeError(f"could not remount {path} read-only")
            yield "read-only bind mount"
        finally:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        return
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")] if not p.is_symlink()}
    for p, mode in modes.items():
        p.chmod(mode & ~0o222)
    try:
        yield "permissions"
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
