"""The customer KPI marts and bi.customer_360, built by the real dbt on the hand-made raw fixture.

The warehouse is built once per module the way the pipeline does it: the marts, then the KPI marts with their
data and unit tests, then the ML step's score tables (two scoring dates for most customers, none for one), then customer_360. The tests
assert properties of the real output: segments partition the customers, shares sum to 1, R = N x L x V,
cohorts start whole, retention flows balance and customer_360 has one row per customer, with its predictive
profile (ml.customer_btyd is left out, as in a warehouse the ML step has not yet written it to; one test adds it
to a copy) and the models' reasons (the score tables have the shape of an earlier release, churn reasons without
contributions and CLV scores without reasons; one test writes the current shape to a copy, as the ML step does).
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt_runner import Dbt, customer_of, query
from raw_fixture import build_raw_warehouse

from orchestration.lib.warehouse import WarehouseResource

SCORING_DATE = date(2024, 6, 16)  # the day after the fixture's last orders export
EARLIER_SCORING_DATE = date(2024, 6, 1)
REASON_COLUMNS = [
    f"{model}_reason_{rank}{suffix}"
    for model in ("churn", "value")
    for suffix in ("", "_contribution")
    for rank in (1, 2, 3)
]

# Score tables as an earlier release wrote them: churn reasons without their contributions, CLV without reasons.
ML_TABLES_DDL = """
create schema ml;
create table ml.customer_churn_scores (
    customer_id varchar, scoring_date date, horizon_days bigint, churn_probability double, risk_band varchar,
    model_version varchar, reason_1 varchar, reason_2 varchar, reason_3 varchar
);
create table ml.customer_clv (
    customer_id varchar, scoring_date date, horizon_days bigint, predicted_revenue double, clv_decile bigint,
    model_version varchar
);
"""


def write_scores(warehouse: Path, scored: list[str]) -> None:
    """What the ML step leaves: scores of `scored` at an earlier and at the latest scoring date."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(ML_TABLES_DDL)
        for rank, customer_id in enumerate(scored, start=1):
            for scoring_date, version in [(EARLIER_SCORING_DATE, "v1"), (SCORING_DATE, "v2")]:
                probability = 0.9 if version == "v1" else rank / 10
                con.execute(
                    "insert into ml.customer_churn_scores values (?, ?, 90, ?, ?, ?, 'recency_days', 'frequency', null)",
                    [customer_id, scoring_date, probability, "high" if probability > 0.5 else "low", version],
                )
                con.execute(
                    "insert into ml.customer_clv values (?, ?, 365, ?, ?, ?)",
                    [customer_id, scoring_date, 100.0 * rank, rank, version],
                )
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kpi") / "warehouse.duckdb"
    build_raw_warehouse(str(path))
    # upstream models only run (test_dbt_project tests them); the KPI marts build with their tests
    upstream = ["+path:models/marts/kpi", "customer_identity_bridge"]
    dbt(path, "run", "--select", *upstream, "--exclude", "path:models/marts/kpi")
    dbt(path, "build", "--select", "path:models/marts/kpi")
    customers = [c for (c,) in query(path, "select customer_id from marts.customer_lifecycle order by 1")]
    write_scores(path, sorted(set(customers))[1:])  # the first customer has no scores
    dbt(path, "build", "--select", "customer_360")
    return path


def test_lifecycle_segments_every_customer_exactly_once_per_snapshot(warehouse: Path) -> None:
    [(features, segmented, distinct)] = query(
        warehouse,
        """
        select
            (select count(*) from marts.customer_features),
            (select count(*) from marts.customer_lifecycle),
            (select count(*) from (select distinct customer_id, snapshot_date from marts.customer_lifecycle))
        """,
    )
    assert features == segmented == distinct == 12  # 4 customers x 3 snapshots
    missing = query(
        warehouse,
        """
        select customer_id, snapshot_date from marts.customer_features
        except
        select customer_id, snapshot_date from marts.customer_lifecycle
        """,
    )
    assert missing == []


def test_lifecycle_segments_of_the_fixture_customers(warehouse: Path) -> None:
    segments = dict(
        query(
            warehouse,
            "select customer_id, lifecycle_segment from marts.customer_lifecycle where snapshot_date = ?",
            [SCORING_DATE],
        )
    )
    # Carol ordered once, 134 days before; Alice, Bob and Dave are repeat buyers within 2 x their mean gap
    assert segments == {
        customer_of(warehouse, "contacts", "C-4"): "one-time",
        customer_of(warehouse, "customer_accounts", "A-1"): "rare",
        customer_of(warehouse, "contacts", "C-3"): "rare",
        customer_of(warehouse, "customer_accounts", "A-2"): "rare",
    }


