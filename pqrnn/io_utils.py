"""Atomic file writes: a reader sees the old file or the new one, never half.

Every artifact pqrnn writes (configs, vocabularies, metrics, exported models)
goes through here: write to a temporary file in the same folder, flush and
fsync it, then rename over the target (atomic on POSIX file systems).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from typing import Any

# mkstemp creates files readable by the owner only; artifacts should get the
# usual permissions (0666 minus the umask), as a plain open() would give.
_UMASK = os.umask(0)
os.umask(_UMASK)


def artifact_mode(directory: bool = False) -> int:
    """The permissions a plain open() (0666) or mkdir() (0777) gives under
    the process's umask: what pqrnn's artifacts get."""
    return (0o777 if directory else 0o666) & ~_UMASK


def _temporary_beside(path: str) -> tuple[int, str]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, artifact_mode())
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def temporary_beside(path: str | os.PathLike) -> str:
    """Creates an empty hidden file in `path`'s folder (and the folder), with
    an artifact's permissions, for a writer that renames it over `path` when
    it is complete; returns its path. The caller removes it on failure."""
    fd, tmp = _temporary_beside(os.fspath(path))
    os.close(fd)
    return tmp


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically, creating parent folders."""
    path = os.fspath(path)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, value: Any) -> None:
    """Writes `value` as indented JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def atomic_write_json_lines(path: str | os.PathLike, rows: Iterable[Any]) -> None:
    """Writes one compact JSON value per line (JSON Lines) to `path` atomically."""
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_json(path: str | os.PathLike) -> Any:
    """Reads a JSON file, naming the file in the error if it is not JSON."""
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{os.fspath(path)}: not valid JSON ({e})") from e
