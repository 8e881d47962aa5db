"""What the landing readers share before any format: bytes to text, line ends, size limits, and the one
error that fails a whole file.

The rules here are the ones an operator can check without our parser: a record's line number counts line
ends as defined below, and a value's size is its UTF-8 length.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# One value of any format may hold at most this many UTF-8 bytes; one CSV record or JSON line at most
# RECORD_LIMIT_BYTES. Bigger ones are quarantined with a reason: no export we know of needs more, and a
# runaway value (a binary blob, a file pasted into a field) should be looked at, not loaded.
FIELD_LIMIT_BYTES = 1 << 20
RECORD_LIMIT_BYTES = 8 << 20

# A line ends at LF, CRLF or a CR not followed by LF, whatever the file's other line ends: a lone CR is
# never data outside a quoted CSV value (RFC 4180 has no unquoted CR), so reading it as a line end keeps
# the records an old Mac export or a stray CR separates. Nothing else ends a line (not U+0085, U+2028 or
# a form feed), so such characters inside a value stay put.
LINE_END = re.compile(r"\r\n|\r|\n")
END_OF_FILE_MARKER = "\x1a"  # Ctrl-Z, which DOS tools append after the last record

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class LandingFileError(Exception):
    """A whole file cannot be loaded (missing, undecodable, not Parquet, a broken header or missing required
    columns). The message names the file, and the line or column where there is one."""


class LandingReaderFault(LandingFileError):
    """A reader failed on input nobody foresaw: the file is named all the same, and the fault is ours."""


@dataclass(frozen=True)
class LandingText:
    """A text file decoded, with notes on what was read otherwise than declared or ignored."""

    text: str
    notes: tuple[str, ...] = ()


def read_text(path: Path, encoding: str) -> LandingText:
    """The file's text: in its declared encoding, or in the Unicode encoding its first bytes prove.

    A UTF-8 source may send a byte-order mark (of UTF-8, UTF-16 or UTF-32), or UTF-16/32 without one,
    which its NUL bytes give away; both are read as what they are and noted. A Ctrl-Z ending the file is
    an end-of-file marker, not a record: it is dropped and noted. Raises LandingFileError naming the byte
    and line of the first byte that does not decode. An unknown `encoding` raises LookupError.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LandingFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    declared = codecs.lookup(encoding).name
    codec, skip, notes = _unicode_encoding(data, declared)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = line_ends(data[skip:offset].decode(codec, errors="replace")) + 1
        raise LandingFileError(
            f"{path}: not valid {codec} at byte {offset} (line {line}): {exc.reason} "
            f"(byte {data[offset : offset + 1]!r}); was it written in another encoding?"
        ) from exc
    if text.endswith(END_OF_FILE_MARKER):
        text = text.rstrip(END_OF_FILE_MARKER)
        notes.append("ignored the end-of-file marker (Ctrl-Z, 0x1A) after the last record")
    return LandingText(text, tuple(notes))


def _unicode_encoding(data: bytes, declared: str) -> tuple[str, int, list[str]]:
    """(codec, bytes to skip, notes) for a file declared `declared`; only a UTF-8 declaration is overruled,
    and only by a byte-order mark or by NUL bytes no UTF-8 text starts with."""
    if declared != "utf-8":
        return declared, 0, []
    for mark, codec in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            notes = [] if codec == "utf-8" else [f"read as {codec}, as its byte-order mark says"]
            return codec, len(mark), notes
    sniffed = _unicode_without_mark(data[:4])
    if sniffed:
        return sniffed, 0, [f"read as {sniffed}: it has no byte-order mark, but its NUL bytes say so"]
    return declared, 0, []


def _unicode_without_mark(head: bytes) -> str | None:
    """UTF-16/32 of text starting with two ASCII characters (a JSON object, a CSV header), as RFC 4627
    detects it: the pattern of NUL bytes in the first four bytes."""
    if len(head) < 4:
        return None
    nul = (head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 0)
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(nul)


def line_ends(text: str) -> int:
    """How many line ends `text` holds (a CRLF is one)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def text_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) for every line of `text`; a last line without an end counts."""
    start = number = 0
    for end in LINE_END.finditer(text):
        number += 1
        yield number, text[start : end.start()]
        start = end.end()
    if start < len(text):
        yield number + 1, text[start:]


def too_big(value: str, limit: int = FIELD_LIMIT_BYTES, what: str = "field") -> str:
    """Why `value` is over `limit` UTF-8 bytes (as a `what`), or ''."""
    if len(value) * 4 <= limit:  # four bytes a character at most: no need to encode
        return ""
    size = len(value.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return ""
    return f"{size:,} bytes, more than the {limit >> 20} MiB a {what} may hold"


def lone_surrogate(value: str) -> str:
    """Why `value` cannot be stored as text (half of a UTF-16 surrogate pair), or ''."""
    found = _LONE_SURROGATE.search(value)
    if not found:
        return ""
    code = ord(found.group())
    return f"holds \\u{code:04x}, half of a character (a lone surrogate: an emoji cut in half?)"


def shown(name: str, limit: int = 80) -> str:
    """A name from the data as it can appear in a reason: storable text, and not too long to read."""
    text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else f"{text[:limit]}…"
