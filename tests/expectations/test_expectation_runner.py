"""The GX runner on frames read from DuckDB the way orchestration reads them: verdicts, counts, no values.

GX takes seconds to import and build, so the frames are made once per module and the runner's GX
context, built on the first validation, is reused by every test here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.report import OutcomeStatus, ValidationReport
from expectations.runner import validate_frame
from expectations.suites import GateVocabulary, table_suites

REPO = Path(__file__).resolve().parents[2]
# A deployment's vocabularies, as its configuration would give them.
VOCABULARY = GateVocabulary(
    currencies=("EUR",),
    channels=("web", "store"),
    regions=("north", "south", "east", "west", "capital"),
    age_bands=("18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
    loyalty_tiers=("bronze", "silver", "gold"),
)
SUITES = table_suites(VOCABULARY)
ROWS = 200
SECRET = "secret@example.com"

# Each query builds a clean table with the warehouse's column types, so pandas dtypes (float64 from
# DECIMAL, nullable Int32, datetime64[us], str) are the ones the pipeline hands to the runner.
CLEAN_TABLES = {
    "dim_customers": f"""
        select
            'C' || lpad(i::varchar, 6, '0') as customer_id,
            case when i % 10 = 0 then null else timestamp '2023-01-01' + to_days(i::integer) end
                as first_order_at,
            case when i % 10 = 0 then null else timestamp '2023-01-01' + to_days((i + i % 30)::integer) end
                as last_order_at,
            (i % 10)::integer as lifetime_orders,
            round(i * 3.7, 2)::decimal(12, 2) as lifetime_net_revenue,
            case when i % 13 = 0 then null else ['north', 'south', 'east', 'west', 'capital'][i % 5 + 1] end
                as region,
            case when i % 17 = 0 then null
                else ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'][i % 6 + 1] end as age_band,
            ['none', 'bronze', 'silver', 'gold'][i % 4 + 1] as loyalty_tier
        from range({ROWS}) t(i)
    """,
    "fct_orders": f"""
        select
            'O' || lpad(i::varchar, 8, '0') as order_id,
            'C' || lpad((i % 50)::varchar, 6, '0') as customer_id,
            timestamp '2024-01-01 09:00' + to_minutes(i::integer * 97) as ordered_at,
            case when i % 3 = 0 then 'store' else 'web' end as channel,
            'EUR' as currency,
            (10 + i * 1.13)::decimal(12, 2) as gross_amount,
            case when i % 7 = 0 then (10 + i * 1.13)::decimal(12, 2)
                 when i % 5 = 0 then 2.35::decimal(12, 2) else 0.00::decimal(12, 2) end as refunded_amount,
            gross_amount - refunded_amount as net_amount
        from range({ROWS}) t(i)
    """,
    "customer_churn_scores": f"""
        select
            'C' || lpad(i::varchar, 6, '0') as customer_id,
            i / {ROWS - 1} as churn_probability,
            case when i / {ROWS - 1} >= 0.7 then 'high' when i / {ROWS - 1} >= 0.3 then 'medium' else 'low' end
                as risk_band,
            'churn-lgbm-2024-01-15' as model_version,
            date '2024-01-15' as scoring_date,
            90 as horizon_days
        from range({ROWS}) t(i)
    """,
    "customer_clv": f"""
        select
            'C' || lpad(i::varchar, 6, '0') as customer_id,
            round(i * 12.5, 2) as predicted_revenue,
            ntile(10) over (order by i desc) as clv_decile,
            date '2024-01-15' as scoring_date,
            365 as horizon_days
        from range({ROWS}) t(i)
    """,
}


@pytest.fixture(scope="module")
def clean_tables() -> dict[str, pd.DataFrame]:
    return {name: duckdb.execute(query).df() for name, query in CLEAN_TABLES.items()}


@pytest.fixture
def table(clean_tables: dict[str, pd.DataFrame]) -> Callable[[str], pd.DataFrame]:
    """A fresh copy of a clean table, for a test to break."""
    return lambda name: clean_tables[name].copy()


def only_failure(report: ValidationReport) -> tuple[str, tuple[str, ...], int | None]:
    assert not report.has_errors, report.errors
    assert len(report.failed) == 1, [outcome.label for outcome in report.failed]
    failure = report.failed[0]
    return failure.expectation_type, failure.columns, failure.unexpected_count


@pytest.mark.parametrize("name", sorted(SUITES))
def test_a_clean_table_passes_its_suite(name, table) -> None:
    frame = table(name)
    report = validate_frame(frame, SUITES[name])
    assert report.success, report.to_metadata()
    assert not report.failed and not report.has_errors and not report.not_run
    assert report.evaluated_rows == ROWS
    assert len(report.expectations) == len(SUITES[name].build().expectations)
    assert report.to_metadata()["failed"] == []


def test_a_duplicate_customer_id_fails_uniqueness_only(table) -> None:
    customers = table("dim_customers")
    customers.loc[1, "customer_id"] = customers.loc[0, "customer_id"]
    # GX counts every row holding a repeated value: one duplicate key is two unexpected rows.
    assert only_failure(validate_frame(customers, SUITES["dim_customers"])) == (
        "expect_column_values_to_be_unique",
        ("customer_id",),
        2,
    )


def test_last_order_before_first_order_fails_but_a_missing_date_does_not(table) -> None:
    customers = table("dim_customers")
    customers.loc[1, "last_order_at"] = customers.loc[1, "first_order_at"] - pd.Timedelta(days=1)
    customers.loc[2, "last_order_at"] = pd.NaT
    assert only_failure(validate_frame(customers, SUITES["dim_customers"])) == (
        "expect_column_pair_values_a_to_be_greater_than_b",
        ("last_order_at", "first_order_at"),
        1,
    )


def test_negative_lifetime_revenue_is_tolerated_for_one_percent_of_customers(table) -> None:
    customers = table("dim_customers")
    customers.loc[[5], "lifetime_net_revenue"] = -20.0
    assert validate_frame(customers, SUITES["dim_customers"]).success  # 1 of 200: within mostly=0.99

    customers.loc[[5, 6, 7], "lifetime_net_revenue"] = -20.0
    assert only_failure(validate_frame(customers, SUITES["dim_customers"])) == (
        "expect_column_values_to_be_between",
        ("lifetime_net_revenue",),
        3,
    )


def test_an_unknown_segment_fails_but_an_unknown_null_does_not(table) -> None:
    customers = table("dim_customers")
    customers.loc[3, "loyalty_tier"] = "platinum"
    customers.loc[4, "region"] = None
    assert only_failure(validate_frame(customers, SUITES["dim_customers"])) == (
        "expect_column_values_to_be_in_set",
        ("loyalty_tier",),
        1,
    )


def test_a_probability_above_one_fails(table) -> None:
    scores = table("customer_churn_scores")
    scores.loc[7, "churn_probability"] = 1.3
    assert only_failure(validate_frame(scores, SUITES["customer_churn_scores"])) == (
        "expect_column_values_to_be_between",
        ("churn_probability",),
        1,
    )


def test_an_unknown_risk_band_fails(table) -> None:
    scores = table("customer_churn_scores")
    scores.loc[[8, 9], "risk_band"] = "critical"
    assert only_failure(validate_frame(scores, SUITES["customer_churn_scores"])) == (
        "expect_column_values_to_be_in_set",
        ("risk_band",),
        2,
    )


def test_a_fractional_clv_decile_fails(table) -> None:
    clv = table("customer_clv")
    clv["clv_decile"] = clv["clv_decile"].astype("float64")
    clv.loc[0, "clv_decile"] = 5.5
    assert only_failure(validate_frame(clv, SUITES["customer_clv"])) == (
        "expect_column_values_to_be_in_set",
        ("clv_decile",),
        1,
    )


def test_a_refund_larger_than_the_order_fails(table) -> None:
    orders = table("fct_orders")
    orders.loc[2, "refunded_amount"] = orders.loc[2, "gross_amount"] + 5
    orders.loc[2, "net_amount"] = orders.loc[2, "gross_amount"] - orders.loc[2, "refunded_amount"]
    assert only_failure(validate_frame(orders, SUITES["fct_orders"])) == (
        "expect_column_pair_values_a_to_be_greater_than_b",
        ("gross_amount", "refunded_amount"),
        1,
    )


def test_a_net_amount_that_is_not_gross_less_refunded_fails_without_touching_the_callers_frame(table) -> None:
    orders = table("fct_orders")
    columns = list(orders.columns)
    orders.loc[4, "net_amount"] += 0.01  # a cent off: beyond float noise, within any loose tolerance
    assert only_failure(validate_frame(orders, SUITES["fct_orders"])) == (
        "expect_column_values_to_be_between",
        ("net_amount_gap",),
        1,
    )
    assert list(orders.columns) == columns


def test_a_missing_column_fails_its_existence_check_and_its_rules_do_not_run(table) -> None:
    orders = table("fct_orders").drop(columns=["refunded_amount"])
    report = validate_frame(orders, SUITES["fct_orders"])

    assert not report.success and not report.has_errors
    assert report.missing_columns == ("refunded_amount",)
    assert [outcome.label for outcome in report.failed] == ["expect_column_to_exist(refunded_amount)"]
    assert sorted(outcome.label for outcome in report.not_run) == [
        "expect_column_pair_values_a_to_be_greater_than_b(gross_amount, refunded_amount)",
        "expect_column_values_to_be_between(net_amount_gap)",  # derived from the missing column
        "expect_column_values_to_be_between(refunded_amount)",
        "expect_column_values_to_not_be_null(refunded_amount)",
    ]
    assert report.to_metadata()["missing_columns"] == ["refunded_amount"]


def test_gx_raising_is_an_error_not_a_data_failure(table) -> None:
    # A real failure mode: scores written as text (say, from a CSV read without types). GX's range
    # metric raises on comparing strings with numeric bounds instead of judging the values.
    scores = table("customer_churn_scores")
    scores["churn_probability"] = scores["churn_probability"].astype(str)
    scores.loc[0, "churn_probability"] = SECRET
    report = validate_frame(scores, SUITES["customer_churn_scores"])

    assert report.has_errors and not report.success
    assert report.failed == ()
    (errored,) = report.errored
    assert errored.status is OutcomeStatus.ERROR
    assert errored.label == "expect_column_values_to_be_between(churn_probability)"
    assert errored.unexpected_count is None
    assert "must either be None or of the same type" in (errored.error or "")
    assert report.to_metadata()["errors"] == list(report.errors)
    assert SECRET not in repr(report) + json.dumps(report.to_metadata())


def test_a_value_quoted_in_a_gx_error_message_is_redacted(table, monkeypatch) -> None:
    # pandas quotes the offending value in some errors ("could not convert string to float: '...'"),
    # and GX passes the message through. Make the set lookup GX runs raise such an error.
    def raise_quoting_a_value(column: pd.Series, values: object) -> pd.Series:
        raise ValueError(f"could not convert string to float: {column.iloc[0]!r}")

    customers = table("dim_customers")
    customers.loc[0, "region"] = SECRET
    monkeypatch.setattr(pd.Series, "isin", raise_quoting_a_value)
    report = validate_frame(customers, SUITES["dim_customers"])

    assert {outcome.label for outcome in report.errored} == {
        "expect_column_values_to_be_in_set(region)",
        "expect_column_values_to_be_in_set(age_band)",
        "expect_column_values_to_be_in_set(loyalty_tier)",
    }
    assert "could not convert string to float: '<value>'" in report.errors[0]
    assert SECRET not in repr(report) + json.dumps(report.to_metadata())


def test_results_never_carry_data_values(table) -> None:
    customers = table("dim_customers")
    customers.loc[[0, 1], "customer_id"] = SECRET  # an e-mail leaked into the key: duplicate and '@'
    customers.loc[2, "region"] = SECRET
    customers["email"] = SECRET  # a PII column no rule reads
    scores = table("customer_churn_scores")
    scores.loc[0, "risk_band"] = SECRET
    reports = [
        validate_frame(customers, SUITES["dim_customers"]),
        validate_frame(scores, SUITES["customer_churn_scores"]),
    ]

    assert {outcome.label for report in reports for outcome in report.failed} == {
        "expect_column_values_to_be_unique(customer_id)",
        "expect_column_values_to_not_match_regex(customer_id)",
        "expect_column_values_to_be_in_set(region)",
        "expect_column_values_to_be_in_set(risk_band)",
    }
    for report in reports:
        assert SECRET not in repr(report)
        assert SECRET not in json.dumps(report.to_metadata())


def test_metadata_is_small_json_with_names_and_counts(table) -> None:
    scores = table("customer_churn_scores")
    scores.loc[7, "churn_probability"] = 1.3
    metadata = validate_frame(scores, SUITES["customer_churn_scores"]).to_metadata()

    assert json.loads(json.dumps(metadata)) == metadata
    assert metadata == {
        "suite": "customer_churn_scores",
        "success": False,
        "evaluated_rows": ROWS,
        "expectation_count": 14,
        "passed_count": 13,
        "failed": [
            {
                "expectation": "expect_column_values_to_be_between(churn_probability)",
                "unexpected_count": 1,
                "unexpected_percent": 0.5,
            }
        ],
        "errors": [],
        "not_run": [],
        "missing_columns": [],
    }


def test_validation_prints_nothing(table, capfd) -> None:
    """GX's tqdm progress bars would flood the Dagster compute logs of every check."""
    validate_frame(table("customer_clv"), SUITES["customer_clv"])
    assert capfd.readouterr() == ("", "")


