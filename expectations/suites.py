"""The quality suites as code: what each table the pipeline gates must satisfy, one GX suite per table.

The business vocabularies a suite checks (currencies, channels, regions, ...) are the deployment's,
passed in as a `GateVocabulary`; only the pipeline's own vocabularies (risk bands, deciles) are fixed
here. Great Expectations takes about ten seconds to import, so this module only imports it inside the
builders: building `table_suites(...)` (names, PII declarations) stays cheap for code that never validates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

# The keyword arguments through which a GX expectation names the column(s) it reads.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARG = "column_list"

RISK_BANDS = ("low", "medium", "high")
CLV_DECILES = tuple(range(1, 11))
NO_LOYALTY_TIER = "none"  # the tier of a customer without a card


@dataclass(frozen=True)
class GateVocabulary:
    """The values a deployment accepts (its configuration's `currency` and `vocabulary`). A vocabulary
    left as None is not checked; `loyalty_tiers` are the card tiers, `none` (no card) always passes."""

    currencies: tuple[str, ...]
    channels: tuple[str, ...]
    regions: tuple[str, ...] | None = None
    age_bands: tuple[str, ...] | None = None
    loyalty_tiers: tuple[str, ...] | None = None


SuiteRules = Callable[["GateVocabulary"], Sequence["Expectation"]]

# Amounts are DECIMAL(12,2) in the warehouse and float64 once read into pandas, so an exact equality
# between computed money columns would fail on float noise: half a cent is the honest tolerance.
MONEY_TOLERANCE = 0.005


def expectation_columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns an expectation reads, from its configuration kwargs, in the order it names them."""
    named = [kwargs[key] for key in _COLUMN_KWARGS if kwargs.get(key) is not None]
    return (*named, *kwargs.get(_COLUMN_LIST_KWARG, ()))


@dataclass(frozen=True)
class DerivedColumn:
    """A column computed from the table before validation, for a rule GX cannot state over stored columns.

    GX has no row-wise arithmetic expectation for pandas, so a rule like "net = gross - refunded" is
    checked as an expectation on a derived column. The runner adds it to its own copy of the frame;
    the table itself is never changed.
    """

    name: str
    inputs: tuple[str, ...]
    compute: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class TableSuite:
    """One gated table: the expectations it must meet and what the runner needs to know to run them.

    `pii_columns` declares which of the table's columns hold personal data, for orchestration to tag
    them. It is empty for every table gated today, all keyed by a pseudonymous customer_id. Results
    stay free of data values regardless of this declaration (see `expectations.runner`).
    """

    table: str
    define: Callable[[], Sequence[Expectation]]
    pii_columns: frozenset[str] = frozenset()
    derived_columns: tuple[DerivedColumn, ...] = ()

    def source_columns(self, kwargs: Mapping[str, Any]) -> tuple[str, ...]:
        """The table columns an expectation depends on: a derived column stands for its inputs."""
        derived = {d.name: d.inputs for d in self.derived_columns}
        columns: list[str] = []
        for name in expectation_columns(kwargs):
            for column in derived.get(name, (name,)):
                if column not in columns:
                    columns.append(column)
        return tuple(columns)

    def columns_read(self, expectations: Iterable[Expectation]) -> tuple[str, ...]:
        """Every table column `expectations` depend on, once each, in first-use order."""
        return tuple(
            dict.fromkeys(
                column
                for expectation in expectations
                for column in self.source_columns(expectation.configuration.kwargs)
            )
        )

    def expectations(self) -> list[Expectation]:
        """New GX expectations: one `expect_column_to_exist` per column read, then the table's rules.

        The existence checks are generated from the rules so they cannot drift apart; they are what
        turns a missing column into a failure that names it. New objects on every call, because GX
        binds an expectation to the one suite that holds it.
        """
        import great_expectations.expectations as gxe

        rules = list(self.define())
        existence = [gxe.ExpectColumnToExist(column=column) for column in self.columns_read(rules)]
        return [*existence, *rules]

    def build(self) -> ExpectationSuite:
        """The whole suite, named after the table."""
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.table, expectations=self.expectations())


def _key(column: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToNotBeNull(column=column), gxe.ExpectColumnValuesToBeUnique(column=column)]


def _not_null(*columns: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in columns]


