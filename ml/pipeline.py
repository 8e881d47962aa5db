"""The two entry points orchestration calls: label, train, score (and explain) one model for one scoring date.

Time semantics: everything is relative to `scoring_date`. Orders are taken to be complete before it, so a
snapshot T is a training row only if its label window [T, T + horizon) ends on or before the scoring date;
the scoring-date snapshot itself is scored. Orders at or after the scoring date are never read, which
makes a backfill for a past date see exactly what a run on that date saw.

Which model scores: LightGBM when `ml.train.lightgbm_blocker` finds the labelled history enough to train
on; else the BTYD baseline of `ml.btyd` fitted on the scoring snapshot, which needs no labels, only
enough repeat customers; else the run-rate model of `ml.baseline`, which needs nothing. Either way every
customer at the scoring snapshot is scored, and the result says which model scored and why
(`model_kind`, `fallback_reason`), so too short a history degrades the scores instead of stopping the
pipeline.

The BTYD baseline is also LightGBM's starting point and features (`ml.train`): it is fitted on every
snapshot's rows separately, so a training row sees only what its snapshot date saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.baseline import RunRateModel, run_rate_model
from ml.btyd import BtydModel, btyd_features_by_snapshot, btyd_model, fit_btyd
from ml.drift import WARN_AT, profile, profile_drift_report
from ml.explain import ReasonCodePlan, explain_churn_scores, explain_clv_scores, no_reasons
from ml.features import FEATURES, KEY_COLUMNS, as_ids, require_columns, snapshot_dates_of
from ml.labels import ORDER_COLUMNS, churn_labels, clv_labels, labelable_snapshot_dates
from ml.model import ModelKind, ScoringModel, Task
from ml.registry import (
    DEFAULT_GINI_MARGIN,
    DEFAULT_LOG_LOSS_MARGIN,
    DEFAULT_SPEND_ERROR_TOLERANCE,
    Decision,
    decide,
    metrics_of,
)
from ml.score import RISK_BANDS, RiskBands, score_churn_rows, score_clv_rows, snapshot_rows
from ml.train import (
    SEASON_FEATURE,
    ChurnTrainConfig,
    ClvTrainConfig,
    TrainedModel,
    lightgbm_blocker,
    train_churn_model,
    train_clv_model,
)

Metrics = dict[str, float | int | str | None]
FittedModel = TrainedModel | BtydModel | RunRateModel


@dataclass(frozen=True)
class Promotion:
    """When a newly trained model replaces the champion (`ml.registry.decide`): churn log loss lower by
    the relative `log_loss_margin`; CLV normalized Gini higher by `gini_margin` with |total spend error|
    no worse than the champion's + `spend_error_tolerance`."""

    log_loss_margin: float = DEFAULT_LOG_LOSS_MARGIN
    gini_margin: float = DEFAULT_GINI_MARGIN
    spend_error_tolerance: float = DEFAULT_SPEND_ERROR_TOLERANCE


@dataclass(frozen=True)
class HoldoutComparison:
    """The new model, the BTYD baseline and the champion (when there is one) on the same most recent fully
    observed holdout: the validation snapshot, which the new model's early-stopped booster did not fit.

    `actual` (churned 0/1 or future revenue) and `predictions` (series label -> array) are row-aligned
    for `customer_ids`; `metrics` (series label -> `ml.registry.metrics_of`) is what promotion compares.
    `champion_note` says why the champion is missing (none yet, or it cannot score these rows).
    """

    evaluated_on: pd.Timestamp
    customer_ids: np.ndarray
    actual: np.ndarray
    predictions: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float]]
    champion_note: str = ""


@dataclass(frozen=True)
class DriftLimits:
    """Population stability index limits (`ml.drift`): `warn_at` warns, `block_at` keeps the new scores
    from being published; None (the default) never blocks. A customer base that does not renew drifts
    by construction as it ages (on the CDNOW cohort, three months after the last training snapshot:
    tenure PSI 8.4, recency 2.5, the churn scores 2.1, while the model beats every reference there), so
    blocking is for a base in steady state, where such a shift means broken inputs."""

    warn_at: float = WARN_AT
    block_at: float | None = None


