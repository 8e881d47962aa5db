"""Training of the churn classifier and the CLV regressor with LightGBM, validated forward in time.

Both models follow one recipe: the latest labelled snapshot is held out as validation (it is the one most
like the scoring date), boosting stops early on it, and the final booster is refit on every labelled
snapshot with the rounds found, so the freshest behaviour is not left out of the model that scores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.evaluate import calibration_summary, normalized_gini, roc_auc, top_decile_lift
from ml.features import FEATURES, KEY_COLUMNS, category_levels_from, normalize_keys, prepare_features
from ml.labels import CHURN_LABEL, CLV_HORIZON_DAYS, CLV_LABEL, DEFAULT_CHURN_HORIZON_DAYS

Task = Literal["churn", "clv"]


@dataclass(frozen=True)
class BoostingConfig:
    """LightGBM settings shared by both models.

    `n_estimators` caps the boosting rounds; early stopping usually ends sooner. `max_depth` bounds the
    leaf-wise trees (unbounded, 31 leaves grew 11 levels deep on average): exact TreeSHAP costs
    leaves x depth^2 per tree, and depth 6 made reason codes ~3x cheaper for the same validation AUC.
    `deterministic` with a fixed `seed` and `num_threads` gives the same booster bit for bit; one thread
    by default because the orchestrator runs steps side by side and oversubscribed OpenMP threads slow
    LightGBM down far more than they help at this data size.
    """

    num_leaves: int = 31
    max_depth: int = 6
    learning_rate: float = 0.1
    n_estimators: int = 1000
    early_stopping_rounds: int = 50
    min_child_samples: int = 100
    feature_fraction: float = 0.8
    lambda_l2: float = 1.0
    seed: int = 20240101
    deterministic: bool = True
    num_threads: int = 1


@dataclass(frozen=True)
class ChurnTrainConfig(BoostingConfig):
    """Churn = no order in [T, T + horizon_days)."""

    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS


@dataclass(frozen=True)
class ClvTrainConfig(BoostingConfig):
    """CLV = net revenue in [T, T + 365 days); the horizon is fixed because the score column is named for it.

    Objective: Tweedie with a log link. Future spend is zero for many customers and heavily right-skewed
    for the rest; a compound Poisson-gamma (variance power between 1 and 2) models exactly that mass at
    zero plus a continuous tail, and its log link keeps predictions positive. Squared error would chase
    the few big spenders and can predict negative revenue.
    """

    tweedie_variance_power: float = 1.5


@dataclass(frozen=True)
class TrainedModel:
    """A fitted booster with everything needed to score new snapshots the way it was trained.

    `metrics` come from the early-stopped booster on `validation_snapshot_date`, which it did not see;
    `booster` is the refit on all `training_snapshot_dates` (validation date included) with
    `best_iteration` rounds; `n_training_rows` counts its rows, validation rows included.
    `model_version` is a hash of config, training data, feature list, category
    levels and LightGBM version: the same inputs always give the same version.
    """

    task: Task
    horizon_days: int
    booster: lgb.Booster
    features: tuple[str, ...]
    category_levels: Mapping[str, tuple[str, ...]]
    training_snapshot_dates: tuple[pd.Timestamp, ...]
    validation_snapshot_date: pd.Timestamp
    best_iteration: int
    n_training_rows: int
    n_validation_rows: int
    metrics: Mapping[str, float]
    model_version: str
    config: BoostingConfig

    def model_input(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of `frame` prepared with this model's category levels, in model order."""
        return prepare_features(frame, self.category_levels)[list(self.features)]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """One prediction per row of a `customer_features` frame: churn probability in [0, 1], or expected
        net revenue over the CLV horizon (currency units, > 0)."""
        return np.asarray(self.booster.predict(self.model_input(frame), num_threads=self.config.num_threads))


def train_churn_model(
    features: pd.DataFrame, labels: pd.DataFrame, config: ChurnTrainConfig | None = None
) -> TrainedModel:
    """Fit P(no order in the next horizon_days) on labelled snapshots (binary log-loss).

    `features`: `customer_features` rows of at least two snapshot dates; `labels`: customer_id,
    snapshot_date, churned (0/1) for exactly those rows (see `ml.labels.churn_labels`). Metrics:
    validation_auc, validation_logloss, validation_top_decile_lift, validation_churn_rate,
    validation_calibration_max_gap.
    """
    settings = config or ChurnTrainConfig()
    return _train(
        "churn",
        settings.horizon_days,
        features,
        labels,
        CHURN_LABEL,
        settings,
        {"objective": "binary", "metric": "binary_logloss"},
        _churn_metrics,
    )


def train_clv_model(
    features: pd.DataFrame, labels: pd.DataFrame, config: ClvTrainConfig | None = None
) -> TrainedModel:
    """Fit expected net revenue over the next 365 days on labelled snapshots (Tweedie, log link).

    `features` and `labels` (customer_id, snapshot_date, future_net_revenue) as for `train_churn_model`.
    Negative future revenue (refunds exceeding purchases) is trained as 0: Tweedie needs non-negative
    targets and a customer who only returns goods is worth nothing, not less. Metrics:
    validation_normalized_gini, validation_top_decile_lift, validation_mean_predicted, validation_mean_actual.
    """
    settings = config or ClvTrainConfig()
    return _train(
        "clv",
        CLV_HORIZON_DAYS,
        features,
        labels,
        CLV_LABEL,
        settings,
        {
            "objective": "tweedie",
            "metric": "tweedie",
            "tweedie_variance_power": settings.tweedie_variance_power,
        },
        _clv_metrics,
    )