def test_rfm_scores_rise_with_the_better_value(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select snapshot_date, recency_days, frequency, monetary_total, recency_score, frequency_score, monetary_score
        from marts.customer_rfm
        """,
    )
    assert (
        len(rows)
        == query(warehouse, "select count(*) from marts.customer_features where frequency > 0")[0][0]
    )
    for a in rows:
        assert all(1 <= score <= 5 for score in a[4:])
        for b in rows:
            if a[0] != b[0]:
                continue
            # a more recent last order never scores lower; more orders or revenue never score lower
            assert not (a[1] < b[1] and a[4] < b[4])
            assert not (a[2] > b[2] and a[5] < b[5])
            assert not (a[3] > b[3] and a[6] < b[6])
            # ties share a score
            assert (a[1] != b[1] or a[4] == b[4]) and (a[2] != b[2] or a[5] == b[5])


def test_one_time_and_repeat_shares_sum_to_one(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select buyers, one_time_buyers + repeat_buyers, one_time_buyer_share + repeat_buyer_share,
            net_revenue, one_time_buyer_revenue + repeat_buyer_revenue, one_time_revenue_share + repeat_revenue_share
        from marts.kpi_one_time_vs_repeat_buyers
        """,
    )
    assert len(rows) == 6  # January to the partial June
    for buyers, split_buyers, buyer_shares, revenue, split_revenue, revenue_shares in rows:
        assert buyers > 0 and split_buyers == buyers and buyer_shares == pytest.approx(1.0)
        assert split_revenue == revenue and revenue_shares == pytest.approx(1.0)


def test_revenue_is_customers_x_orders_per_customer_x_revenue_per_order(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select month_start, net_revenue, active_customers, orders_per_customer, revenue_per_order
        from marts.kpi_revenue_decomposition order by month_start
        """,
    )
    for _, revenue, customers, orders_per_customer, revenue_per_order in rows:
        assert (
            Decimal(customers * orders_per_customer * revenue_per_order).quantize(Decimal("0.01")) == revenue
        )
    # R over all months is the net revenue of every identified customer's order
    [(identified_revenue,)] = query(
        warehouse,
        "select sum(net_amount) from marts.fct_orders where customer_id in (select customer_id from marts.customer_lifecycle)",
    )
    assert sum(r[1] for r in rows) == identified_revenue == Decimal("500.00")
    assert rows[0][:3] == (date(2024, 1, 1), Decimal("170.00"), 1)  # Alice's O-1 (120) and guest O-2 (50)


def test_cohorts_start_whole_and_hold_every_buyer(warehouse: Path) -> None:
    month_zero = query(
        warehouse,
        "select cohort_month, cohort_customers, retention_rate from marts.kpi_cohort_retention "
        "where months_since_first_order = 0 order by 1",
    )
    assert month_zero == [
        (date(2024, 1, 1), 1, 1.0),  # Alice
        (date(2024, 2, 1), 2, 1.0),  # Bob, Carol
        (date(2024, 3, 1), 1, 1.0),  # Dave
    ]
    [(bob_and_carol_in_april,)] = query(
        warehouse,
        "select retention_rate from marts.kpi_cohort_retention "
        "where cohort_month = '2024-02-01' and activity_month = '2024-04-01'",
    )
    assert bob_and_carol_in_april == 0.5  # Bob's O-8 on 2024-04-30


def test_retention_flows_balance_month_to_month(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select customers_at_start, retained_customers, churned_customers, new_customers, reactivated_customers,
            customers_at_end, retention_rate, churn_rate
        from marts.kpi_retention_monthly order by month_start
        """,
    )
    for start, retained, churned, new, reactivated, end, retention, churn in rows:
        assert retained + churned == start and retained + new + reactivated == end
        if start:
            assert retention + churn == pytest.approx(1.0)
    # a month ends with the customers the next one starts with
    assert [month[5] for month in rows[:-1]] == [month[0] for month in rows[1:]]
    assert sum(r[3] for r in rows) == 4  # every customer is new once
    assert rows[-1][5] == 4  # within 12 months of an order, all four are still active


