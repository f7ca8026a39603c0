"""Writing files without following links someone else planted.

A writer in the data directory or in an installed skill folder must never write through
a symbolic link it did not create: a link planted at the target, or at a predictable
temporary name, would redirect the write to any file the user can modify. So every
write goes to a temporary file created exclusively (O_EXCL | O_NOFOLLOW, random name)
in the target's directory and is then renamed over the target; rename replaces a link
itself, never what it points to. A target that is already a link is refused unless the
caller says to replace the link.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafePathError(OSError):
    """The target is a symbolic link (or not a regular file) and was not written."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def atomic_write(path: Path, data: bytes | str, *, replace_link: bool = False, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically: readers see the old file or the new one.

    Raises UnsafePathError when `path` is a symbolic link (unless `replace_link`, which
    replaces the link itself, never its target) or a directory."""
    path = Path(path)
    if path.is_symlink() and not replace_link:
        raise UnsafePathError(f"refusing to write {path}: it is a symbolic link")
    if path.is_dir() and not path.is_symlink():
        raise UnsafePathError(f"refusing to write {path}: it is a directory")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def make_dirs(root: Path, *parts: str) -> Path:
    """`root/parts...`, creating what is missing. Refuses (UnsafePathError) when any part
    below `root` is a symbolic link or not a directory: a link planted there would send
    every later write somewhere else. `root` itself is the caller's choice and may be a
    link (a user's --out path, say)."""
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise UnsafePathError(f"refusing to write into {path}: it is a symbolic link")
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise UnsafePathError(f"refusing to write into {path}: it is not a directory") from None
    return path


def make_way(path: Path) -> str | None:
    """Clear `path` for a regular file of ours in our own directory: a symbolic link found
    there is removed (the link, never what it points to) and a directory is moved aside to
    `<name>.broken-<time>`, keeping whatever it holds. Returns what was done, or None."""
    path = Path(path)
    if path.is_symlink():
        path.unlink()
        return f"removed the link at {path}"
    if path.is_dir():
        aside = path.with_name(f"{path.name}.broken-{time.time_ns()}")
        os.rename(path, aside)
        return f"moved the directory at {path} to {aside}"
    return None
