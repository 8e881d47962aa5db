"""Files the models leave for others (stored model versions, published reports), written so that a reader
never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# mkstemp creates files only their owner can read; a report or a model is for the BI tools and the other
# processes of the deployment too.
_READABLE = 0o644


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, flush it to disk, then rename it over `path`: a
    rename within one directory is atomic, so readers see the old file or the new one, never a part.
    Creates the folder; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _READABLE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # makes the rename itself survive a power cut
    finally:
        os.close(directory)
    return path
