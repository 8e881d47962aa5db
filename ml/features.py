"""The model's feature list, the one function that turns a `customer_features` frame into model input, and
the one representation of ids and dates that every `ml` join, sort and hash uses.

Training and scoring both go through `prepare_features`, so a column is cast, and a category encoded,
the same way on both sides; the category levels seen in training travel with the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

KEY_COLUMNS: tuple[str, ...] = ("customer_id", "snapshot_date")

NUMERIC_FEATURES: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "frequency",
    "monetary_total",
    "avg_order_value",
    "orders_90d",
    "orders_365d",
    "revenue_90d",
    "revenue_365d",
    "mean_days_between_orders",
    "refund_share",
    "web_order_share",
    "tickets_365d",
    "complaints_365d",
    "emails_opened_90d",
    "emails_clicked_90d",
)

# Booleans become 0.0 / 1.0 with NaN for null: LightGBM treats NaN as "missing", which is what a null
# marketing consent is (never asked), rather than "no".
BOOLEAN_FEATURES: tuple[str, ...] = ("unsubscribed", "marketing_consent")

CATEGORICAL_FEATURES: tuple[str, ...] = ("loyalty_tier", "region", "age_band", "acquisition_channel")

FEATURES: tuple[str, ...] = NUMERIC_FEATURES + BOOLEAN_FEATURES + CATEGORICAL_FEATURES

# Ids are text: pandas' default string dtype, NaN for null. Every id goes through `as_ids` before a join.
ID_DTYPE = pd.StringDtype(na_value=np.nan)

CategoryLevels = Mapping[str, Sequence[str]]


def category_levels_from(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Category levels for every categorical feature: the sorted non-null values seen in `frame` (the
    training rows). Sorted so the encoding does not depend on row order; LightGBM splits categoricals as
    unordered sets, so the order carries no meaning either."""
    require_columns(frame, CATEGORICAL_FEATURES)
    return {
        column: tuple(sorted(frame[column].dropna().astype(str).unique())) for column in CATEGORICAL_FEATURES
    }


def prepare_features(frame: pd.DataFrame, category_levels: CategoryLevels | None = None) -> pd.DataFrame:
    """Validate and type a `customer_features` frame; one output row per input row, same order.

    Returns the key columns (as `normalize_keys` gives them) followed by `FEATURES`:
    numerics and booleans as float64 (null -> NaN), categoricals as pandas Categorical with exactly
    `category_levels` (default: `category_levels_from(frame)`); values outside the levels become NaN,
    so a region first seen at scoring time is scored as "missing" instead of failing the run.

    Raises ValueError naming any missing column, or if (customer_id, snapshot_date) is not unique.
    """
    require_columns(frame, KEY_COLUMNS + FEATURES)
    levels = category_levels_from(frame) if category_levels is None else category_levels
    missing_levels = [column for column in CATEGORICAL_FEATURES if column not in levels]
    if missing_levels:
        raise ValueError(f"category_levels has no levels for: {', '.join(missing_levels)}")

    prepared = normalize_keys(frame)
    if prepared.duplicated(list(KEY_COLUMNS)).any():
        raise ValueError("feature frame has duplicate (customer_id, snapshot_date) rows")
    for column in NUMERIC_FEATURES:
        prepared[column] = as_float64(frame[column])
    for column in BOOLEAN_FEATURES:
        prepared[column] = frame[column].astype("boolean").to_numpy(dtype="float64", na_value=np.nan)
    for column in CATEGORICAL_FEATURES:
        known = list(levels[column])
        as_text = frame[column].astype("string")
        prepared[column] = pd.Categorical(as_text.where(as_text.isin(known)), categories=known)
    return prepared


def normalize_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The key columns of `frame` in the one representation every `ml` join uses, same index:
    customer_id through `as_ids`, snapshot_date through `as_timestamps`."""
    require_columns(frame, KEY_COLUMNS)
    return pd.DataFrame(
        {"customer_id": as_ids(frame["customer_id"]), "snapshot_date": snapshot_dates_of(frame)},
        index=frame.index,
    )


def snapshot_dates_of(frame: pd.DataFrame) -> pd.Series:
    """The snapshot_date column of `frame` through `as_timestamps`, same index (the date half of
    `normalize_keys`)."""
    require_columns(frame, ("snapshot_date",))
    return as_timestamps(frame["snapshot_date"])


def as_ids(values: pd.Series) -> pd.Series:
    """Ids (customer_id, order_id) as text of dtype `ID_DTYPE`, same index; null stays null.

    The warehouse may hand over object, `str`, `string[pyarrow]` or Arrow strings, or integers; each
    becomes the same text, so a join never meets two representations of one id. Whole numbers become
    their digits: 7 and 7.0 (an integer column that picked up a null turns float) are both '7'. Text is
    kept as it is, so '00001' and '1' stay two customers.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        present = values.dropna()
        if (present == np.floor(present)).all():
            values = values.astype("Int64")
    return values.astype(ID_DTYPE)


def as_timestamps(values: pd.Series) -> pd.Series:
    """Dates or date-times as tz-naive datetime64[ns], same index: python dates, Timestamps, any
    datetime64 resolution, Arrow dates and timestamps all give the same values.

    Raises ValueError for time-zone-aware values: the marts hold local wall-clock times, and silently
    converting a zone would move orders across day boundaries.
    """
    converted = pd.to_datetime(values)
    if isinstance(converted.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{values.name} must be time-zone-naive, got {converted.dtype}")
    return converted.astype("datetime64[ns]")


def as_float64(values: pd.Series) -> np.ndarray:
    """Numbers (any numeric, nullable or Arrow dtype) as a float64 array with NaN for null."""
    return pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str = "feature frame") -> None:
    """Raise ValueError naming every column of `columns` that `frame` (called `what`) lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing required columns: {', '.join(missing)}")
