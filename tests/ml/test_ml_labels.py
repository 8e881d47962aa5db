"""Point-in-time labels: half-open windows, unobserved horizons, anonymous orders, and a brute-force cross-check."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.labels import churn_labels, clv_labels, labelable_snapshot_dates, window_activity
from ml.synthetic import SyntheticCustomers

T = pd.Timestamp("2024-01-01")
HORIZON = pd.Timedelta(days=90)
SECOND = pd.Timedelta(seconds=1)


def _orders(rows: list[tuple[str | None, pd.Timestamp, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"O{index}" for index in range(len(rows))],
            "customer_id": [customer for customer, _, _ in rows],
            "ordered_at": pd.to_datetime([at for _, at, _ in rows]),
            "net_amount": [amount for _, _, amount in rows],
        }
    )


def _snapshots(customers: list[str], date: pd.Timestamp = T) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": customers, "snapshot_date": [date] * len(customers)})


def test_window_is_half_open_at_both_ends() -> None:
    # Guards against an inclusive upper bound (an order at T+90 counted in two consecutive windows)
    # and against an exclusive lower bound (the order on the snapshot day itself lost).
    orders = _orders(
        [
            ("at_start", T, 10.0),
            ("at_end", T + HORIZON, 20.0),
            ("just_before_start", T - SECOND, 30.0),
            ("just_before_end", T + HORIZON - SECOND, 40.0),
        ]
    )
    customers = ["at_start", "at_end", "just_before_start", "just_before_end"]
    churn = churn_labels(_snapshots(customers), orders, observed_until=T + HORIZON)
    clv = clv_labels(_snapshots(customers), orders, observed_until=T + HORIZON, horizon_days=90)

    assert churn.set_index("customer_id")["churned"].to_dict() == {
        "at_start": 0,
        "at_end": 1,
        "just_before_start": 1,
        "just_before_end": 0,
    }
    assert clv.set_index("customer_id")["future_net_revenue"].to_dict() == {
        "at_start": 10.0,
        "at_end": 0.0,
        "just_before_start": 0.0,
        "just_before_end": 40.0,
    }


def test_unobserved_horizon_raises_instead_of_labelling_churn() -> None:
    orders = _orders([("a", T - SECOND, 5.0)])
    with pytest.raises(ValueError, match="cannot label snapshots 2024-01-01"):
        churn_labels(_snapshots(["a"]), orders, observed_until=T + HORIZON - pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="365-day window"):
        clv_labels(_snapshots(["a"]), orders, observed_until=T + HORIZON)


def test_ties_and_anonymous_orders() -> None:
    orders = _orders([("a", T, 5.0), ("a", T, 7.0), ("a", T + SECOND, 1.0), (None, T, 100.0)])
    activity = window_activity(_snapshots(["a"]), orders, observed_until=T + HORIZON, horizon_days=90)
    assert activity.loc[0, "n_orders"] == 3
    assert activity.loc[0, "net_revenue"] == pytest.approx(13.0)
    assert "None" not in set(activity["customer_id"])


def test_labelable_snapshot_dates_keep_only_fully_observed_windows() -> None:
    dates = pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01", "2024-01-01"])
    # 2024-02-01 + 90 days is 2024-05-01: observed up to the day before is not enough, up to that day is.
    assert labelable_snapshot_dates(dates, pd.Timestamp("2024-04-30"), 90) == [pd.Timestamp("2024-01-01")]
    assert labelable_snapshot_dates(dates, pd.Timestamp("2024-05-01"), 90) == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
    ]
    assert labelable_snapshot_dates(dates, pd.Timestamp("2024-05-31"), 90) == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-03-01"),
    ]


def test_labels_match_a_brute_force_count(synthetic: SyntheticCustomers) -> None:
    features = synthetic.features
    snapshots = features.loc[features["snapshot_date"].isin(pd.to_datetime(["2022-06-01", "2023-06-01"]))]
    labels = clv_labels(snapshots, synthetic.orders, synthetic.scoring_date, horizon_days=180)

    known = synthetic.orders.dropna(subset=["customer_id"])
    pairs = snapshots[["customer_id", "snapshot_date"]].merge(known, on="customer_id")
    in_window = pairs.loc[
        (pairs["ordered_at"] >= pairs["snapshot_date"])
        & (pairs["ordered_at"] < pairs["snapshot_date"] + pd.Timedelta(days=180))
    ]
    expected = in_window.groupby(["customer_id", "snapshot_date"])["net_amount"].sum()
    actual = labels.set_index(["customer_id", "snapshot_date"])["future_net_revenue"]
    pd.testing.assert_series_equal(
        actual.loc[expected.index], expected, check_names=False, check_index_type=False, rtol=1e-9
    )
    assert (actual.drop(expected.index) == 0).all()
    assert labels["future_net_revenue"].gt(0).mean() > 0.2
