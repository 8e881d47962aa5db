"""Synthetic `customer_features` and `fct_orders` frames with a known behavioural story, for tests and benchmarks.

Like scikit-learn's `make_classification`: a seeded generator, not demo data. Each customer orders as a
Poisson process until a latent churn time; complaints can trigger early churn, and e-mail engagement and
unsubscribes follow activity. Features are computed from the simulated events strictly before each snapshot
date, as the warehouse does, so a model can learn churn from recency, complaints and engagement, and spend
from frequency and order value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

REGIONS = ("north", "south", "east", "west")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
ACQUISITION_CHANNELS = ("organic", "paid_search", "social", "referral")
_DAY = pd.Timedelta(days=1)
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class SyntheticCustomers:
    """`features` shaped like the `customer_features` mart (one row per customer and snapshot date at which
    the customer exists), `orders` shaped like `fct_orders` with ordered_at < orders_until, including
    anonymous orders (customer_id null), and the `scoring_date`, which is also the last snapshot date."""

    features: pd.DataFrame
    orders: pd.DataFrame
    scoring_date: pd.Timestamp


def make_customer_frames(
    n_customers: int = 2000,
    seed: int = 0,
    scoring_date: str = "2024-01-15",
    snapshot_dates: Sequence[str] | None = None,
    orders_until: str | None = None,
) -> SyntheticCustomers:
    """Simulate `n_customers` customers from 2020-01-01 and snapshot them.

    `snapshot_dates` defaults to the first of every month from 2021-07-01 to before `scoring_date`, plus
    `scoring_date` itself (deliberately not a first of month). Orders are simulated up to `orders_until`
    (default: `scoring_date`, exclusive). The same arguments always give the same frames.
    """
    rng = np.random.default_rng(seed)
    scoring = pd.Timestamp(scoring_date)
    simulated_until = pd.Timestamp(orders_until) if orders_until is not None else scoring
    history_start = pd.Timestamp("2020-01-01")
    snapshots = pd.DatetimeIndex(
        list(snapshot_dates)
        if snapshot_dates is not None
        else [*pd.date_range("2021-07-01", scoring - _DAY, freq="MS"), scoring],
        dtype="datetime64[ns]",
    )

    customer_ids = np.array([f"C{index:07d}" for index in range(n_customers)])
    signup_span_days = (scoring - history_start).days - 30
    signup = history_start + pd.to_timedelta(rng.uniform(0, signup_span_days, n_customers), unit="D")
    channel = rng.choice(ACQUISITION_CHANNELS, n_customers, p=[0.4, 0.3, 0.2, 0.1])
    # Paid-search customers are less loyal; lifetimes are otherwise exponential with a two-year mean.
    lifetime_days = rng.exponential(730, n_customers) * np.where(channel == "paid_search", 0.6, 1.0)
    churn_at = signup + pd.to_timedelta(lifetime_days, unit="D")

    complaints = _poisson_events(
        rng, customer_ids, signup, churn_at, simulated_until, rng.gamma(0.5, 0.8, n_customers) / 365
    )
    # A complaint drives the customer away three weeks later with probability 0.6.
    triggering = complaints.loc[rng.uniform(size=len(complaints)) < 0.6]
    first_trigger = triggering.groupby("customer_id")["at"].min()
    triggered_churn = pd.Series(customer_ids).map(first_trigger + pd.Timedelta(days=21))
    churn_at = pd.DatetimeIndex(np.minimum(churn_at.to_numpy(), triggered_churn.fillna(pd.Timestamp.max)))
    complaints = complaints.loc[
        complaints["at"] < pd.Series(churn_at, index=customer_ids)[complaints["customer_id"]].to_numpy()
    ]

    order_rate = rng.lognormal(np.log(6 / 365), 0.6, n_customers)
    orders = _poisson_events(rng, customer_ids, signup, churn_at, simulated_until, order_rate)
    customer_index = pd.Series(np.arange(n_customers), index=customer_ids)[orders["customer_id"]].to_numpy()
    typical_value = rng.lognormal(np.log(50), 0.5, n_customers)
    gross = typical_value[customer_index] * rng.gamma(4.0, 0.25, len(orders))
    refunded = np.where(
        rng.uniform(size=len(orders)) < rng.beta(1, 15, n_customers)[customer_index],
        gross * rng.uniform(0.3, 1.0, len(orders)),
        0.0,
    )
    orders = orders.assign(
        gross=gross.round(2),
        refunded=refunded.round(2),
        is_web=rng.uniform(size=len(orders)) < rng.beta(2, 2, n_customers)[customer_index],
    )

    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "signup": signup,
            "churn_at": churn_at,
            # Half of the churners unsubscribe about two months after leaving; the others never do.
            "unsubscribe_at": (churn_at + pd.to_timedelta(rng.exponential(60, n_customers), unit="D")).where(
                rng.uniform(size=n_customers) < 0.5, pd.Timestamp.max
            ),
            "engagement": rng.gamma(2.0, 1.5, n_customers),
            "marketing_consent": pd.Series(rng.uniform(size=n_customers) < 0.7, dtype="boolean").mask(
                rng.uniform(size=n_customers) < 0.1
            ),
            "region": _with_nulls(rng, rng.choice(REGIONS, n_customers), 0.03),
            "age_band": _with_nulls(rng, rng.choice(AGE_BANDS, n_customers), 0.05),
            "acquisition_channel": channel,
        }
    )
    features = _snapshot_features(rng, customers, orders, complaints, snapshots)
    return SyntheticCustomers(
        features=features, orders=_as_fct_orders(rng, orders, simulated_until), scoring_date=scoring
    )


def _poisson_events(
    rng: np.random.Generator,
    customer_ids: np.ndarray,
    start: pd.DatetimeIndex,
    stop: pd.DatetimeIndex,
    until: pd.Timestamp,
    rate_per_day: np.ndarray,
) -> pd.DataFrame:
    """Event times of a homogeneous Poisson process per customer on [start, min(stop, until))."""
    end = np.minimum(stop.to_numpy(), until.to_datetime64())
    span_days = np.clip((end - start.to_numpy()) / np.timedelta64(1, "D"), 0, None)
    counts = rng.poisson(rate_per_day * span_days)
    owner = np.repeat(np.arange(len(customer_ids)), counts)
    offsets = pd.to_timedelta(rng.uniform(size=owner.size) * span_days[owner], unit="D")
    at = (start[owner] + offsets).floor("s")
    return pd.DataFrame({"customer_id": customer_ids[owner], "at": at.astype("datetime64[ns]")})


def _with_nulls(rng: np.random.Generator, values: np.ndarray, share: float) -> pd.Series:
    return pd.Series(values, dtype=object).mask(rng.uniform(size=values.size) < share)


def _snapshot_features(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    complaints: pd.DataFrame,
    snapshots: pd.DatetimeIndex,
) -> pd.DataFrame:
    """One row per customer already signed up at each snapshot date, from events strictly before it."""
    grid = customers.merge(pd.DataFrame({"snapshot_date": snapshots}), how="cross")
    grid = grid.loc[grid["signup"] < grid["snapshot_date"]].reset_index(drop=True)
    keys = ["customer_id", "snapshot_date"]

    past = grid[keys].merge(orders, on="customer_id")
    past = past.loc[past["at"] < past["snapshot_date"]]
    age_days = (past["snapshot_date"] - past["at"]).dt.total_seconds() / _SECONDS_PER_DAY
    past = past.assign(
        net=past["gross"] - past["refunded"],
        in_90d=age_days <= 90,
        in_365d=age_days <= 365,
    )
    past = past.assign(net_90d=past["net"] * past["in_90d"], net_365d=past["net"] * past["in_365d"])
    history = past.groupby(keys).agg(
        frequency=("at", "size"),
        first_order=("at", "min"),
        last_order=("at", "max"),
        monetary_total=("net", "sum"),
        gross_total=("gross", "sum"),
        refunded_total=("refunded", "sum"),
        web_orders=("is_web", "sum"),
        orders_90d=("in_90d", "sum"),
        orders_365d=("in_365d", "sum"),
        revenue_90d=("net_90d", "sum"),
        revenue_365d=("net_365d", "sum"),
    )
    recent_complaints = grid[keys].merge(complaints, on="customer_id")
    recent_complaints = recent_complaints.loc[
        (recent_complaints["at"] < recent_complaints["snapshot_date"])
        & (recent_complaints["at"] >= recent_complaints["snapshot_date"] - pd.Timedelta(days=365))
    ]
    complaint_counts = recent_complaints.groupby(keys).size().rename("complaints_365d")
    grid = grid.join(history, on=keys).join(complaint_counts, on=keys)

    frequency = grid["frequency"].fillna(0).astype("int64")
    complaints_365d = grid["complaints_365d"].fillna(0).astype("int64")
    active = grid["snapshot_date"] < grid["churn_at"]
    opened = rng.poisson(np.where(active, 2.0 * grid["engagement"], 0.3))
    revenue_365d = grid["revenue_365d"].fillna(0.0)
    return pd.DataFrame(
        {
            "customer_id": grid["customer_id"],
            "snapshot_date": grid["snapshot_date"],
            "recency_days": (grid["snapshot_date"] - grid["last_order"]).dt.days,
            "tenure_days": (grid["snapshot_date"] - grid["signup"]).dt.days,
            "frequency": frequency,
            "monetary_total": grid["monetary_total"].fillna(0.0).round(2),
            "avg_order_value": (grid["monetary_total"] / grid["frequency"]).round(2),
            "orders_90d": grid["orders_90d"].fillna(0).astype("int64"),
            "orders_365d": grid["orders_365d"].fillna(0).astype("int64"),
            "revenue_90d": grid["revenue_90d"].fillna(0.0).round(2),
            "revenue_365d": revenue_365d.round(2),
            "mean_days_between_orders": (
                (grid["last_order"] - grid["first_order"]).dt.total_seconds()
                / _SECONDS_PER_DAY
                / (frequency - 1)
            ).where(frequency >= 2),
            "refund_share": (grid["refunded_total"] / grid["gross_total"]).fillna(0.0),
            "web_order_share": (grid["web_orders"] / grid["frequency"]).fillna(0.0),
            "tickets_365d": complaints_365d + rng.poisson(0.5, len(grid)),
            "complaints_365d": complaints_365d,
            "emails_opened_90d": opened,
            "emails_clicked_90d": rng.binomial(opened, 0.3),
            "unsubscribed": grid["snapshot_date"] >= grid["unsubscribe_at"],
            "marketing_consent": grid["marketing_consent"],
            "loyalty_tier": pd.cut(
                revenue_365d,
                [-np.inf, 100, 300, 800, np.inf],
                labels=["none", "bronze", "silver", "gold"],
                right=False,
            ).astype(str),
            "region": grid["region"],
            "age_band": grid["age_band"],
            "acquisition_channel": grid["acquisition_channel"],
        }
    )


def _as_fct_orders(rng: np.random.Generator, orders: pd.DataFrame, until: pd.Timestamp) -> pd.DataFrame:
    """Orders as the `fct_orders` mart has them, plus anonymous orders (customer_id null) to be ignored."""
    n_anonymous = len(orders) // 10
    anonymous_at = until - pd.to_timedelta(rng.uniform(1, 1000, n_anonymous), unit="D")
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": orders["customer_id"].astype(object),
                    "ordered_at": orders["at"],
                    "net_amount": (orders["gross"] - orders["refunded"]).round(2),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": [None] * n_anonymous,
                    "ordered_at": anonymous_at.floor("s").astype("datetime64[ns]"),
                    "net_amount": rng.gamma(2.0, 25.0, n_anonymous).round(2),
                }
            ),
        ],
        ignore_index=True,
    ).sort_values("ordered_at", kind="stable", ignore_index=True)
    frame.insert(0, "order_id", [f"O{index:08d}" for index in range(len(frame))])
    return frame