# The column a drift profile gives the model's scores, beside the model inputs.
SCORE_COLUMN = "score"

NEW_MODEL = "new model"
BTYD_BASELINE = "BTYD baseline"
CHAMPION = "current champion"


@dataclass(frozen=True)
class ChurnConfig:
    """Everything that shapes a churn run. `max_training_rows` bounds memory and training time on big
    customer bases: beyond it, whole customers are sampled (see `training_customer_sample`). Boosting
    time grows with the rows (about 50 ms a round per million rows on 2 cores, for up to 2 x 2,000
    rounds with the refit), while the shallow trees correcting a BTYD baseline gain little past a few
    hundred thousand rows."""

    train: ChurnTrainConfig = field(default_factory=ChurnTrainConfig)
    risk_bands: RiskBands = field(default_factory=RiskBands)
    reason_codes: ReasonCodePlan = field(default_factory=ReasonCodePlan)
    max_training_rows: int = 300_000
    promotion: Promotion = field(default_factory=Promotion)
    drift: DriftLimits = field(default_factory=DriftLimits)


@dataclass(frozen=True)
class ClvConfig:
    """Everything that shapes a CLV run; `max_training_rows` as in `ChurnConfig`."""

    train: ClvTrainConfig = field(default_factory=ClvTrainConfig)
    reason_codes: ReasonCodePlan = field(default_factory=ReasonCodePlan)
    max_training_rows: int = 300_000
    promotion: Promotion = field(default_factory=Promotion)
    drift: DriftLimits = field(default_factory=DriftLimits)


@dataclass(frozen=True)
class ScoringResult:
    """What one run produced: `scores` (one row per customer at the scoring snapshot), the `model` that
    scored them, `fallback_reason` (None when LightGBM scored, else why it could not and which model did) and
    `metrics` for the run's metadata.

    `metrics` always holds model_kind and fallback_reason as strings ('' when LightGBM scored),
    model_version, horizon_days and n_scored; after LightGBM also its validation metrics (None where the
    validation snapshot leaves one undefined, with validation_notes saying why), best_iteration, row and
    snapshot counts, first_training_snapshot and validation_snapshot.
    """

    scores: pd.DataFrame
    model: ScoringModel
    fallback_reason: str | None
    metrics: Metrics
    # The model trained in this run (None when LightGBM could not train), whether it became champion and
    # why, and the holdout both were judged on; `model` is the champion that scored.
    challenger: TrainedModel | None = None
    decision: Decision | None = None
    holdout: HoldoutComparison | None = None
    # The new model's drift profile (its inputs and scores on its latest training snapshot), to store with
    # it; and the scoring snapshot against the scoring model's profile (None without one).
    profile: dict[str, Any] | None = None
    drift: pd.DataFrame | None = None

    @property
    def model_kind(self) -> ModelKind:
        """'lightgbm', 'btyd' or 'run_rate': which model scored."""
        return self.model.kind


@dataclass(frozen=True)
class ChurnResult(ScoringResult):
    """`scores`: customer_id, scoring_date, horizon_days, churn_probability, risk_band, model_version,
    reason_1..reason_3 (null outside the reason-code plan, and always null from the run-rate model).
    `metrics` add n_explained and n_low_risk, n_medium_risk, n_high_risk."""


@dataclass(frozen=True)
class ClvResult(ScoringResult):
    """`scores`: customer_id, scoring_date, horizon_days, predicted_revenue, clv_decile, model_version and
    the value reasons (`ml.explain.explain_clv_scores`)."""


