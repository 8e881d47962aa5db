"""Vectorised text for landing values: ids, integers, money, timestamps and labels as Arrow strings.

At the million-customer scale the generator renders tens of millions of values, so the formatters build
Arrow string buffers straight from numpy digit arithmetic instead of formatting Python objects one by
one. Every array is `large_string`, so a column may exceed 2 GiB of text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()
_ZERO = ord("0")
_PAIRS = np.array([[_ZERO + i // 10, _ZERO + i % 10] for i in range(100)], dtype=np.uint8)  # '00'..'99'


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    return None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))


def _from_chars(chars: np.ndarray, widths: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """Strings from a right-aligned (n, max width) ASCII matrix whose row i holds widths[i] characters."""
    n, max_width = chars.shape
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(widths, out=offsets[1:])
    if offsets[-1] == n * max_width:  # every row is full width
        data = np.ascontiguousarray(chars).reshape(-1)
    else:
        data = chars[np.arange(max_width)[None, :] >= (max_width - widths)[:, None]]
    return pa.Array.from_buffers(
        TEXT, n, [_validity(valid), pa.py_buffer(offsets), pa.py_buffer(data)], null_count=-1
    )


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) ASCII matrix (a view)."""
    small = values.size == 0 or int(values.max()) < 2**32
    rest = values.astype(np.uint32 if small else np.int64)
    quotient = np.empty_like(rest)
    digits = np.empty((width, values.size), dtype=np.uint8)  # digit-major: each digit row is contiguous
    for position in range(width - 1, -1, -1):
        np.floor_divide(rest, 10, out=quotient)
        np.subtract(rest, quotient * 10, out=rest)
        digits[position] = rest
        rest, quotient = quotient, rest
    digits += _ZERO
    return digits.T


def _digit_count(values: np.ndarray) -> np.ndarray:
    """Number of decimal digits of non-negative integers (0 has one)."""
    bounds = 10 ** np.arange(1, 19, dtype=np.int64)
    return (np.searchsorted(bounds, values, side="right") + 1).astype(np.int64)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + numbers zero-padded to at least `width` digits ('A000123'); larger numbers use more."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and numbers.min() < 0:
        raise ValueError("ids are numbered from zero up")
    digits = np.maximum(_digit_count(numbers), width)
    max_digits = int(digits.max()) if numbers.size else width
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars = np.empty((numbers.size, head.size + max_digits), dtype=np.uint8)
    chars[:, head.size :] = _digit_matrix(numbers, max_digits)
    if max_digits == width:
        chars[:, : head.size] = head
    else:  # right-aligned: the prefix sits just before each row's own digits
        start = max_digits - digits
        for offset, byte in enumerate(head):
            chars[np.arange(numbers.size), start + offset] = byte
    return _from_chars(chars, digits + head.size, None)


def integers(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Non-negative integers as decimal text; rows where `valid` is False are null."""
    values = np.where(valid, values, 0) if valid is not None else np.asarray(values)
    values = values.astype(np.int64)
    if values.size and values.min() < 0:
        raise ValueError("only non-negative integers are rendered")
    widths = _digit_count(values)
    max_width = int(widths.max()) if values.size else 1
    return _from_chars(_digit_matrix(values, max_width), widths, valid)


def amounts(cents: np.ndarray) -> pa.Array:
    """Non-negative money in cents as 'euros.cc' ('12.50', '0.99')."""
    cents = np.asarray(cents, dtype=np.int64)
    euros = cents // 100
    widths = _digit_count(euros)
    euro_width = int(widths.max()) if cents.size else 1
    chars = np.empty((cents.size, euro_width + 3), dtype=np.uint8)
    chars[:, :euro_width] = _digit_matrix(euros, euro_width)
    chars[:, euro_width] = ord(".")
    chars[:, euro_width + 1 :] = _digit_matrix(cents % 100, 2)
    return _from_chars(chars, widths + 3, None)


def timestamps(epoch_seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Seconds since 1970 (UTC) as naive ISO 8601 'YYYY-MM-DDTHH:MM:SS'."""
    seconds = np.asarray(epoch_seconds, dtype=np.int64)
    days = seconds // 86_400
    chars = np.empty((seconds.size, 19), dtype=np.uint8)
    if seconds.size:
        first = int(days.min())
        calendar = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
        dates = np.frombuffer("".join(np.datetime_as_string(calendar)).encode("ascii"), dtype=np.uint8)
        chars[:, 0:10] = dates.reshape(-1, 10)[days - first]
    clock = seconds - days * 86_400
    chars[:, 11:13] = _PAIRS[clock // 3600]
    chars[:, 14:16] = _PAIRS[clock // 60 % 60]
    chars[:, 17:19] = _PAIRS[clock % 60]
    chars[:, 10] = ord("T")
    chars[:, [13, 16]] = ord(":")
    return _from_chars(chars, np.full(seconds.size, 19, dtype=np.int64), valid)


def labels(options: Sequence[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Category codes -> their label strings; rows where `valid` is False are null."""
    indices = pa.array(np.asarray(codes, dtype=np.int64), mask=None if valid is None else ~valid)
    return pc.take(pa.array(list(options), type=TEXT), indices)


def constant(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, type=TEXT), n)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings (null if any part is null)."""
    return pc.binary_join_element_wise(
        *[pa.scalar(p, type=TEXT) if isinstance(p, str) else p for p in parts], pa.scalar("", type=TEXT)
    )


def buffers(values: pa.Array) -> tuple[np.ndarray, memoryview]:
    """A string array's value offsets (len + 1, into the data) and its data bytes."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    data = values.buffers()[2]
    return offsets, memoryview(data if data is not None else b"")


def rows_containing(values: pa.Array, characters: bytes) -> np.ndarray:
    """Positions of the values that hold any of the given ASCII characters."""
    offsets, data = buffers(values)
    used = bytes(data[offsets[0] : offsets[-1]]) if offsets.size else b""
    if not any(byte in used for byte in characters):
        return np.zeros(0, dtype=np.int64)
    hits = np.zeros(256, dtype=bool)
    hits[list(characters)] = True
    seen = np.concatenate([[0], np.cumsum(hits[np.frombuffer(used, dtype=np.uint8)])])
    relative = offsets - offsets[0]
    return np.flatnonzero(seen[relative[1:]] > seen[relative[:-1]])


def replace_rows(values: pa.Array, rows: np.ndarray, replacements: pa.Array) -> pa.Array:
    """`values` with the values at sorted, distinct `rows` replaced by `replacements`, in order.

    Meant for a few rows in a long array: it copies the untouched stretches between them once.
    """
    if rows.size == 0:
        return values
    starts = np.concatenate([[0], rows + 1]).tolist()
    stops = np.concatenate([rows, [len(values)]]).tolist()
    pieces = [values.slice(starts[0], stops[0] - starts[0])]
    for i, (start, stop) in enumerate(zip(starts[1:], stops[1:], strict=True)):
        pieces += [replacements.slice(i, 1), values.slice(start, stop - start)]
    return pa.concat_arrays(pieces)


def with_nulls(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """`values` with the rows where `valid` is False set to null."""
    return pc.if_else(pa.array(valid), values, pa.scalar(None, type=TEXT))
