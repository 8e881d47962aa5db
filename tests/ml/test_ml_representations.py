"""The same customers, however the warehouse hands over ids and dates, get the same scores and models.

Guards against the class of bugs behind `MergeError: incompatible merge keys [0] dtype('O') and
<StringDtype(na_value=nan)>` (pandas 3 gives `str` from `.astype(str)`, DuckDB gives object or Arrow
strings), and against integer ids that turn float when a null appears (7 vs 7.0) matching no one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pytest

from ml.labels import churn_labels
from ml.pipeline import ChurnConfig, ClvConfig, fit_and_score_churn, fit_and_score_clv
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import ChurnTrainConfig, ClvTrainConfig

Frames = tuple[pd.DataFrame, pd.DataFrame]
Recast = Callable[[pd.Series], pd.Series]
QUARTERLY = ["2022-07-01", "2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-15"]
ARROW_STRING = pd.ArrowDtype(pa.string())


@pytest.fixture(scope="module")
def numeric_ids() -> SyntheticCustomers:
    """Synthetic customers whose ids are numeric-looking text ('1', '2', ...) and order ids too, so that
    integer representations of the same ids exist."""
    data = make_customer_frames(n_customers=250, seed=31, snapshot_dates=QUARTERLY)
    renamed = {old: str(index + 1) for index, old in enumerate(sorted(data.features["customer_id"].unique()))}
    orders = data.orders.assign(
        customer_id=data.orders["customer_id"].map(renamed).astype(object),
        order_id=data.orders["order_id"].str.lstrip("O").str.lstrip("0").replace("", "0"),
    )
    features = data.features.assign(customer_id=data.features["customer_id"].map(renamed))
    return SyntheticCustomers(features=features, orders=orders, scoring_date=data.scoring_date)


@pytest.fixture(scope="module")
def configs(
    fast_churn_config: ChurnTrainConfig, fast_clv_config: ClvTrainConfig
) -> tuple[ChurnConfig, ClvConfig]:
    return (
        ChurnConfig(train=dataclasses.replace(fast_churn_config, min_child_samples=20)),
        ClvConfig(train=dataclasses.replace(fast_clv_config, min_child_samples=20)),
    )


@pytest.fixture(scope="module")
def reference(numeric_ids: SyntheticCustomers, configs: tuple[ChurnConfig, ClvConfig]) -> Frames:
    churn, clv = _scores((numeric_ids.features, numeric_ids.orders), numeric_ids.scoring_date, configs)
    assert churn["model_version"].str.startswith("churn-lgbm-").all()
    assert clv["model_version"].str.startswith("clv-lgbm-").all()
    return churn, clv


def _as(dtype: object) -> Recast:
    return lambda values: values.astype(dtype)  # type: ignore[call-overload]


def _python_dates(values: pd.Series) -> pd.Series:
    return pd.Series(
        [None if pd.isna(value) else value.date() for value in values], index=values.index, dtype=object
    )


def _timestamp_objects(values: pd.Series) -> pd.Series:
    return pd.Series(list(values), index=values.index, dtype=object)


def _whole_numbers(values: pd.Series) -> pd.Series:
    # What pandas makes of an integer id column with nulls (anonymous orders): float64 with NaN.
    return pd.to_numeric(values).astype("float64" if values.isna().any() else "int64")


ID_REPRESENTATIONS: dict[str, tuple[Recast, Recast]] = {
    # name: (features' customer_id, orders' customer_id and order_id)
    "object": (_as(object), _as(object)),
    "str": (_as("str"), _as("str")),
    "string[python]": (_as("string[python]"), _as("string[python]")),
    "string[pyarrow]": (_as("string[pyarrow]"), _as("string[pyarrow]")),
    "arrow": (_as(ARROW_STRING), _as(ARROW_STRING)),
    "int64": (_whole_numbers, _whole_numbers),
    "Int64": (_as("Int64"), _as("Int64")),
    "object features, str orders": (_as(object), _as("str")),
    "str features, object orders": (_as("str"), _as(object)),
    "int64 features, arrow orders": (_whole_numbers, _as(ARROW_STRING)),
}

DATE_REPRESENTATIONS: dict[str, tuple[Recast, Recast]] = {
    # name: (snapshot_date, ordered_at)
    "datetime64[s]": (_as("datetime64[s]"), _as("datetime64[s]")),
    "datetime64[ms]": (_as("datetime64[ms]"), _as("datetime64[ms]")),
    "datetime64[us]": (_as("datetime64[us]"), _as("datetime64[us]")),
    # Windows start at midnight and span whole days, so an order's date alone places it in the same window.
    "python dates": (_python_dates, _python_dates),
    "Timestamp objects": (_timestamp_objects, _timestamp_objects),
    "arrow date and timestamp": (_as(pd.ArrowDtype(pa.date32())), _as(pd.ArrowDtype(pa.timestamp("s")))),
}


def _represented(features: pd.DataFrame, orders: pd.DataFrame, representation: str) -> Frames:
    """`features` and `orders` with their ids or their dates recast as `representation` names."""
    if representation in ID_REPRESENTATIONS:
        customer_ids, order_ids = ID_REPRESENTATIONS[representation]
        return features.assign(customer_id=customer_ids(features["customer_id"])), orders.assign(
            customer_id=order_ids(orders["customer_id"]), order_id=order_ids(orders["order_id"])
        )
    snapshot_dates, order_times = DATE_REPRESENTATIONS[representation]
    return features.assign(snapshot_date=snapshot_dates(features["snapshot_date"])), orders.assign(
        ordered_at=order_times(orders["ordered_at"])
    )


def _scores(data: Frames, scoring_date: pd.Timestamp, configs: tuple[ChurnConfig, ClvConfig]) -> Frames:
    features, orders = data
    return (
        fit_and_score_churn(features, orders, scoring_date, configs[0]).scores,
        fit_and_score_clv(features, orders, scoring_date, configs[1]).scores,
    )


@pytest.mark.parametrize("representation", [*ID_REPRESENTATIONS, *DATE_REPRESENTATIONS])
def test_representations_give_identical_lightgbm_scores(
    representation: str,
    numeric_ids: SyntheticCustomers,
    configs: tuple[ChurnConfig, ClvConfig],
    reference: Frames,
) -> None:
    data = _represented(numeric_ids.features, numeric_ids.orders, representation)
    churn, clv = _scores(data, numeric_ids.scoring_date, configs)
    pd.testing.assert_frame_equal(churn, reference[0])
    pd.testing.assert_frame_equal(clv, reference[1])


@pytest.mark.parametrize(
    "representation", ["object", "arrow", "int64", "python dates", "arrow date and timestamp"]
)
def test_representations_give_identical_baseline_scores(
    representation: str, numeric_ids: SyntheticCustomers
) -> None:
    # Two quarters of history for a 273-day horizon: the BTYD baseline scores, and its version hashes keys.
    features = numeric_ids.features.loc[numeric_ids.features["snapshot_date"] >= pd.Timestamp("2023-07-01")]
    configs = (
        ChurnConfig(train=ChurnTrainConfig(horizon_days=273)),
        ClvConfig(train=ClvTrainConfig(horizon_days=273)),
    )
    churn_reference, clv_reference = _scores(
        (features, numeric_ids.orders), numeric_ids.scoring_date, configs
    )
    assert churn_reference["model_version"].str.startswith("churn-btyd-").all()
    assert clv_reference["model_version"].str.startswith("clv-btyd-").all()
    data = _represented(features, numeric_ids.orders, representation)
    churn, clv = _scores(data, numeric_ids.scoring_date, configs)
    pd.testing.assert_frame_equal(churn, churn_reference)
    pd.testing.assert_frame_equal(clv, clv_reference)


def test_leading_zeros_are_part_of_the_id(
    numeric_ids: SyntheticCustomers, configs: tuple[ChurnConfig, ClvConfig]
) -> None:
    # '00001' and '1' are two customers: no step may read ids as numbers and merge them. One of the two
    # buys in the year after 2023-01-01 and the other does not, so merged ids would change a label.
    scoring_date = numeric_ids.scoring_date
    labels = churn_labels(
        numeric_ids.features.loc[numeric_ids.features["snapshot_date"] == pd.Timestamp("2023-01-01")],
        numeric_ids.orders,
        scoring_date,
        365,
    ).set_index("customer_id")["churned"]
    others = labels.drop("1", errors="ignore")
    buyer, churner = others.index[others == 0][0], others.index[others == 1][0]
    renamed = {buyer: "00001", churner: "1", "1": churner, "00001": buyer}

    def rename(values: pd.Series) -> pd.Series:
        return values.map(lambda value: renamed.get(value, value))

    features = numeric_ids.features.assign(
        customer_id=rename(numeric_ids.features["customer_id"]).astype(object)
    )
    orders = numeric_ids.orders.assign(
        customer_id=rename(numeric_ids.orders["customer_id"]).astype(ARROW_STRING)
    )
    relabelled = churn_labels(
        features.loc[features["snapshot_date"] == pd.Timestamp("2023-01-01")], orders, scoring_date, 365
    ).set_index("customer_id")["churned"]
    assert (relabelled["00001"], relabelled["1"]) == (0, 1)
    assert relabelled.rename(renamed).sort_index().equals(labels.sort_index())

    at_scoring = features.loc[features["snapshot_date"] == scoring_date, "customer_id"]
    churn = fit_and_score_churn(features, orders, scoring_date, configs[0])
    clv = fit_and_score_clv(features, orders, scoring_date, configs[1])
    for scores in (churn.scores, clv.scores):
        assert scores["customer_id"].is_unique
        assert sorted(scores["customer_id"]) == sorted(at_scoring)
        assert {"00001", "1"} <= set(scores["customer_id"])