def fit_and_score_churn(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp,
    config: ChurnConfig | None = None,
    champion: ScoringModel | None = None,
    champion_profile: Mapping[str, Any] | None = None,
    train: bool = True,
) -> ChurnResult:
    """Train the churn model on every fully labelled snapshot before `scoring_date` (or fall back, module
    docstring), let it challenge `champion` (`challenge`), then score and explain the snapshot at
    `scoring_date` with whichever is champion.

    `features`: the `customer_features` mart (all snapshots); `orders`: `fct_orders`, complete before
    `scoring_date`. With `train` False (`training_due` found no need) the champion scores alone: nothing
    is trained and only the scoring snapshot is read. Does not raise for too little history or a degenerate training set (a baseline
    scores), nor for an empty scoring snapshot (empty scores, with the reason); raises ValueError for
    missing columns and other bad input.
    """
    settings = config or ChurnConfig()
    scoring = pd.Timestamp(scoring_date)
    fitted = _fitted(features, orders, scoring, settings.train, settings.max_training_rows, champion, train)
    model, holdout, decision = challenge(fitted, champion, settings.promotion, scoring)
    scores = score_churn_rows(model, fitted.at_scoring, scoring, settings.risk_bands)
    new_profile, drift = _drift(fitted, model, champion_profile, scores["churn_probability"], settings.drift)
    scores = _with_reasons(scores, model, fitted.at_scoring, settings.reason_codes, explain_churn_scores)
    metrics = _run_metrics(model, fitted.fallback_reason, scores, decision)
    metrics["n_explained"] = int(scores["reason_1"].notna().sum())
    for band in RISK_BANDS:
        metrics[f"n_{band}_risk"] = int((scores["risk_band"] == band).sum())
    return ChurnResult(
        scores=scores,
        model=model,
        fallback_reason=fitted.fallback_reason,
        metrics=metrics,
        challenger=fitted.trained,
        decision=decision,
        holdout=holdout,
        profile=new_profile,
        drift=drift,
    )


def fit_and_score_clv(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp,
    config: ClvConfig | None = None,
    champion: ScoringModel | None = None,
    champion_profile: Mapping[str, Any] | None = None,
    train: bool = True,
) -> ClvResult:
    """Train the CLV model on every snapshot at least `config.train.horizon_days` before `scoring_date`,
    let it challenge `champion`, then score and explain the snapshot at `scoring_date`. Inputs, errors
    and metrics as for `fit_and_score_churn` (without the churn-only counts)."""
    settings = config or ClvConfig()
    scoring = pd.Timestamp(scoring_date)
    fitted = _fitted(features, orders, scoring, settings.train, settings.max_training_rows, champion, train)
    model, holdout, decision = challenge(fitted, champion, settings.promotion, scoring)
    scores = score_clv_rows(model, fitted.at_scoring, scoring)
    new_profile, drift = _drift(fitted, model, champion_profile, scores["predicted_revenue"], settings.drift)
    scores = _with_reasons(scores, model, fitted.at_scoring, settings.reason_codes, explain_clv_scores)
    return ClvResult(
        scores=scores,
        model=model,
        fallback_reason=fitted.fallback_reason,
        metrics=_run_metrics(model, fitted.fallback_reason, scores, decision),
        challenger=fitted.trained,
        decision=decision,
        holdout=holdout,
        profile=new_profile,
        drift=drift,
    )


def _with_reasons(
    scores: pd.DataFrame,
    model: ScoringModel,
    at_scoring: pd.DataFrame,
    plan: ReasonCodePlan,
    explain: Callable[[TrainedModel, pd.DataFrame, pd.DataFrame, ReasonCodePlan], pd.DataFrame],
) -> pd.DataFrame:
    """`scores` with the reason columns: explained by LightGBM's attribution, null from a baseline."""
    reasons = (
        explain(model, at_scoring, scores, plan)
        if isinstance(model, TrainedModel)
        else no_reasons(scores["customer_id"], plan)
    )
    return pd.concat([scores, reasons.drop(columns="customer_id")], axis=1)


def drift_profile(model: TrainedModel, rows: pd.DataFrame) -> dict[str, Any]:
    """The `ml.drift` profile of `model`'s inputs and its scores on `rows` (its latest training snapshot):
    what later scoring populations are compared with."""
    # The month of the snapshot differs between a training snapshot and the scoring date by design.
    inputs = [feature for feature in model.features if feature != SEASON_FEATURE]
    frame = rows[inputs].assign(**{SCORE_COLUMN: model.predict(rows)})
    return profile(frame, [*inputs, SCORE_COLUMN])


