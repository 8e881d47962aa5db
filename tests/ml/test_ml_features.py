"""prepare_features: required columns, types, and a category encoding that is identical for training and scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.features import CATEGORICAL_FEATURES, FEATURES, category_levels_from, prepare_features
from ml.synthetic import SyntheticCustomers


def _small_frame(synthetic: SyntheticCustomers) -> pd.DataFrame:
    return synthetic.features.iloc[:50].reset_index(drop=True)


def test_missing_columns_are_named(synthetic: SyntheticCustomers) -> None:
    frame = _small_frame(synthetic).drop(columns=["recency_days", "region"])
    with pytest.raises(ValueError, match="missing required columns: recency_days, region"):
        prepare_features(frame)


def test_types_and_order(synthetic: SyntheticCustomers) -> None:
    frame = _small_frame(synthetic)
    prepared = prepare_features(frame)
    assert list(prepared.columns) == ["customer_id", "snapshot_date", *FEATURES]
    assert len(prepared) == len(frame)
    assert (prepared["customer_id"] == frame["customer_id"]).all()
    assert str(prepared["snapshot_date"].dtype) == "datetime64[ns]"
    for column in FEATURES:
        expected = "category" if column in CATEGORICAL_FEATURES else "float64"
        assert str(prepared[column].dtype) == expected, column


def test_nullable_boolean_becomes_nan_not_false(synthetic: SyntheticCustomers) -> None:
    frame = _small_frame(synthetic).iloc[:3].copy()
    frame["marketing_consent"] = pd.array([True, None, False], dtype="boolean")
    assert prepare_features(frame)["marketing_consent"].tolist()[::2] == [1.0, 0.0]
    assert np.isnan(prepare_features(frame)["marketing_consent"].iloc[1])


def test_unseen_and_null_categories_become_nan(synthetic: SyntheticCustomers) -> None:
    training = _small_frame(synthetic)
    levels = category_levels_from(training)
    # Every categorical, loyalty_tier included, takes its levels from the training rows: no business
    # vocabulary is written into the library.
    for column in CATEGORICAL_FEATURES:
        assert list(levels[column]) == sorted(training[column].dropna().unique()), column
    assert "gold" not in levels["loyalty_tier"]

    scoring = training.iloc[:3].copy()
    scoring["region"] = ["atlantis", None, levels["region"][0]]
    # 'gold' is a real tier that the training rows never saw: scored as missing, like any unseen value.
    scoring["loyalty_tier"] = ["gold", levels["loyalty_tier"][-1], None]
    prepared = prepare_features(scoring, levels)
    assert prepared["region"].isna().tolist() == [True, True, False]
    assert prepared["loyalty_tier"].isna().tolist() == [True, False, True]
    # Same levels on both sides means the same integer codes, whatever values each frame happens to hold.
    for column in CATEGORICAL_FEATURES:
        assert list(prepared[column].cat.categories) == list(
            prepare_features(training, levels)[column].cat.categories
        )


def test_duplicate_keys_are_rejected(synthetic: SyntheticCustomers) -> None:
    frame = _small_frame(synthetic)
    with pytest.raises(ValueError, match="duplicate"):
        prepare_features(pd.concat([frame, frame.iloc[:1]]))
