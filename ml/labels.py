"""Point-in-time labels: what a customer did in the window [T, T + horizon) after each snapshot date T.

Windows are half-open: an order at exactly T counts, one at exactly T + horizon does not, so consecutive
windows never count an order twice. A window is only labelled once it is fully observed; labelling a
window that reaches past the data would call every customer who simply has not ordered *yet* a churner.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ml.features import as_float64, as_ids, as_timestamps, normalize_keys, require_columns

ORDER_COLUMNS: tuple[str, ...] = ("customer_id", "ordered_at", "net_amount")
CHURN_LABEL = "churned"
CLV_LABEL = "future_net_revenue"
# Library defaults only: every function and config takes the horizon as a parameter.
DEFAULT_CHURN_HORIZON_DAYS = 90
DEFAULT_CLV_HORIZON_DAYS = 365


def labelable_snapshot_dates(
    snapshot_dates: Iterable[pd.Timestamp], observed_until: pd.Timestamp, horizon_days: int
) -> list[pd.Timestamp]:
    """Sorted distinct snapshot dates T whose window ends in time: T + horizon_days <= observed_until."""
    horizon = pd.Timedelta(days=horizon_days)
    distinct = sorted({pd.Timestamp(date) for date in snapshot_dates})
    return [date for date in distinct if date + horizon <= pd.Timestamp(observed_until)]


def window_activity(
    snapshots: pd.DataFrame, orders: pd.DataFrame, observed_until: pd.Timestamp, horizon_days: int
) -> pd.DataFrame:
    """Orders and net revenue of each (customer_id, snapshot_date) row in [snapshot_date, + horizon_days).

    `orders` (order_id, customer_id, ordered_at, net_amount) must hold every order with
    ordered_at < observed_until; orders without a customer_id (anonymous) are ignored, and orders at or
    after observed_until are never read. Returns customer_id, snapshot_date, n_orders (int64) and
    net_revenue (float64, currency units), one row per input row in input order.

    Raises ValueError if any window ends after observed_until, i.e. is not fully observed.
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    keys = normalize_keys(snapshots).reset_index(drop=True)
    horizon = pd.Timedelta(days=horizon_days)
    window_end = keys["snapshot_date"] + horizon
    unobserved = keys.loc[window_end > pd.Timestamp(observed_until), "snapshot_date"].unique()
    if len(unobserved):
        dates = ", ".join(str(pd.Timestamp(date).date()) for date in sorted(unobserved))
        raise ValueError(
            f"cannot label snapshots {dates}: their {horizon_days}-day window ends after "
            f"observed_until={pd.Timestamp(observed_until).date()}"
        )

    history = _cumulative_orders(orders)
    n_before_start, revenue_before_start = _totals_before(keys["customer_id"], keys["snapshot_date"], history)
    n_before_end, revenue_before_end = _totals_before(keys["customer_id"], window_end, history)
    keys["n_orders"] = (n_before_end - n_before_start).astype("int64")
    keys["net_revenue"] = revenue_before_end - revenue_before_start
    return keys


def churn_labels(
    snapshots: pd.DataFrame,
    orders: pd.DataFrame,
    observed_until: pd.Timestamp,
    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS,
) -> pd.DataFrame:
    """Churn label per (customer_id, snapshot_date): `churned` = 1 if no order in [T, T + horizon_days).

    Same contract and errors as `window_activity`; returns customer_id, snapshot_date, churned (int8).
    """
    activity = window_activity(snapshots, orders, observed_until, horizon_days)
    activity[CHURN_LABEL] = (activity["n_orders"] == 0).astype("int8")
    return activity[["customer_id", "snapshot_date", CHURN_LABEL]]


def clv_labels(
    snapshots: pd.DataFrame,
    orders: pd.DataFrame,
    observed_until: pd.Timestamp,
    horizon_days: int = DEFAULT_CLV_HORIZON_DAYS,
) -> pd.DataFrame:
    """CLV label per (customer_id, snapshot_date): net revenue in [T, T + horizon_days), currency units.

    Same contract and errors as `window_activity`; returns customer_id, snapshot_date,
    future_net_revenue (float64; can be negative when refunds exceed purchases).
    """
    activity = window_activity(snapshots, orders, observed_until, horizon_days)
    activity[CLV_LABEL] = activity["net_revenue"]
    return activity[["customer_id", "snapshot_date", CLV_LABEL]]


def _cumulative_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Per customer and distinct order time: running order count and net revenue up to and including it.

    Orders sharing a timestamp are merged first so that an as-of lookup never lands inside a tie.
    """
    require_columns(orders, ORDER_COLUMNS, "orders frame")
    known = orders.loc[orders["customer_id"].notna()]
    per_instant = (
        pd.DataFrame(
            {
                "customer_id": as_ids(known["customer_id"]),
                "ordered_at": as_timestamps(known["ordered_at"]),
                "net_amount": as_float64(known["net_amount"]),
            }
        )
        .groupby(["customer_id", "ordered_at"], sort=True)
        .agg(n_orders=("net_amount", "size"), net_revenue=("net_amount", "sum"))
        .reset_index()
    )
    by_customer = per_instant.groupby("customer_id", sort=False)
    per_instant["cum_orders"] = by_customer["n_orders"].cumsum()
    per_instant["cum_revenue"] = by_customer["net_revenue"].cumsum()
    return per_instant[["customer_id", "ordered_at", "cum_orders", "cum_revenue"]].sort_values(
        "ordered_at", kind="stable"
    )


def _totals_before(
    customer_ids: pd.Series, instants: pd.Series, history: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Order count and net revenue of each customer strictly before the paired instant."""
    # Series, not arrays: an array of no ids would come back as object dtype and fail the join on dtype.
    queries = pd.DataFrame(
        {
            "customer_id": customer_ids.reset_index(drop=True),
            "at": instants.reset_index(drop=True),
            "row": np.arange(len(instants)),
        }
    ).sort_values("at", kind="stable")
    matched = pd.merge_asof(
        queries,
        history,
        left_on="at",
        right_on="ordered_at",
        by="customer_id",
        direction="backward",
        allow_exact_matches=False,
    ).sort_values("row")
    counts = matched["cum_orders"].fillna(0).to_numpy(dtype="float64")
    revenue = matched["cum_revenue"].fillna(0.0).to_numpy(dtype="float64")
    return counts, revenue
