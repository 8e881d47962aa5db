"""The model's feature list and the one function that turns a `customer_features` frame into model input.

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

# Levels known from the business domain; the other categoricals take their levels from training data.
FIXED_CATEGORY_LEVELS: Mapping[str, tuple[str, ...]] = {
    "loyalty_tier": ("none", "bronze", "silver", "gold"),
}

CategoryLevels = Mapping[str, Sequence[str]]


def category_levels_from(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Category levels for every categorical feature: the fixed domain levels, else the sorted non-null
    values seen in `frame` (the training rows). Sorted so the encoding does not depend on row order."""
    _require_columns(frame, CATEGORICAL_FEATURES)
    levels: dict[str, tuple[str, ...]] = {}
    for column in CATEGORICAL_FEATURES:
        if column in FIXED_CATEGORY_LEVELS:
            levels[column] = FIXED_CATEGORY_LEVELS[column]
        else:
            levels[column] = tuple(sorted(frame[column].dropna().astype(str).unique()))
    return levels


def prepare_features(frame: pd.DataFrame, category_levels: CategoryLevels | None = None) -> pd.DataFrame:
    """Validate and type a `customer_features` frame; one output row per input row, same order.

    Returns the key columns (customer_id as str, snapshot_date as datetime64[ns]) followed by `FEATURES`:
    numerics and booleans as float64 (null -> NaN), categoricals as pandas Categorical with exactly
    `category_levels` (default: `category_levels_from(frame)`); values outside the levels become NaN,
    so a region first seen at scoring time is scored as "missing" instead of failing the run.

    Raises ValueError naming any missing column, or if (customer_id, snapshot_date) is not unique.
    """
    _require_columns(frame, KEY_COLUMNS + FEATURES)
    levels = category_levels_from(frame) if category_levels is None else category_levels
    missing_levels = [column for column in CATEGORICAL_FEATURES if column not in levels]
    if missing_levels:
        raise ValueError(f"category_levels has no levels for: {', '.join(missing_levels)}")

    prepared = normalize_keys(frame)
    if prepared.duplicated(list(KEY_COLUMNS)).any():
        raise ValueError("feature frame has duplicate (customer_id, snapshot_date) rows")
    for column in NUMERIC_FEATURES:
        prepared[column] = pd.to_numeric(frame[column]).to_numpy(dtype="float64", na_value=np.nan)
    for column in BOOLEAN_FEATURES:
        prepared[column] = frame[column].astype("boolean").to_numpy(dtype="float64", na_value=np.nan)
    for column in CATEGORICAL_FEATURES:
        known = list(levels[column])
        as_text = frame[column].astype("string")
        prepared[column] = pd.Categorical(as_text.where(as_text.isin(known)), categories=known)
    return prepared


def normalize_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The key columns of `frame` in the one representation every `ml` join uses (customer_id as str,
    snapshot_date as datetime64[ns]), same index; the warehouse may hand over other date resolutions."""
    _require_columns(frame, KEY_COLUMNS)
    return pd.DataFrame(
        {"customer_id": frame["customer_id"].astype(str), "snapshot_date": snapshot_dates_of(frame)},
        index=frame.index,
    )


def snapshot_dates_of(frame: pd.DataFrame) -> pd.Series:
    """The snapshot_date column of `frame` as datetime64[ns], same index (the date half of `normalize_keys`)."""
    _require_columns(frame, ("snapshot_date",))
    return pd.to_datetime(frame["snapshot_date"]).astype("datetime64[ns]")


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"feature frame is missing required columns: {', '.join(missing)}")
