"""Reason phrases: the customer's own values in words a retention team reads, one template per feature."""

from __future__ import annotations

import numpy as np

from ml.btyd import BTYD_FEATURES
from ml.features import CATEGORICAL_FEATURES, FEATURES
from ml.reasons import phrase

NAN = np.nan


def _values(**columns: list[object]) -> dict[str, np.ndarray]:
    return {
        name: np.array(values, dtype=object if name in CATEGORICAL_FEATURES else np.float64)
        for name, values in columns.items()
    }


def test_recency_reads_against_the_customers_usual_rhythm() -> None:
    values = _values(recency_days=[186, 186, NAN, 0], mean_days_between_orders=[40.2, NAN, NAN, 12])
    assert phrase("recency_days", values).tolist() == [
        "no order for 186 days; usually orders every 40 days",
        "no order for 186 days",
        "no order yet",
        "ordered in the last day; usually orders every 12 days",
    ]


def test_counts_read_in_the_singular_and_plural() -> None:
    values = _values(frequency=[1, 0, 12], complaints_365d=[1, 0, 3], emails_opened_90d=[0, 1, 5])
    assert phrase("frequency", values).tolist() == [
        "only 1 order so far",
        "no orders yet",
        "12 orders so far",
    ]
    assert phrase("complaints_365d", values).tolist() == [
        "1 complaint in the last 12 months",
        "no complaints in the last 12 months",
        "3 complaints in the last 12 months",
    ]
    assert phrase("emails_opened_90d", values).tolist() == [
        "opened no e-mail in the last 90 days",
        "opened 1 e-mail in the last 90 days",
        "opened 5 e-mails in the last 90 days",
    ]


def test_recent_activity_is_compared_with_the_nine_months_before_per_day() -> None:
    # 1 order in 90 days against 3 in the 275 days before is the same rate: steady, not a fall.
    values = _values(
        orders_90d=[0, 1, 2], orders_365d=[3, 4, 2], revenue_90d=[0, 50, 10], revenue_365d=[300, 200, 10]
    )
    assert phrase("orders_90d", values).tolist() == [
        "orders fell: 0 orders in the last 90 days against 3 orders in the 9 months before",
        "orders steady: 1 order in the last 90 days against 3 orders in the 9 months before",
        "orders rose: 2 orders in the last 90 days against 0 orders in the 9 months before",
    ]
    assert phrase("revenue_90d", values, "EUR")[0] == (
        "spending fell: EUR 0 in the last 90 days against EUR 300 in the 9 months before"
    )


def test_money_carries_the_configured_currency_and_thousands_separators() -> None:
    values = _values(
        avg_order_value=[65.0, 65.0, NAN],
        orders_90d=[2, 0, 0],
        revenue_90d=[80.0, 0.0, 0.0],
        monetary_total=[1234.5, 0, 0],
    )
    assert phrase("avg_order_value", values, "EUR").tolist() == [
        "recent order value EUR 25 below their average (EUR 40 against EUR 65)",
        "average order EUR 65",
        "no order value yet",
    ]
    assert phrase("monetary_total", values, "USD")[0] == "spent USD 1,234 in total"
    assert phrase("monetary_total", values)[0] == "spent 1,234 in total"


def test_flags_and_categories_say_what_a_missing_value_means() -> None:
    values = _values(
        marketing_consent=[1, 0, NAN],
        unsubscribed=[1, 0, NAN],
        acquisition_channel=["paid_search", "organic", NAN],
        loyalty_tier=["gold", "none", NAN],
    )
    assert phrase("marketing_consent", values).tolist() == [
        "agreed to marketing",
        "declined marketing",
        "never asked for marketing consent",
    ]
    assert phrase("unsubscribed", values)[0] == "unsubscribed from e-mails"
    assert phrase("acquisition_channel", values).tolist() == [
        "came through paid search",
        "came through organic",
        "acquisition channel unknown",
    ]
    assert phrase("loyalty_tier", values).tolist() == [
        "loyalty tier gold",
        "no loyalty tier",
        "loyalty tier unknown",
    ]


def test_tenure_uses_the_unit_a_person_would() -> None:
    values = _values(tenure_days=[45, 250, 1200])
    assert phrase("tenure_days", values).tolist() == [
        "customer for 45 days",
        "customer for 8 months",
        "customer for 3 years",
    ]


def test_btyd_features_read_as_projections() -> None:
    values = _values(btyd_p_alive=[0.35, NAN], btyd_expected_revenue=[120.0, NAN])
    assert phrase("btyd_p_alive", values).tolist() == [
        "35% likely to still be active (BTYD)",
        "no order history to project",
    ]
    assert phrase("btyd_expected_revenue", values, "EUR")[0] == "expected revenue EUR 120 (BTYD)"


def test_every_feature_has_its_own_template_and_anything_else_a_fallback() -> None:
    # Guards against a new feature silently reading as 'name = value' to the retention team.
    rows = 3
    values = {
        name: np.array(["a", NAN, "b"], dtype=object)
        if name in CATEGORICAL_FEATURES
        else np.array([0.0, 1.0, 2.5])
        for name in (*FEATURES, *BTYD_FEATURES, "new_feature")
    }
    for feature in (*FEATURES, *BTYD_FEATURES):
        texts = phrase(feature, values, "EUR")
        assert len(texts) == rows and all(isinstance(text, str) and text for text in texts), feature
        assert not any(text.startswith(f"{feature} = ") for text in texts), feature
    assert phrase("new_feature", values).tolist() == [
        "new_feature = 0",
        "new_feature = 1",
        "new_feature = 2.50",
    ]
    assert phrase("new_feature", {"new_feature": np.array(["x", NAN], dtype=object)}).tolist() == [
        "new_feature = x",
        "new_feature = missing",
    ]