def _drift(
    fitted: _Fitted,
    scoring_model: ScoringModel,
    champion_profile: Mapping[str, Any] | None,
    scores: pd.Series,
    limits: DriftLimits,
) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    """The new model's profile, and the scoring snapshot's drift from the profile of the model that
    scored (the new one's when it was promoted, `champion_profile` when the champion scored)."""
    new = fitted.trained
    new_profile = (
        drift_profile(new, fitted.validation_rows)
        if new is not None and fitted.validation_rows is not None
        else None
    )
    reference = new_profile if new is not None and scoring_model is new else champion_profile
    if reference is None or fitted.at_scoring.empty:
        return new_profile, None
    current = fitted.at_scoring.assign(**{SCORE_COLUMN: scores.to_numpy()})
    block_at = math.inf if limits.block_at is None else limits.block_at
    return new_profile, profile_drift_report(reference, current, limits.warn_at, block_at)


@dataclass(frozen=True)
class _Fitted:
    """What `_fit_model` made: the model, why it is not LightGBM (None when it is), the scoring rows and
    the validation snapshot's rows, both with the BTYD columns the models read."""

    model: ScoringModel
    fallback_reason: str | None
    at_scoring: pd.DataFrame
    validation_rows: pd.DataFrame | None = None
    trained_now: bool = True  # False when the champion scores without a new model

    @property
    def trained(self) -> TrainedModel | None:
        """The LightGBM model this run trained, if it trained one."""
        return self.model if self.trained_now and isinstance(self.model, TrainedModel) else None


def challenge(
    fitted: _Fitted, champion: ScoringModel | None, promotion: Promotion, scoring_date: pd.Timestamp
) -> tuple[ScoringModel, HoldoutComparison | None, Decision | None]:
    """Which model scores: the new LightGBM model if `ml.registry.decide` promotes it over `champion` on
    the holdout they share (`compare_on_holdout`), else the champion. A fallback model (LightGBM could
    not train) scores without a contest: it is no candidate for champion, and a champion trained on
    another history may not fit this one."""
    new = fitted.trained
    if new is None or fitted.validation_rows is None:
        return fitted.model, None, None
    holdout = compare_on_holdout(new, champion, fitted.validation_rows, scoring_date)
    margin = promotion.log_loss_margin if new.task == "churn" else promotion.gini_margin
    decision = decide(
        holdout.metrics[NEW_MODEL],
        holdout.metrics.get(CHAMPION),
        margin,
        task=new.task,
        spend_error_tolerance=promotion.spend_error_tolerance,
    )
    if CHAMPION not in holdout.metrics:
        decision = Decision(True, f"promoted: {holdout.champion_note}")
    if decision.promote or champion is None:
        return new, holdout, decision
    return champion, holdout, decision


def compare_on_holdout(
    new: TrainedModel,
    champion: ScoringModel | None,
    validation_rows: pd.DataFrame,
    scoring_date: pd.Timestamp,
) -> HoldoutComparison:
    """`new` (its early-stopped booster's held-out predictions), the BTYD baseline and `champion` on the
    validation snapshot's customers. The champion sits out, with the reason in `champion_note`, when it
    is for another task or horizon, learned from outcomes on or after `scoring_date` (a run for a past
    date must see only what a run on that date saw), or cannot score these rows (it lacks columns)."""
    assert new.validation is not None, "a freshly trained model carries its validation predictions"
    ids = as_ids(new.validation["customer_id"]).to_numpy()
    rows = validation_rows.set_axis(as_ids(validation_rows["customer_id"]).to_numpy()).loc[ids]
    actual = new.validation["actual"].to_numpy(dtype="float64")
    baseline = btyd_model_predictions(new.task, rows)
    predictions = {NEW_MODEL: new.validation["predicted"].to_numpy(dtype="float64"), BTYD_BASELINE: baseline}
    note = "no champion yet"
    if champion is not None:
        note = ""
        if (champion.task, champion.horizon_days) != (new.task, new.horizon_days):
            note = f"the champion {champion.model_version} is for another task or horizon"
        elif isinstance(champion, TrainedModel) and _outcomes_seen_until(champion) > scoring_date:
            note = (
                f"the champion {champion.model_version} learned from outcomes up to "
                f"{_outcomes_seen_until(champion).date()}, after the scoring date {scoring_date.date()}"
            )
        else:
            try:
                predictions[CHAMPION] = np.asarray(champion.predict(rows), dtype="float64")
            except (KeyError, ValueError) as error:
                note = f"the champion {champion.model_version} cannot score this history ({error})"
    return HoldoutComparison(
        evaluated_on=new.validation_snapshot_date,
        customer_ids=ids,
        actual=actual,
        predictions=predictions,
        metrics={label: metrics_of(new.task, actual, values) for label, values in predictions.items()},
        champion_note=note,
    )