def test_the_deployments_vocabulary_decides_what_passes(table) -> None:
    # A dollar shop's gate accepts its dollars and refuses the euros another deployment accepts.
    dollars = table_suites(GateVocabulary(currencies=("USD",), channels=("web", "store")))
    orders = table("fct_orders")
    assert only_failure(validate_frame(orders, dollars["fct_orders"])) == (
        "expect_column_values_to_be_in_set",
        ("currency",),
        ROWS,
    )
    assert validate_frame(orders.assign(currency="USD"), dollars["fct_orders"]).success


def test_an_open_vocabulary_is_not_checked(table) -> None:
    customers = table("dim_customers").assign(region="atlantis", loyalty_tier="platinum")
    open_vocabulary = table_suites(GateVocabulary(currencies=("EUR",), channels=("web", "store")))
    assert validate_frame(customers, open_vocabulary["dim_customers"]).success
    assert not validate_frame(customers, SUITES["dim_customers"]).success


def test_importing_the_package_leaves_gx_unloaded() -> None:
    """Dagster imports the package when it loads the code location; GX's ten-second import waits."""
    probe = (
        "import sys, expectations as e; "
        "print('great_expectations' in sys.modules, len(e.table_suites(e.GateVocabulary(('EUR',), ('web',)))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == ["False", "4"]