def test_abc_classes_follow_revenue_and_xyz_is_one_of_nine_cells(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select net_revenue, abc_class, xyz_class, abc_xyz_class from marts.customer_abc_xyz order by net_revenue desc",
    )
    # window June 2023 - May 2024: Alice 260, Bob 75, Carol 70, Dave 60 (June's 35 is in the partial month)
    assert [(r[0], r[1]) for r in rows] == [
        (Decimal("260.00"), "A"),
        (Decimal("75.00"), "A"),
        (Decimal("70.00"), "B"),
        (Decimal("60.00"), "C"),
    ]
    # one or two orders in twelve months vary a lot: all Z
    assert {(r[2], r[3]) for r in rows} == {("Z", "AZ"), ("Z", "BZ"), ("Z", "CZ")}


def test_customer_360_has_one_row_per_customer_with_latest_scores(warehouse: Path) -> None:
    [(customers_360, distinct_360, known_customers)] = query(
        warehouse,
        """
        select count(*), count(distinct customer_id),
            (select count(*) from marts.dim_customers where not is_unknown_customer)
        from bi.customer_360
        """,
    )
    assert customers_360 == distinct_360 == known_customers == 4
    rows = query(
        warehouse,
        """
        select churn_scoring_date, churn_model_version, clv_scoring_date, lifecycle_segment, rfm_cell, abc_class
        from bi.customer_360 order by customer_id
        """,
    )
    unscored, *scored = rows
    assert unscored[:3] == (None, None, None)
    assert {r[:3] for r in scored} == {(SCORING_DATE, "v2", SCORING_DATE)}
    assert all(r[3] and r[4] and r[5] for r in rows)  # every fixture customer has ordered in the window


def test_customer_360_builds_from_score_tables_that_predate_the_reason_columns(warehouse: Path) -> None:
    rows = query(
        warehouse,
        f"select churn_probability, {', '.join(REASON_COLUMNS)} from bi.customer_360 order by customer_id",
    )
    unscored, *scored = rows
    assert set(unscored) == {None}
    for churn_probability, *reasons in scored:
        churn_reasons, churn_contributions = reasons[0:3], reasons[3:6]
        assert churn_probability is not None
        assert churn_reasons == ["recency_days", "frequency", None]  # the table has them
        assert churn_contributions == [None, None, None]  # it lacks them: nulls, not a failed build
        assert reasons[6:] == [None] * 6  # no value reasons in the table at all


def test_customer_360_profile_comes_from_the_scoring_dates_order_history(warehouse: Path) -> None:
    features = {
        customer_id: (frequency, recency_days, gap, monetary_total, order_value)
        for customer_id, frequency, recency_days, gap, monetary_total, order_value in query(
            warehouse,
            """
            select customer_id, frequency, recency_days, mean_days_between_orders, monetary_total, avg_order_value
            from marts.customer_features where snapshot_date = ?
            """,
            [SCORING_DATE],
        )
    }
    rows = query(
        warehouse,
        """
        select customer_id, historic_value, average_order_value, average_days_between_orders,
            expected_next_order_date, next_order_overdue, churn_probability, predicted_revenue, value_at_risk,
            expected_orders, btyd_scoring_date
        from bi.customer_360 order by customer_id
        """,
    )
    assert len(rows) == len(features) == 4
    for customer_id, historic, order_value, gap, next_order, overdue, *scores in rows:
        frequency, recency_days, feature_gap, monetary_total, feature_order_value = features[customer_id]
        churn, predicted, at_risk, *btyd = scores
        assert historic == round(Decimal(monetary_total), 2)
        assert order_value == round(Decimal(feature_order_value), 2)
        assert gap == feature_gap
        if frequency >= 2:
            last_order = SCORING_DATE - timedelta(days=recency_days)
            assert next_order == last_order + timedelta(days=math.floor(gap + 0.5))
            assert overdue == (next_order < SCORING_DATE)
        else:
            assert next_order is None and overdue is None
        assert at_risk == (churn * predicted if churn is not None and predicted is not None else None)
        # no ml.customer_btyd in this warehouse: customer_360 still builds, with nulls there
        assert btyd == [None, None]
    assert sum(r[8] is not None for r in rows) == 3  # the first customer has no scores