def _outcomes_seen_until(model: TrainedModel) -> pd.Timestamp:
    """The end of the latest outcome window `model` was trained on."""
    return max(model.training_snapshot_dates) + pd.Timedelta(days=model.horizon_days)


def btyd_model_predictions(task: Task, rows: pd.DataFrame) -> np.ndarray:
    """The BTYD baseline's prediction from the BTYD columns of `rows`, as `ml.btyd.BtydModel` makes it:
    customers it cannot score churn (1.0) and spend nothing."""
    if task == "churn":
        return rows["btyd_p_no_order"].fillna(1.0).to_numpy(dtype="float64")
    return rows["btyd_expected_revenue"].fillna(0.0).to_numpy(dtype="float64")


def training_due(
    champion: ScoringModel | None,
    last_trained_for: pd.Timestamp | None,
    scoring_date: pd.Timestamp,
    horizon_days: int,
    every_days: int,
) -> str | None:
    """Why this run trains a new model, or None when the champion scores alone.

    Training is the costly part of a run and its outcome changes little from one day to the next, so a
    daily refresh scores with the champion and a new model challenges it every `every_days` days:
    counted from `last_trained_for`, the latest scoring date a model of the task was trained for. A
    champion that cannot score this date (none yet, another horizon, or outcomes seen after a past
    scoring date) always sends the run to training.
    """
    if champion is None:
        return "no champion yet"
    if not isinstance(champion, TrainedModel) or champion.horizon_days != horizon_days:
        return (
            f"the champion {champion.model_version} is not a LightGBM model for a {horizon_days}-day horizon"
        )
    if _outcomes_seen_until(champion) > scoring_date:
        return f"the champion {champion.model_version} learned from outcomes after {scoring_date.date()}"
    if last_trained_for is None or scoring_date - last_trained_for >= pd.Timedelta(days=every_days):
        since = "never" if last_trained_for is None else f"for {last_trained_for.date()}"
        return f"the last model was trained {since}; models.retrain_every_days is {every_days}"
    return None


def _fitted(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp,
    config: ChurnTrainConfig | ClvTrainConfig,
    max_training_rows: int,
    champion: ScoringModel | None,
    train: bool,
) -> _Fitted:
    """A new model (`_fit_model`), or with `train` False the champion and the scoring rows it reads."""
    if train or champion is None:
        return _fit_model(features, orders, scoring_date, config, max_training_rows)
    require_columns(features, KEY_COLUMNS + FEATURES)
    at_scoring = with_btyd_features(snapshot_rows(features, scoring_date), config.horizon_days)
    return _Fitted(champion, None, at_scoring, trained_now=False)


def _fit_model(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp,
    config: ChurnTrainConfig | ClvTrainConfig,
    max_training_rows: int,
) -> _Fitted:
    """The model for the task of `config` (module docstring), with the reason when it is not LightGBM."""
    # Bad input fails every run alike, whichever model would have scored.
    require_columns(features, KEY_COLUMNS + FEATURES)
    require_columns(orders, ORDER_COLUMNS, "orders frame")
    task: Task = "churn" if isinstance(config, ChurnTrainConfig) else "clv"
    horizon_days = config.horizon_days
    at_scoring = snapshot_rows(features, scoring_date)
    if at_scoring.empty:
        return _Fitted(
            run_rate_model(task, horizon_days, at_scoring),
            f"the features have no customers at the scoring date {scoring_date.date()}: nothing to score",
            at_scoring,
        )
    at_scoring = with_btyd_features(at_scoring, horizon_days)
    training = training_rows(features, scoring_date, horizon_days, max_training_rows)
    labels = (churn_labels if task == "churn" else clv_labels)(training, orders, scoring_date, horizon_days)
    snapshot_dates = snapshot_dates_of(features)
    blocker = lightgbm_blocker(
        task,
        labels,
        snapshot_dates.loc[snapshot_dates <= scoring_date].unique(),
        scoring_date,
        horizon_days,
        config.min_child_samples,
    )
    if blocker is not None:
        model, reason = baseline_model(task, horizon_days, at_scoring)
        return _Fitted(model, f"{blocker}; {reason}", at_scoring)
    training = with_btyd_features(training, horizon_days)
    trained = (
        train_churn_model(training, labels, config)
        if isinstance(config, ChurnTrainConfig)
        else train_clv_model(training, labels, config)
    )
    validation_rows = training.loc[
        (snapshot_dates_of(training) == trained.validation_snapshot_date).to_numpy()
    ]
    return _Fitted(trained, None, at_scoring, validation_rows)


