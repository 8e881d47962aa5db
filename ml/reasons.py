"""Reason phrases a retention team can read: one template per model feature, filled with the customer's values.

A phrase states a fact about the customer ("no order for 186 days; usually orders every 40 days"), not the
model's arithmetic; the signed contribution travels in its own column. Templates work on whole groups of
rows at once (numpy object arrays, each distinct number formatted once), so a million customers are phrased
in seconds. A feature without a template reads '<feature> = <value>'.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

# The columns of one group of rows, by feature name: float arrays for numbers and flags, object arrays of
# text (NaN for missing) for categories.
Values = Mapping[str, np.ndarray]
Template = Callable[[Values, str], np.ndarray]

# The window before the last 90 days inside the last 365, for comparing recent activity with earlier.
_EARLIER_DAYS = 365 - 90
_STEADY_WITHIN = 1.25


def phrase(feature: str, values: Values, currency: str = "") -> np.ndarray:
    """The reason text of `feature` for each row of `values` (every model feature of the same rows), an
    object array of str; `currency` is the ISO code shown before money amounts ('' for none)."""
    template = _TEMPLATES.get(feature)
    if template is None:
        return _text(f"{feature} = ", _plain(values[feature]))
    return template(values, currency)


def _text(*parts: str | np.ndarray) -> np.ndarray:
    """Element-wise concatenation of strings and object arrays of strings (at least one array)."""
    combined: np.ndarray | str = ""
    for part in parts:
        combined = np.add(combined, np.asarray(part, dtype=object))
    return np.asarray(combined, dtype=object)


def _choose(condition: np.ndarray, when_true: str | np.ndarray, when_false: str | np.ndarray) -> np.ndarray:
    return np.asarray(np.where(condition, when_true, when_false), dtype=object)


def _formatted(values: np.ndarray, pattern: str) -> np.ndarray:
    """`pattern.format(value)` for each value, formatting each distinct value once; '' for NaN."""
    numbers = np.asarray(values, dtype=np.float64)
    distinct, position = np.unique(numbers, return_inverse=True)
    texts = np.array(["" if np.isnan(value) else pattern.format(value) for value in distinct], dtype=object)
    return (
        texts[position.reshape(numbers.shape)] if distinct.size else np.full(numbers.shape, "", dtype=object)
    )


def _count(values: np.ndarray) -> np.ndarray:
    return _formatted(np.round(values), "{:,.0f}")


def _money(values: np.ndarray, currency: str) -> np.ndarray:
    prefix = f"{currency} " if currency else ""
    return _formatted(np.round(values), prefix + "{:,.0f}")


def _percent(shares: np.ndarray) -> np.ndarray:
    return _formatted(np.round(shares * 100), "{:.0f}%")


def _plural(counts: np.ndarray, singular: str, plural: str) -> np.ndarray:
    return _choose(np.round(counts) == 1, singular, plural)


def _plain(values: np.ndarray) -> np.ndarray:
    """A value as it is: whole numbers without decimals, others to two places, 'missing' for null."""
    if values.dtype == object:
        codes, levels = pd.factorize(values)
        return np.array([str(level) for level in levels] + ["missing"], dtype=object)[codes]
    whole = np.isfinite(values) & (values == np.round(values))
    return _choose(
        np.isnan(values),
        "missing",
        _choose(whole, _formatted(values, "{:.0f}"), _formatted(values, "{:.2f}")),
    )


def _duration(days: np.ndarray) -> np.ndarray:
    """'45 days', '8 months', '3 years': the unit a person would use."""
    months, years = days / 30.4, days / 365.25
    return _choose(
        days < 60,
        _text(_count(days), " days"),
        _choose(years < 2, _text(_count(months), " months"), _text(_count(years), " years")),
    )


def _recency(values: Values, currency: str) -> np.ndarray:
    recency, gap = values["recency_days"], values.get("mean_days_between_orders")
    base = _choose(
        np.isnan(recency),
        "no order yet",
        _choose(recency < 1, "ordered in the last day", _text("no order for ", _count(recency), " days")),
    )
    if gap is None:
        return base
    return _choose(np.isnan(gap), base, _text(base, "; usually orders every ", _count(gap), " days"))


def _tenure(values: Values, currency: str) -> np.ndarray:
    tenure = values["tenure_days"]
    return _choose(np.isnan(tenure), "customer since unknown", _text("customer for ", _duration(tenure)))


def _frequency(values: Values, currency: str) -> np.ndarray:
    orders = values["frequency"]
    return _choose(
        np.isnan(orders) | (orders == 0),
        "no orders yet",
        _choose(orders == 1, "only 1 order so far", _text(_count(orders), " orders so far")),
    )


def _monetary_total(values: Values, currency: str) -> np.ndarray:
    return _text("spent ", _money(np.nan_to_num(values["monetary_total"]), currency), " in total")


def _avg_order_value(values: Values, currency: str) -> np.ndarray:
    average = values["avg_order_value"]
    base = _choose(
        np.isnan(average), "no order value yet", _text("average order ", _money(average, currency))
    )
    recent_orders, recent_revenue = values.get("orders_90d"), values.get("revenue_90d")
    if recent_orders is None or recent_revenue is None:
        return base
    with np.errstate(divide="ignore", invalid="ignore"):
        recent = recent_revenue / recent_orders
    gap = np.round(recent - average)
    comparable = (recent_orders > 0) & ~np.isnan(average) & ~np.isnan(recent) & (gap != 0)
    compared = _text(
        "recent order value ",
        _money(np.abs(gap), currency),
        _choose(gap < 0, " below", " above"),
        " their average (",
        _money(recent, currency),
        " against ",
        _money(average, currency),
        ")",
    )
    return _choose(comparable, compared, base)


def _trend(
    recent: np.ndarray, last_year: np.ndarray, what: str, shown: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """'<what> fell: <recent> in the last 90 days against <earlier> in the 9 months before', comparing
    rates per day so that the two windows' different lengths do not read as a trend, and calling rates
    within a factor `_STEADY_WITHIN` of each other steady (1 order in 90 days against 3 in 275 is not a rise)."""
    recent = np.nan_to_num(recent)
    earlier = np.nan_to_num(last_year) - recent
    recent_rate, earlier_rate = recent / 90, earlier / _EARLIER_DAYS
    direction = _choose(
        recent_rate < earlier_rate / _STEADY_WITHIN,
        " fell: ",
        _choose(recent_rate > earlier_rate * _STEADY_WITHIN, " rose: ", " steady: "),
    )
    return _text(
        what,
        direction,
        shown(recent),
        " in the last 90 days against ",
        shown(earlier),
        " in the 9 months before",
    )


def _orders_90d(values: Values, currency: str) -> np.ndarray:
    recent, last_year = values["orders_90d"], values.get("orders_365d")
    if last_year is None:
        return _text(
            _count(np.nan_to_num(recent)), _plural(recent, " order", " orders"), " in the last 90 days"
        )
    return _trend(
        recent,
        last_year,
        "orders",
        lambda counts: _text(_count(counts), _plural(counts, " order", " orders")),
    )


def _revenue_90d(values: Values, currency: str) -> np.ndarray:
    recent, last_year = values["revenue_90d"], values.get("revenue_365d")
    if last_year is None:
        return _text("spent ", _money(np.nan_to_num(recent), currency), " in the last 90 days")
    return _trend(recent, last_year, "spending", lambda amounts: _money(amounts, currency))


def _orders_365d(values: Values, currency: str) -> np.ndarray:
    orders = np.nan_to_num(values["orders_365d"])
    return _choose(
        orders == 0,
        "no order in the last 12 months",
        _text(_count(orders), _plural(orders, " order", " orders"), " in the last 12 months"),
    )


def _revenue_365d(values: Values, currency: str) -> np.ndarray:
    return _text("spent ", _money(np.nan_to_num(values["revenue_365d"]), currency), " in the last 12 months")


def _mean_days_between_orders(values: Values, currency: str) -> np.ndarray:
    gap = values["mean_days_between_orders"]
    return _choose(
        np.isnan(gap), "no repeat order yet", _text("orders every ", _count(gap), " days on average")
    )


def _refund_share(values: Values, currency: str) -> np.ndarray:
    share = np.nan_to_num(values["refund_share"])
    return _choose(share == 0, "never refunded", _text("refunded ", _percent(share), " of what they bought"))


def _web_order_share(values: Values, currency: str) -> np.ndarray:
    return _text(_percent(np.nan_to_num(values["web_order_share"])), " of orders online")


def _events_365d(column: str, singular: str, plural: str) -> Template:
    def template(values: Values, currency: str) -> np.ndarray:
        events = np.nan_to_num(values[column])
        return _choose(
            events == 0,
            f"no {plural} in the last 12 months",
            _text(_count(events), _plural(events, f" {singular}", f" {plural}"), " in the last 12 months"),
        )

    return template


def _emails_opened(values: Values, currency: str) -> np.ndarray:
    opened = np.nan_to_num(values["emails_opened_90d"])
    return _choose(
        opened == 0,
        "opened no e-mail in the last 90 days",
        _text("opened ", _count(opened), _plural(opened, " e-mail", " e-mails"), " in the last 90 days"),
    )


def _emails_clicked(values: Values, currency: str) -> np.ndarray:
    clicked = np.nan_to_num(values["emails_clicked_90d"])
    return _choose(
        clicked == 0,
        "clicked no e-mail in the last 90 days",
        _text("clicked ", _count(clicked), _plural(clicked, " e-mail", " e-mails"), " in the last 90 days"),
    )


def _flag(column: str, yes: str, no: str, unknown: str) -> Template:
    def template(values: Values, currency: str) -> np.ndarray:
        flag = values[column]
        return _choose(np.isnan(flag), unknown, _choose(flag == 1, yes, no))

    return template


def _category(column: str, known: str, unknown: str, none: str | None = None) -> Template:
    """`known` with '{}' for the level (underscores read as spaces), `unknown` for a missing level, and
    `none` for the level 'none' if given."""

    def template(values: Values, currency: str) -> np.ndarray:
        codes, levels = pd.factorize(values[column])
        texts = np.array(
            [
                none if level == "none" and none is not None else known.format(str(level).replace("_", " "))
                for level in levels
            ]
            + [unknown],
            dtype=object,
        )
        return texts[codes]  # code -1 (missing) picks the last text, `unknown`

    return template


def _btyd_share(column: str, pattern: str) -> Template:
    def template(values: Values, currency: str) -> np.ndarray:
        share = values[column]
        return _choose(np.isnan(share), "no order history to project", _text(_percent(share), pattern))

    return template


def _btyd_expected_orders(values: Values, currency: str) -> np.ndarray:
    orders = values["btyd_expected_orders"]
    return _choose(
        np.isnan(orders),
        "no order history to project",
        _text("expected to order ", _formatted(orders, "{:.1f}"), " times in the horizon (BTYD)"),
    )


def _btyd_money(column: str, pattern: str) -> Template:
    def template(values: Values, currency: str) -> np.ndarray:
        amount = values[column]
        return _choose(
            np.isnan(amount),
            "no order history to project",
            _text(pattern, _money(amount, currency), " (BTYD)"),
        )

    return template


def _season(values: Values, currency: str) -> np.ndarray:
    months = np.asarray(values["snapshot_month"], dtype=np.float64)
    names = np.array(["", *calendar.month_name[1:], "an unknown month"], dtype=object)
    index = np.where(np.isnan(months), 13, np.nan_to_num(months, nan=13)).astype(int)
    return _text("the season: customers scored in ", names[index], " behave so")


_TEMPLATES: dict[str, Template] = {
    "recency_days": _recency,
    "tenure_days": _tenure,
    "frequency": _frequency,
    "monetary_total": _monetary_total,
    "avg_order_value": _avg_order_value,
    "orders_90d": _orders_90d,
    "orders_365d": _orders_365d,
    "revenue_90d": _revenue_90d,
    "revenue_365d": _revenue_365d,
    "mean_days_between_orders": _mean_days_between_orders,
    "refund_share": _refund_share,
    "web_order_share": _web_order_share,
    "tickets_365d": _events_365d("tickets_365d", "support ticket", "support tickets"),
    "complaints_365d": _events_365d("complaints_365d", "complaint", "complaints"),
    "emails_opened_90d": _emails_opened,
    "emails_clicked_90d": _emails_clicked,
    "unsubscribed": _flag(
        "unsubscribed", "unsubscribed from e-mails", "subscribed to e-mails", "e-mail subscription unknown"
    ),
    "marketing_consent": _flag(
        "marketing_consent", "agreed to marketing", "declined marketing", "never asked for marketing consent"
    ),
    "loyalty_tier": _category(
        "loyalty_tier", "loyalty tier {}", "loyalty tier unknown", none="no loyalty tier"
    ),
    "region": _category("region", "lives in region {}", "region unknown"),
    "age_band": _category("age_band", "aged {}", "age unknown"),
    "acquisition_channel": _category("acquisition_channel", "came through {}", "acquisition channel unknown"),
    "btyd_p_alive": _btyd_share("btyd_p_alive", " likely to still be active (BTYD)"),
    "btyd_expected_orders": _btyd_expected_orders,
    "btyd_expected_order_value": _btyd_money("btyd_expected_order_value", "expected order value "),
    "btyd_expected_revenue": _btyd_money("btyd_expected_revenue", "expected revenue "),
    "btyd_p_no_order": _btyd_share("btyd_p_no_order", " likely to place no order in the horizon (BTYD)"),
    "snapshot_month": _season,
}
