"""Population drift: the population stability index (PSI) of each feature, and of the scores, between the
rows a model was trained on (the reference) and the rows it is scoring now.

PSI = sum over bins of (current share - reference share) x ln(current share / reference share). Read it
with the usual thresholds: below 0.1 the population is stable, 0.1-0.25 it has moved (warn), above 0.25
the model is scoring a population unlike the one it learnt from (block).

Bins are fixed by the reference alone, so the reference can be reduced to a `profile` (bin edges and
shares, plain JSON) and stored with the model; scoring runs compare against the profile without the
training data, and comparing against a profile gives exactly what comparing against its frame gives.

- Numbers: cut at the reference's distinct deciles (`DEFAULT_BINS`), bins closed on the right, so a value
  equal to an edge lies with the values below it and tied values never straddle two bins; many ties (a
  count that is mostly 0) just merge bins. When the lowest edge is the reference minimum (ties at the
  minimum, or a constant column) values below it get a bin of their own, so a shift below a constant is
  seen too. The outer bins are open, so values outside the reference range still land somewhere.
- Anything else (text, categories, booleans): one bin per reference value, one for values the reference
  never had.
- Nulls are a bin of their own in both, so a feature that starts arriving empty is drift.

A bin empty on either side counts as `EMPTY_BIN_SHARE` instead of 0, so the logarithm stays finite and
a bin that appears from nowhere costs a large but bounded amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ml.features import as_float64, require_columns

DEFAULT_BINS = 10
EMPTY_BIN_SHARE = 1e-4
WARN_AT = 0.1
BLOCK_AT = 0.25

# Bumped when the profile changes shape; `psi_against_profile` refuses formats it does not know.
PROFILE_FORMAT = 1

DriftStatus = Literal["ok", "warn", "block"]


def psi(reference: ArrayLike, current: ArrayLike, n_bins: int = DEFAULT_BINS) -> float:
    """PSI of the values `current` against `reference` (1-d; numbers, or anything else taken as
    categories; null = NaN/None is its own bin). 0 for identical distributions, >= 0 always.
    Raises ValueError if either side has no values."""
    frame = pd.DataFrame({"value": pd.Series(reference)})
    return psi_against_profile(
        profile(frame, ["value"], n_bins), pd.DataFrame({"value": pd.Series(current)})
    )["value"]


def profile(frame: pd.DataFrame, columns: Sequence[str], n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """The reference distribution of `columns` of `frame` as JSON-able data: per column its kind
    ('numeric' with the inner bin `edges`, or 'categorical' with its `categories`), the reference `shares`
    of its bins in order, and its `null_share`. Raises ValueError for missing columns or no rows."""
    require_columns(frame, columns, "reference frame")
    if frame.empty:
        raise ValueError("the reference frame has no rows: there is no distribution to compare with")
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    return {
        "format": PROFILE_FORMAT,
        "n_rows": len(frame),
        "columns": {column: _column_profile(frame[column], n_bins) for column in columns},
    }


def psi_against_profile(reference: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, float]:
    """PSI of each column of `reference` (a `profile`, possibly read back from JSON) against the rows of
    `frame`, by column name in profile order. Raises ValueError for an unknown profile format, columns
    `frame` lacks, or no rows."""
    if reference.get("format") != PROFILE_FORMAT:
        raise ValueError(f"drift profile format {reference.get('format')!r}, expected {PROFILE_FORMAT}")
    columns: Mapping[str, Mapping[str, Any]] = reference["columns"]
    require_columns(frame, list(columns), "current frame")
    if frame.empty:
        raise ValueError("the current frame has no rows: there is no distribution to compare")
    return {
        column: _psi(
            np.array([*binned["shares"], binned["null_share"]]),
            _current_shares(binned, frame[column]),
        )
        for column, binned in columns.items()
    }


def drift_report(
    reference_frame: pd.DataFrame,
    current_frame: pd.DataFrame,
    columns: Sequence[str],
    warn_at: float = WARN_AT,
    block_at: float = BLOCK_AT,
    n_bins: int = DEFAULT_BINS,
) -> pd.DataFrame:
    """PSI of each of `columns` between two frames, with its status: column, psi, status ('ok' below
    `warn_at`, 'warn' from `warn_at`, 'block' from `block_at`), one row per column in the given order.
    For the score distribution, put the scores in a column of both frames."""
    return profile_drift_report(profile(reference_frame, columns, n_bins), current_frame, warn_at, block_at)


def profile_drift_report(
    reference: Mapping[str, Any],
    current_frame: pd.DataFrame,
    warn_at: float = WARN_AT,
    block_at: float = BLOCK_AT,
) -> pd.DataFrame:
    """`drift_report` against a stored `profile` instead of the reference frame."""
    if not 0 <= warn_at <= block_at:
        raise ValueError(f"need 0 <= warn_at <= block_at, got warn_at={warn_at}, block_at={block_at}")
    values = psi_against_profile(reference, current_frame)
    return pd.DataFrame(
        {
            "column": list(values),
            "psi": list(values.values()),
            "status": [drift_status(value, warn_at, block_at) for value in values.values()],
        }
    )


def drift_status(value: float, warn_at: float = WARN_AT, block_at: float = BLOCK_AT) -> DriftStatus:
    """'block' from `block_at`, 'warn' from `warn_at`, else 'ok'."""
    if value >= block_at:
        return "block"
    if value >= warn_at:
        return "warn"
    return "ok"


def drift_summary(report: pd.DataFrame) -> dict[str, str | float | int]:
    """A few scalars of a `drift_report` for asset metadata: the worst status (drift_status), the
    largest PSI and its column, the number of columns at warn and at block, and the columns at block."""
    status = report["status"]
    worst = int(np.argmax(report["psi"].to_numpy())) if len(report) else None
    return {
        "drift_status": next((level for level in ("block", "warn") if (status == level).any()), "ok"),
        "max_psi": 0.0 if worst is None else round(float(report["psi"].iloc[worst]), 4),
        "max_psi_column": "" if worst is None else str(report["column"].iloc[worst]),
        "n_warn": int((status == "warn").sum()),
        "n_block": int((status == "block").sum()),
        "block_columns": ", ".join(report.loc[status == "block", "column"].astype(str)),
    }


def _column_profile(values: pd.Series, n_bins: int) -> dict[str, Any]:
    present = values.dropna()
    null_share = 1.0 - len(present) / len(values)
    if _is_numeric(values):
        numbers = as_float64(present)
        edges = _edges(numbers, n_bins)
        counts = np.bincount(np.searchsorted(edges, numbers, side="left"), minlength=len(edges) + 1)
        return {
            "kind": "numeric",
            "edges": edges.tolist(),
            "shares": _shares(counts, len(values)),
            "null_share": null_share,
        }
    text = present.astype("string")
    categories = sorted(text.unique())
    category_counts = text.value_counts().reindex(categories).to_numpy()
    # The last bin is for values the reference never had: empty in the reference by construction.
    return {
        "kind": "categorical",
        "categories": list(categories),
        "shares": [*_shares(category_counts, len(values)), 0.0],
        "null_share": null_share,
    }


def _edges(numbers: np.ndarray, n_bins: int) -> np.ndarray:
    """Distinct inner cut points: the reference's quantiles at 1/n .. (n-1)/n, plus the float just below
    the minimum when the lowest cut is the minimum itself."""
    if numbers.size == 0:
        return np.array([])
    edges = np.unique(np.quantile(numbers, np.arange(1, n_bins) / n_bins))
    if edges[0] == numbers.min():
        edges = np.concatenate([[np.nextafter(edges[0], -np.inf)], edges])
    return edges


def _current_shares(binned: Mapping[str, Any], values: pd.Series) -> np.ndarray:
    """Shares of the rows of `values` in the bins of one column's profile, the null bin last."""
    present = values.dropna()
    if binned["kind"] == "numeric":
        edges = np.asarray(binned["edges"], dtype="float64")
        bins = np.searchsorted(edges, as_float64(present), side="left")
        counts = np.bincount(bins, minlength=len(edges) + 1)
    else:
        categories = list(binned["categories"])
        positions = pd.Categorical(present.astype("string"), categories=categories).codes
        counts = np.bincount(
            np.where(positions < 0, len(categories), positions), minlength=len(categories) + 1
        )
    return np.array([*_shares(counts, len(values)), 1.0 - len(present) / len(values)])


def _shares(counts: np.ndarray, n_rows: int) -> list[float]:
    return [float(count) / n_rows for count in counts]


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    expected = np.maximum(reference, EMPTY_BIN_SHARE)
    actual = np.maximum(current, EMPTY_BIN_SHARE)
    # Every term is >= 0 (the difference and the logarithm share their sign), so identical shares give 0.
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
