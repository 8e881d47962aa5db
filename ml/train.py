"""Training of the churn classifier and the CLV regressor with LightGBM, validated forward in time.

Both models follow one recipe: the latest labelled snapshot is held out as validation (it is the one most
like the scoring date), boosting stops early on it, and the final booster is refit on every labelled
snapshot with the rounds found, so the freshest behaviour is not left out of the model that scores.

Boosting on top of the BTYD baseline: when the feature rows carry `ml.btyd.BTYD_FEATURES` (fitted point
in time, snapshot by snapshot, by `ml.pipeline`), the booster starts from the baseline's own prediction
(`init_score`: the logit of BG/NBD's P(no order) for churn, the log of BG/NBD x Gamma-Gamma revenue for
CLV) and only learns corrections to it, with the BTYD outputs also among its features. Trees cannot
extrapolate: a customer at the scoring date is older than any training row (tenure and recency beyond
the training range), and a tree scores them like the oldest rows it saw, while the BTYD models carry age
through their own structure. On the CDNOW sample (scoring 1997-10-01, 91 days) this took churn log loss
from 0.383 to 0.365 and AUC from 0.759 to 0.792, and the spend total error from -26% to -13%
(benchmarks/bench_models.py). Shallow trees (depth 3, 7 leaves) with a lower learning rate: corrections
to a good baseline are simple, and deeper trees overfitted the few snapshots a young history has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import special

from ml.btyd import BTYD_FEATURES
from ml.calibration import Calibrator, cross_checked_calibrator
from ml.evaluate import calibration_summary, normalized_gini, roc_auc, top_decile_lift
from ml.features import (
    FEATURES,
    KEY_COLUMNS,
    as_float64,
    as_timestamps,
    category_levels_from,
    normalize_keys,
    prepare_features,
    require_columns,
)
from ml.labels import CHURN_LABEL, CLV_LABEL, DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_DAYS
from ml.model import ModelKind, Task, version_of

# Validation metrics by name (None where the validation snapshot leaves a metric undefined) and notes
# saying why each missing one is missing.
ValidationMetrics = tuple[dict[str, float | None], tuple[str, ...]]

# The month of the year of the snapshot (1-12): seasonality, used once the labelled snapshots cover a year.
SEASON_FEATURE = "snapshot_month"

# Bounds of the baseline before it goes on the raw scale: a BG/NBD P(no order) of exactly 0 or 1, or a
# revenue of 0, would have an infinite logit or log.
_OFFSET_EPSILON = 1e-4
_MIN_REVENUE = 0.01


@dataclass(frozen=True)
class BoostingConfig:
    """LightGBM settings shared by both models.

    `n_estimators` caps the boosting rounds; early stopping usually ends sooner. Trees are shallow (see
    the module docstring): they correct a baseline rather than build the prediction alone.
    `deterministic` with a fixed `seed` and `num_threads` gives the same booster bit for bit; one thread
    by default because the orchestrator runs steps side by side and oversubscribed OpenMP threads slow
    LightGBM down far more than they help at this data size.
    """

    num_leaves: int = 7
    max_depth: int = 3
    learning_rate: float = 0.05
    n_estimators: int = 2000
    early_stopping_rounds: int = 50
    min_child_samples: int = 100
    feature_fraction: float = 0.8
    lambda_l2: float = 5.0
    seed: int = 20240101
    deterministic: bool = True
    num_threads: int = 1


@dataclass(frozen=True)
class ChurnTrainConfig(BoostingConfig):
    """Churn = no order in [T, T + horizon_days)."""

    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS


@dataclass(frozen=True)
class ClvTrainConfig(BoostingConfig):
    """CLV = net revenue in [T, T + horizon_days).

    Objective: Tweedie with a log link. Future spend is zero for many customers and heavily right-skewed
    for the rest; a compound Poisson-gamma (variance power between 1 and 2) models exactly that mass at
    zero plus a continuous tail, and its log link keeps predictions positive. Squared error would chase
    the few big spenders and can predict negative revenue.
    """

    horizon_days: int = DEFAULT_CLV_HORIZON_DAYS
    tweedie_variance_power: float = 1.5


@dataclass(frozen=True)
class TrainedModel:
    """A fitted booster with everything needed to score new snapshots the way it was trained.

    `metrics` come from the early-stopped booster on `validation_snapshot_date`, which it did not see; a
    metric the validation snapshot leaves undefined (AUC of a single class, Gini of zero revenue) is None,
    and `metric_notes` says why. `booster` is the refit on all `training_snapshot_dates` (validation date
    included) with `best_iteration` rounds; `n_training_rows` counts its rows, validation rows included.
    `model_version` ('<task>-lgbm-<hash>') is a hash of config, horizon, training data, feature list,
    category levels and LightGBM version: the same inputs always give the same version.
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
    metrics: Mapping[str, float | None]
    metric_notes: tuple[str, ...]
    model_version: str
    config: BoostingConfig
    # None: the booster alone. 'btyd': it boosts from the BTYD baseline (module docstring); rows the
    # baseline could not score start from `offset_fill`, the training rows' mean on the raw scale.
    baseline: str | None = None
    offset_fill: float = 0.0
    # The early-stopped booster's predictions for the validation rows (customer_id, actual, predicted):
    # held out, so they are what promotion and the report judge the model by. Not stored with the model.
    validation: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)
    # Churn only: the monotone map from the booster's probability to the one scored
    # (`ml.calibration.cross_checked_calibrator`, fitted on the validation snapshot; identity when
    # calibrating did not help), as `Calibrator.to_dict`.
    calibration: Mapping[str, Any] | None = None
    calibration_note: str = ""

    @property
    def kind(self) -> ModelKind:
        """Which kind of model this is (`ScoringModel`): always 'lightgbm'."""
        return "lightgbm"

    def model_input(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of `frame` prepared with this model's category levels, in model order."""
        return model_input(frame, self.features, self.category_levels)

    def offset(self, frame: pd.DataFrame) -> np.ndarray:
        """The raw-scale start of each row's prediction: the BTYD baseline, or 0 without one."""
        if self.baseline is None:
            return np.zeros(len(frame))
        return baseline_offset(self.task, frame, self.offset_fill)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """One prediction per row of a `customer_features` frame (with the BTYD columns when the model
        boosts from them): churn probability in [0, 1], or expected net revenue over the CLV horizon
        (currency units, > 0)."""
        raw = self.booster.predict(
            self.model_input(frame), raw_score=True, num_threads=self.config.num_threads
        )
        prediction = _inverse_link(self.task, np.asarray(raw) + self.offset(frame))
        if self.calibration is None:
            return prediction
        return Calibrator.from_dict(self.calibration).apply(prediction)


def model_input(
    frame: pd.DataFrame, features: Iterable[str], category_levels: Mapping[str, Iterable[str]]
) -> pd.DataFrame:
    """`prepare_features` plus, when `features` include them, the BTYD columns as float64 and the month of
    the snapshot date (`SEASON_FEATURE`, 1-12), in `features` order."""
    columns = list(features)
    prepared = prepare_features(frame, {k: tuple(v) for k, v in category_levels.items()})
    extra = [column for column in columns if column in BTYD_FEATURES]
    if extra:
        require_columns(frame, extra)
        for column in extra:
            prepared[column] = as_float64(frame[column])
    if SEASON_FEATURE in columns:
        prepared[SEASON_FEATURE] = prepared["snapshot_date"].dt.month.astype("float64")
    return prepared[columns]


def sees_every_season(snapshot_dates: Iterable[pd.Timestamp]) -> bool:
    """Whether labelled snapshots fall in all twelve months of the year: only then can the trees learn
    what the month of the scoring date does (a Christmas quarter), instead of treating an unseen month
    like the nearest one they saw."""
    return len({pd.Timestamp(date).month for date in snapshot_dates}) == 12


def has_btyd_features(frame: pd.DataFrame) -> bool:
    """Whether `frame` carries the BTYD baseline's columns (`ml.btyd.BTYD_FEATURES`)."""
    return all(column in frame.columns for column in BTYD_FEATURES)


def baseline_offset(task: Task, frame: pd.DataFrame, fill: float) -> np.ndarray:
    """The BTYD prediction of each row on the booster's raw scale: logit of P(no order) for churn, log of
    expected revenue for CLV; `fill` where the baseline has none (no orders, or no fit at that snapshot).
    Probabilities and revenue are clipped away from 0 and 1 so the raw scale stays finite."""
    if task == "churn":
        probability = np.clip(as_float64(frame["btyd_p_no_order"]), _OFFSET_EPSILON, 1 - _OFFSET_EPSILON)
        raw = special.logit(probability)
    else:
        raw = np.log(np.clip(as_float64(frame["btyd_expected_revenue"]), _MIN_REVENUE, None))
    return np.where(np.isnan(raw), fill, raw)


def _inverse_link(task: Task, raw: np.ndarray) -> np.ndarray:
    return np.asarray(special.expit(raw) if task == "churn" else np.exp(raw))


def _raw_mean(task: Task, target: np.ndarray) -> float:
    """The training rows' mean on the raw scale: where a row without a baseline starts."""
    mean = float(np.mean(target))
    if task == "churn":
        return float(special.logit(np.clip(mean, _OFFSET_EPSILON, 1 - _OFFSET_EPSILON)))
    return float(np.log(max(mean, _MIN_REVENUE)))


def train_churn_model(
    features: pd.DataFrame, labels: pd.DataFrame, config: ChurnTrainConfig | None = None
) -> TrainedModel:
    """Fit P(no order in the next `config.horizon_days`) on labelled snapshots (binary log-loss).

    `features`: `customer_features` rows of at least two snapshot dates; `labels`: customer_id,
    snapshot_date, churned (0/1) for exactly those rows (see `ml.labels.churn_labels`). Metrics:
    validation_auc, validation_logloss, validation_top_decile_lift, validation_churn_rate,
    validation_calibration_max_gap. `lightgbm_blocker` says beforehand whether the rows suffice.
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
    """Fit expected net revenue over the next `config.horizon_days` on labelled snapshots (Tweedie, log link).

    `features` and `labels` (customer_id, snapshot_date, future_net_revenue) as for `train_churn_model`.
    Negative future revenue (refunds exceeding purchases) is trained as 0: Tweedie needs non-negative
    targets and a customer who only returns goods is worth nothing, not less. Metrics:
    validation_normalized_gini, validation_top_decile_lift, validation_mean_predicted, validation_mean_actual.
    """
    settings = config or ClvTrainConfig()
    return _train(
        "clv",
        settings.horizon_days,
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


def lightgbm_blocker(
    task: Task,
    labels: pd.DataFrame,
    snapshot_dates: Iterable[pd.Timestamp],
    scoring_date: pd.Timestamp,
    horizon_days: int,
    min_child_samples: int,
) -> str | None:
    """Why LightGBM cannot be trained on `labels`, in plain words naming what it needs and what it found,
    or None if it can.

    `labels`: snapshot_date and the label (`churned` for churn, `future_net_revenue` for CLV) of every
    training row, as `ml.labels` makes them; `snapshot_dates`: every snapshot date up to `scoring_date`
    (only for the message). The latest labelled snapshot is held out for validation, so the rows before it
    are the ones the booster fits ("training rows" below). LightGBM needs, in this order: at least 2
    labelled snapshot dates; at least 2 x `min_child_samples` training rows (fewer cannot be split into
    two leaves); for churn, both churned and retained customers among them; for CLV, some positive
    future revenue among them.
    """
    label_dates = as_timestamps(labels["snapshot_date"])
    labelled = sorted(set(label_dates))
    if len(labelled) < 2:
        available = sorted({pd.Timestamp(date) for date in snapshot_dates})
        span = (
            f"snapshots from {available[0].date()} to {available[-1].date()}" if available else "no snapshots"
        )
        return (
            f"LightGBM needs at least 2 snapshots whose {horizon_days}-day outcome window ends by the "
            f"scoring date {pd.Timestamp(scoring_date).date()}; found {len(labelled)} ({span})"
        )
    validation_date = labelled[-1].date()
    fit = labels.loc[(label_dates < labelled[-1]).to_numpy()]
    needed = 2 * min_child_samples
    if len(fit) < needed:
        return (
            f"LightGBM needs at least {needed} training rows (2 x min_child_samples={min_child_samples}) "
            f"in the snapshots before the validation snapshot {validation_date}; found {len(fit)}"
        )
    if task == "churn":
        churned = fit[CHURN_LABEL].to_numpy(dtype="int64")
        if churned.min() == churned.max():
            outcome = "churned" if churned[0] == 1 else "retained"
            return (
                f"LightGBM needs both churned and retained customers in the training rows before the "
                f"validation snapshot {validation_date}; all {len(fit)} are {outcome}"
            )
    elif not (fit[CLV_LABEL].to_numpy(dtype="float64") > 0).any():
        return (
            f"LightGBM needs some customers with positive {horizon_days}-day future revenue in the training "
            f"rows before the validation snapshot {validation_date}; found none in {len(fit)} rows"
        )
    return None


def _churn_metrics(actual: np.ndarray, predicted: np.ndarray) -> ValidationMetrics:
    clipped = np.clip(predicted, 1e-15, 1 - 1e-15)
    logloss = -np.mean(actual * np.log(clipped) + (1 - actual) * np.log(1 - clipped))
    calibration = calibration_summary(actual, predicted)
    metrics: dict[str, float | None] = {
        "validation_auc": None,
        "validation_logloss": float(logloss),
        "validation_top_decile_lift": None,
        "validation_churn_rate": float(actual.mean()),
        # Largest gap between predicted and observed churn rate over the ten probability deciles.
        "validation_calibration_max_gap": float(
            (calibration["mean_predicted"] - calibration["mean_actual"]).abs().max()
        ),
    }
    notes = []
    if np.unique(actual).size == 2:
        metrics["validation_auc"] = roc_auc(actual, predicted)
    else:
        outcome = "churned" if actual.mean() == 1 else "retained"
        notes.append(f"validation_auc undefined: all {actual.size} validation customers {outcome}")
    if actual.mean() > 0:
        metrics["validation_top_decile_lift"] = top_decile_lift(actual, predicted)
    else:
        notes.append("validation_top_decile_lift undefined: no validation customer churned")
    return metrics, tuple(notes)


def _clv_metrics(actual: np.ndarray, predicted: np.ndarray) -> ValidationMetrics:
    metrics: dict[str, float | None] = {
        "validation_normalized_gini": None,
        "validation_top_decile_lift": None,
        "validation_mean_predicted": float(predicted.mean()),
        "validation_mean_actual": float(actual.mean()),
    }
    notes = []
    if np.ptp(actual) > 0:
        metrics["validation_normalized_gini"] = normalized_gini(actual, predicted)
    else:
        notes.append(
            f"validation_normalized_gini undefined: all {actual.size} validation customers have the same "
            f"actual revenue ({actual[0]:.2f}), so there is no order to rank"
        )
    if actual.mean() > 0:  # `actual` is clipped at 0: a zero mean means nobody spent anything
        metrics["validation_top_decile_lift"] = top_decile_lift(actual, predicted)
    else:
        notes.append("validation_top_decile_lift undefined: no validation customer has positive revenue")
    return metrics, tuple(notes)


def _train(
    task: Task,
    horizon_days: int,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    label_column: str,
    config: BoostingConfig,
    objective: Mapping[str, Any],
    validation_metrics: Callable[[np.ndarray, np.ndarray], ValidationMetrics],
) -> TrainedModel:
    levels = category_levels_from(features)
    baseline = "btyd" if has_btyd_features(features) else None
    season = (SEASON_FEATURE,) if sees_every_season(as_timestamps(labels["snapshot_date"]).unique()) else ()
    model_features = FEATURES + (BTYD_FEATURES if baseline else ()) + season
    prepared = model_input(features, KEY_COLUMNS + model_features, levels)
    if baseline:
        prepared["_offset"] = baseline_offset(task, features, np.nan)
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
    inputs = labelled[list(model_features)]
    offset_fill = _raw_mean(task, target[~is_validation])
    offset = labelled["_offset"].fillna(offset_fill).to_numpy() if baseline else np.zeros(len(labelled))

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
        "force_col_wise": config.deterministic,  # as deterministic as row-wise, and faster on many rows
        "num_threads": config.num_threads,
        "verbosity": -1,
    }
    train_set = lgb.Dataset(
        inputs.loc[~is_validation],
        target[~is_validation],
        init_score=offset[~is_validation],
        free_raw_data=False,
    )
    validation_set = lgb.Dataset(
        inputs.loc[is_validation],
        target[is_validation],
        init_score=offset[is_validation],
        reference=train_set,
    )
    early_stopped = lgb.train(
        params,
        train_set,
        num_boost_round=config.n_estimators,
        valid_sets=[validation_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best_iteration = int(early_stopped.best_iteration)
    validation_raw = early_stopped.predict(
        inputs.loc[is_validation],
        num_iteration=best_iteration,
        raw_score=True,
        num_threads=config.num_threads,
    )
    validation_prediction = _inverse_link(task, np.asarray(validation_raw) + offset[is_validation])
    metrics, notes = validation_metrics(target[is_validation], validation_prediction)
    calibration, calibration_note = None, ""
    if task == "churn":
        fold = (
            pd.util.hash_pandas_object(labelled.loc[is_validation, "customer_id"], index=False).to_numpy() % 2
        )
        calibrator, calibration_note = cross_checked_calibrator(
            validation_prediction, target[is_validation], fold == 0
        )
        calibration = calibrator.to_dict()
    booster = lgb.train(
        params, lgb.Dataset(inputs, target, init_score=offset), num_boost_round=best_iteration
    )

    recipe = {
        "config": dataclasses.asdict(config),
        "horizon_days": horizon_days,
        "objective": dict(objective),
        "features": model_features,
        "category_levels": levels,
        "lightgbm": lgb.__version__,
        "baseline": baseline,
    }
    return TrainedModel(
        task=task,
        horizon_days=horizon_days,
        booster=booster,
        features=model_features,
        category_levels=levels,
        training_snapshot_dates=snapshot_dates,
        validation_snapshot_date=validation_date,
        best_iteration=best_iteration,
        n_training_rows=len(labelled),
        n_validation_rows=int(is_validation.sum()),
        metrics=metrics,
        metric_notes=notes,
        model_version=version_of(f"{task}-lgbm", recipe, labelled.drop(columns="_offset", errors="ignore")),
        config=config,
        baseline=baseline,
        offset_fill=offset_fill,
        calibration=calibration,
        calibration_note=calibration_note,
        validation=pd.DataFrame(
            {
                "customer_id": labelled.loc[is_validation, "customer_id"].to_numpy(),
                "actual": target[is_validation],
                "predicted": validation_prediction,
            }
        ),
    )