def with_btyd_features(rows: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """`rows` with `ml.btyd.BTYD_FEATURES` appended, each snapshot's from a BTYD fit on that snapshot's
    rows alone; NaN where a snapshot could not be fitted (LightGBM then starts from its mean there)."""
    predictions, _ = btyd_features_by_snapshot(rows, horizon_days)
    extra = predictions.drop(columns=list(KEY_COLUMNS)).set_axis(rows.index)
    return pd.concat([rows.drop(columns=extra.columns, errors="ignore"), extra], axis=1)


def baseline_model(task: Task, horizon_days: int, at_scoring: pd.DataFrame) -> tuple[FittedModel, str]:
    """The model that scores when LightGBM cannot: BTYD fitted on the scoring snapshot, or the run-rate
    model when BTYD cannot be fitted either; with the words that say which and why."""
    try:
        fit = fit_btyd(at_scoring)
    except ValueError as error:
        return run_rate_model(task, horizon_days, at_scoring), f"the run-rate model scored ({error})"
    return btyd_model(task, horizon_days, fit), "the BTYD baseline (BG/NBD + Gamma-Gamma) scored"


def training_rows(
    features: pd.DataFrame, scoring_date: pd.Timestamp, horizon_days: int, max_rows: int
) -> pd.DataFrame:
    """The rows of `features` whose snapshot's label window ends on or before `scoring_date`, thinned to
    about `max_rows` by `training_customer_sample` when there are more."""
    snapshot_dates = snapshot_dates_of(features)
    dates = labelable_snapshot_dates(snapshot_dates.unique(), scoring_date, horizon_days)
    eligible = features.loc[snapshot_dates.isin(dates).to_numpy()]
    if len(eligible) <= max_rows:
        return eligible
    return eligible.loc[training_customer_sample(eligible["customer_id"], max_rows / len(eligible))]


def training_customer_sample(customer_ids: pd.Series, fraction: float) -> np.ndarray:
    """Boolean mask keeping about `fraction` of customers, decided by a hash of customer_id.

    Whole customers, so no customer's snapshots end up split; by hash, so the same customers are kept on
    every run and the sample (and the model version) does not change unless the data does.
    """
    hashes = pd.util.hash_pandas_object(as_ids(customer_ids), index=False).to_numpy()
    return np.asarray(hashes / np.float64(2**64) < fraction)


def _run_metrics(
    model: ScoringModel, fallback_reason: str | None, scores: pd.DataFrame, decision: Decision | None
) -> Metrics:
    metrics: Metrics = {
        "model_kind": model.kind,
        "fallback_reason": fallback_reason or "",
        "model_version": model.model_version,
        "horizon_days": model.horizon_days,
        "n_scored": len(scores),
    }
    if decision is not None:
        metrics["promotion"] = decision.reason
    if isinstance(model, TrainedModel):
        metrics.update(model.metrics)
        if model.metric_notes:
            metrics["validation_notes"] = "; ".join(model.metric_notes)
        if model.calibration_note:
            metrics["calibration"] = model.calibration_note
        metrics.update(
            {
                "best_iteration": model.best_iteration,
                "n_training_rows": model.n_training_rows,
                "n_validation_rows": model.n_validation_rows,
                "n_training_snapshots": len(model.training_snapshot_dates),
                "first_training_snapshot": model.training_snapshot_dates[0].date().isoformat(),
                "validation_snapshot": model.validation_snapshot_date.date().isoformat(),
            }
        )
    return metrics