def _not_empty() -> Expectation:
    """An empty table passes every column rule vacuously, so each suite also demands rows."""
    import great_expectations.expectations as gxe

    return gxe.ExpectTableRowCountToBeBetween(min_value=1)


def _in_set(column: str, values: tuple[str, ...] | None) -> list[Expectation]:
    """Non-null values of `column` are among `values`; nothing to check when the vocabulary is open."""
    import great_expectations.expectations as gxe

    return [] if values is None else [gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values))]


def _dim_customers(vocabulary: GateVocabulary) -> list[Expectation]:
    import great_expectations.expectations as gxe

    tiers = None if vocabulary.loyalty_tiers is None else (NO_LOYALTY_TIER, *vocabulary.loyalty_tiers)
    return [
        _not_empty(),
        *_key("customer_id"),
        # An '@' in the key means an e-mail address leaked through identity resolution: raw PII.
        gxe.ExpectColumnValuesToNotMatchRegex(column="customer_id", regex="@"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_order_at",
            column_B="first_order_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="lifetime_orders", min_value=0),
        # Refunds can exceed what a customer still pays in a window; a few negative totals are real.
        gxe.ExpectColumnValuesToBeBetween(column="lifetime_net_revenue", min_value=0, mostly=0.99),
        # Null segments are allowed (unknown), so only non-null values are checked against the set.
        *_in_set("region", vocabulary.regions),
        *_in_set("age_band", vocabulary.age_bands),
        *_in_set("loyalty_tier", tiers),
    ]


def _net_amount_gap(orders: pd.DataFrame) -> pd.Series:
    """How far each order's net amount is from gross minus refunded, in currency units."""
    return (orders["net_amount"] - (orders["gross_amount"] - orders["refunded_amount"])).abs()


NET_AMOUNT_GAP = DerivedColumn(
    name="net_amount_gap",
    inputs=("net_amount", "gross_amount", "refunded_amount"),
    compute=_net_amount_gap,
)


def _fct_orders(vocabulary: GateVocabulary) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        _not_empty(),
        *_key("order_id"),
        # Money columns are explicit (0.00 when nothing was refunded): a null would slip past every
        # range rule below, which ignore nulls.
        *_not_null("ordered_at", "channel", "currency", "gross_amount", "refunded_amount", "net_amount"),
        gxe.ExpectColumnValuesToBeBetween(column="gross_amount", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="refunded_amount", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="gross_amount", column_B="refunded_amount", or_equal=True
        ),
        gxe.ExpectColumnValuesToBeBetween(column=NET_AMOUNT_GAP.name, min_value=0, max_value=MONEY_TOLERANCE),
        *_in_set("channel", vocabulary.channels),
        *_in_set("currency", vocabulary.currencies),
    ]


def _customer_churn_scores(vocabulary: GateVocabulary) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        _not_empty(),
        *_key("customer_id"),
        # A scored row without its score or band is useless to BI, and range rules skip nulls.
        *_not_null("churn_probability", "horizon_days", "risk_band", "model_version"),
        gxe.ExpectColumnValuesToBeBetween(column="churn_probability", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeInSet(column="risk_band", value_set=list(RISK_BANDS)),
    ]


def _customer_clv(vocabulary: GateVocabulary) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        _not_empty(),
        *_key("customer_id"),
        *_not_null("predicted_revenue", "horizon_days", "clv_decile"),
        gxe.ExpectColumnValuesToBeBetween(column="predicted_revenue", min_value=0),
        # A set rather than a 1..10 range: a decile is a whole number, and a range would let 5.5 pass.
        gxe.ExpectColumnValuesToBeInSet(column="clv_decile", value_set=list(CLV_DECILES)),
    ]


def table_suites(vocabulary: GateVocabulary) -> Mapping[str, TableSuite]:
    """One suite per gated table, by table name, checking the deployment's `vocabulary`."""
    tables: tuple[tuple[str, SuiteRules, tuple[DerivedColumn, ...]], ...] = (
        ("dim_customers", _dim_customers, ()),
        ("fct_orders", _fct_orders, (NET_AMOUNT_GAP,)),
        ("customer_churn_scores", _customer_churn_scores, ()),
        ("customer_clv", _customer_clv, ()),
    )
    return MappingProxyType(
        {
            table: TableSuite(table=table, define=partial(rules, vocabulary), derived_columns=derived)
            for table, rules, derived in tables
        }
    )
