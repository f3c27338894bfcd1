"""Line reading shared by the TSV readers."""

from __future__ import annotations

import os
from collections.abc import Iterator


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str | None, str]]:
    """Yields (1-based line number, text or None, error) for each line of `path`.

    A final newline is optional (MTOP's files have none). "\\r\\n" endings are
    accepted, and a UTF-8 byte order mark on the first line is dropped. A line
    that is not valid UTF-8 yields text None and a message saying where the
    first invalid byte is, so readers can skip that row instead of failing.
    """
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8"), ""
        except UnicodeDecodeError as e:
            yield number, None, f"invalid UTF-8 at byte {e.start} of the line"