def test_customer_360_takes_expected_orders_once_the_btyd_scores_exist(
    dbt: Dbt, warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    # dbt, in this process, may still hold the file open, its last writes in the WAL
    query(warehouse, "checkpoint")
    shutil.copy(warehouse, copy)
    customers = [c for (c,) in query(copy, "select customer_id from bi.customer_360 order by 1")]
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            """
            create table ml.customer_btyd (
                customer_id varchar, scoring_date date, horizon_days bigint, p_alive double, expected_orders double,
                expected_order_value double, expected_revenue double, p_no_order double, model_version varchar
            )
            """
        )
        for scoring_date, expected_orders in [(EARLIER_SCORING_DATE, 9.0), (SCORING_DATE, 1.5)]:
            con.execute(
                "insert into ml.customer_btyd values (?, ?, 365, 0.8, ?, 50.0, ?, 0.3, 'btyd-v1')",
                [customers[0], scoring_date, expected_orders, 50.0 * expected_orders],
            )
    finally:
        con.close()
    dbt(copy, "build", "--select", "customer_360")
    rows = query(
        copy, "select customer_id, btyd_scoring_date, btyd_horizon_days, expected_orders from bi.customer_360"
    )
    assert sorted(rows, key=lambda r: r[0]) == [
        (customers[0], SCORING_DATE, 365, 1.5),
        *((c, None, None, None) for c in customers[1:]),
    ]


def test_customer_360_takes_the_reasons_and_contributions_the_ml_step_writes(
    dbt: Dbt, warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    query(warehouse, "checkpoint")
    shutil.copy(warehouse, copy)
    scored = [
        c
        for (c,) in query(
            copy,
            "select customer_id from ml.customer_churn_scores where scoring_date = ? order by 1",
            [SCORING_DATE],
        )
    ]
    assert len(scored) == 3
    # per customer: three reasons, one, none (a model without trees scored); churn contributions raise the
    # risk, value contributions go either way and the wording says which
    churn_reasons = [
        [("no order for 186 days", 1.25), ("ordered once", 0.5), ("no web account", 0.125)],
        [("no order for 90 days", 0.25)],
        [],
    ]
    value_reasons = [
        [("spent 300 so far (raises expected revenue)", 0.75), ("one order (lowers expected revenue)", -0.5)],
        [],
        [("orders every 40 days (raises expected revenue)", 0.0625)],
    ]
    # written the way the ML step writes them: replace_snapshot gives the older tables the new columns
    store = WarehouseResource(path=str(copy))
    store.replace_snapshot(
        "ml.customer_churn_scores",
        scores_with_reasons(
            scored, churn_reasons, churn_probability=[0.9, 0.5, 0.2], risk_band=["high", "medium", "low"]
        ),
        "scoring_date",
    )
    store.replace_snapshot(
        "ml.customer_clv",
        scores_with_reasons(
            scored, value_reasons, predicted_revenue=[300.0, 50.0, 80.0], clv_decile=[1, 3, 2]
        ),
        "scoring_date",
    )
    dbt(copy, "build", "--select", "customer_360")  # with its tests of the reasons
    rows = query(
        copy, f"select customer_id, {', '.join(REASON_COLUMNS)} from bi.customer_360 order by customer_id"
    )
    unscored, *rest = rows
    assert set(unscored[1:]) == {None}
    for (customer_id, *columns), churn, value in zip(rest, churn_reasons, value_reasons, strict=True):
        assert customer_id in scored
        assert columns == [*reason_columns(churn), *reason_columns(value)]
    for _, *columns in rows:
        for reasons, contributions in (columns[0:3], columns[3:6]), (columns[6:9], columns[9:12]):
            # a contribution is null exactly when its reason is
            assert [r is None for r in reasons] == [c is None for c in contributions]
        assert all(c > 0 for c in columns[3:6] if c is not None)  # churn reasons raise the risk


def scores_with_reasons(
    customers: list[str], reasons: list[list[tuple[str, float]]], **scores: list[object]
) -> pd.DataFrame:
    """Score rows at SCORING_DATE as the ML step writes them: its columns, then reason_1..3 and their contributions."""
    size = len(customers)
    frame = pd.DataFrame(
        {
            "customer_id": customers,
            "scoring_date": pd.Series([SCORING_DATE] * size, dtype=object),
            "horizon_days": [90] * size,
            **scores,
            "model_version": ["v3"] * size,
        }
    )
    columns = [reason_columns(customer) for customer in reasons]
    for rank in range(3):
        frame[f"reason_{rank + 1}"] = pd.Series([c[rank] for c in columns], dtype=object)
    for rank in range(3):
        frame[f"reason_{rank + 1}_contribution"] = pd.Series([c[3 + rank] for c in columns], dtype="float64")
    return frame


def reason_columns(reasons: list[tuple[str, float]]) -> list[object]:
    """A customer's three reasons then their three contributions, None where the customer has fewer."""
    padded = [*reasons, *[(None, None)] * (3 - len(reasons))]
    return [text for text, _ in padded] + [amount for _, amount in padded]