def _churn_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    clipped = np.clip(predicted, 1e-15, 1 - 1e-15)
    logloss = -np.mean(actual * np.log(clipped) + (1 - actual) * np.log(1 - clipped))
    calibration = calibration_summary(actual, predicted)
    return {
        "validation_auc": roc_auc(actual, predicted),
        "validation_logloss": float(logloss),
        "validation_top_decile_lift": top_decile_lift(actual, predicted),
        "validation_churn_rate": float(actual.mean()),
        # Largest gap between predicted and observed churn rate over the ten probability deciles.
        "validation_calibration_max_gap": float(
            (calibration["mean_predicted"] - calibration["mean_actual"]).abs().max()
        ),
    }


def _clv_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "validation_normalized_gini": normalized_gini(actual, predicted),
        "validation_top_decile_lift": top_decile_lift(actual, predicted),
        "validation_mean_predicted": float(predicted.mean()),
        "validation_mean_actual": float(actual.mean()),
    }


def _train(
    task: Task,
    horizon_days: int,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    label_column: str,
    config: BoostingConfig,
    objective: Mapping[str, Any],
    validation_metrics: Callable[[np.ndarray, np.ndarray], dict[str, float]],
) -> TrainedModel:
    levels = category_levels_from(features)
    prepared = prepare_features(features, levels)
    label_rows = normalize_keys(labels).assign(**{label_column: labels[label_column].to_numpy()})
    labelled = prepared.merge(label_rows, on=list(KEY_COLUMNS), how="inner", validate="one_to_one")
    if len(labelled) != len(prepared) or len(labelled) != len(label_rows):
        raise ValueError(
            f"features ({len(prepared)} rows) and labels ({len(label_rows)} rows) must cover the same "
            f"(customer_id, snapshot_date) keys; {len(labelled)} match"
        )
    # Row order must not change the model: sort before LightGBM sees the rows.
    labelled = labelled.sort_values(["snapshot_date", "customer_id"], kind="stable", ignore_index=True)
    target = labelled[label_column].to_numpy(dtype="float64")
    if task == "clv":
        target = np.clip(target, 0.0, None)

    snapshot_dates = tuple(pd.Timestamp(date) for date in sorted(labelled["snapshot_date"].unique()))
    if len(snapshot_dates) < 2:
        raise ValueError("training needs at least two labelled snapshot dates: one to validate on")
    validation_date = snapshot_dates[-1]
    is_validation = (labelled["snapshot_date"] == validation_date).to_numpy()
    inputs = labelled[list(FEATURES)]

    params: dict[str, Any] = {
        **objective,
        "num_leaves": config.num_leaves,
        "max_depth": config.max_depth,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": config.min_child_samples,
        "feature_fraction": config.feature_fraction,
        "lambda_l2": config.lambda_l2,
        "seed": config.seed,
        "deterministic": config.deterministic,
        "force_row_wise": config.deterministic,
        "num_threads": config.num_threads,
        "verbosity": -1,
    }
    train_set = lgb.Dataset(inputs.loc[~is_validation], target[~is_validation], free_raw_data=False)
    validation_set = lgb.Dataset(inputs.loc[is_validation], target[is_validation], reference=train_set)
    early_stopped = lgb.train(
        params,
        train_set,
        num_boost_round=config.n_estimators,
        valid_sets=[validation_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best_iteration = int(early_stopped.best_iteration)
    validation_prediction = early_stopped.predict(
        inputs.loc[is_validation], num_iteration=best_iteration, num_threads=config.num_threads
    )
    metrics = validation_metrics(target[is_validation], np.asarray(validation_prediction))
    booster = lgb.train(params, lgb.Dataset(inputs, target), num_boost_round=best_iteration)

    fingerprint = pd.util.hash_pandas_object(labelled, index=False).to_numpy().tobytes()
    recipe = json.dumps(
        {
            "config": dataclasses.asdict(config),
            "horizon_days": horizon_days,
            "objective": dict(objective),
            "features": FEATURES,
            "category_levels": levels,
            "lightgbm": lgb.__version__,
        },
        sort_keys=True,
    ).encode()
    digest = hashlib.sha256(recipe + hashlib.sha256(fingerprint).digest()).hexdigest()[:12]
    return TrainedModel(
        task=task,
        horizon_days=horizon_days,
        booster=booster,
        features=FEATURES,
        category_levels=levels,
        training_snapshot_dates=snapshot_dates,
        validation_snapshot_date=validation_date,
        best_iteration=best_iteration,
        n_training_rows=len(labelled),
        n_validation_rows=int(is_validation.sum()),
        metrics=metrics,
        model_version=f"{task}-lgbm-{digest}",
        config=config,
    )
