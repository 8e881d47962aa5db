"""Model quality metrics: ranking (AUC, normalized Gini, lift), calibration, and scores against ground truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score


def roc_auc(actual: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve of binary `actual` (0/1) ranked by `score`; ties count half.

    Raises ValueError if `actual` holds only one class, where AUC is undefined.
    """
    labels = np.asarray(actual)
    if np.unique(labels).size != 2:
        raise ValueError("roc_auc needs both classes in `actual`")
    return float(roc_auc_score(labels, np.asarray(score, dtype="float64")))


def gini_coefficient(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Gini of `actual` ordered by `predicted` descending: 2 x (area under the cumulative-share curve) - 1.

    Customers with equal predictions form one step of the curve (trapezoid), so the result does not depend
    on row order. Raises ValueError on NaN, on length mismatch, or if `actual` sums to zero.
    """
    values = np.asarray(actual, dtype="float64")
    ranking = np.asarray(predicted, dtype="float64")
    if values.shape != ranking.shape or values.ndim != 1:
        raise ValueError("actual and predicted must be 1-d and of equal length")
    if np.isnan(values).any() or np.isnan(ranking).any():
        raise ValueError("gini_coefficient does not accept NaN")
    total = values.sum()
    if total == 0:
        raise ValueError("gini_coefficient needs actual values that do not sum to zero")
    order = np.argsort(-ranking, kind="stable")
    sorted_ranking = ranking[order]
    last_of_each_tie = np.append(np.flatnonzero(np.diff(sorted_ranking) != 0), values.size - 1)
    cumulative_share = np.concatenate([[0.0], np.cumsum(values[order])[last_of_each_tie] / total])
    population_share = np.concatenate([[0.0], (last_of_each_tie + 1) / values.size])
    return float(2.0 * np.trapezoid(cumulative_share, population_share) - 1.0)


def normalized_gini(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Gini of the predicted ranking divided by the Gini of the perfect ranking: 1.0 = perfect order,
    0 = random, -1.0 = reversed. Only the order of `predicted` matters, not its scale, which is what a
    CLV model is judged on when it is used to pick the most valuable customers.

    Raises ValueError as `gini_coefficient` does, and if all `actual` values are equal (no order to rank).
    """
    perfect = gini_coefficient(actual, actual)
    if perfect == 0:
        raise ValueError("normalized_gini needs actual values that are not all equal")
    return gini_coefficient(actual, predicted) / perfect


def top_decile_lift(actual: ArrayLike, score: ArrayLike, fraction: float = 0.1) -> float:
    """Mean of `actual` over the top `fraction` of rows by `score` divided by the overall mean.

    For churn (0/1 actual) this is the churn-rate lift among the riskiest 10%; for CLV the revenue lift
    among the top 10%. Ties at the cut are broken by row order.
    """
    values = np.asarray(actual, dtype="float64")
    overall = values.mean()
    if overall == 0:
        raise ValueError("top_decile_lift needs a non-zero mean of actual")
    return float(values[_top_rows(score, fraction)].mean() / overall)


def calibration_summary(actual: ArrayLike, predicted: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed per quantile bin of `predicted` (bin 1 = lowest predictions).

    Columns: bin, n, mean_predicted, mean_actual; for churn mean_actual is the observed churn rate, so a
    calibrated model has the two means close in every bin.
    """
    frame = pd.DataFrame(
        {"actual": np.asarray(actual, dtype="float64"), "predicted": np.asarray(predicted, dtype="float64")}
    )
    bins = min(n_bins, len(frame))
    frame["bin"] = pd.qcut(frame["predicted"].rank(method="first"), bins, labels=False) + 1
    return (
        frame.groupby("bin")
        .agg(n=("actual", "size"), mean_predicted=("predicted", "mean"), mean_actual=("actual", "mean"))
        .reset_index()
    )


# Benchmark metrics: the columns of the model-reference table (churn ranking and calibration, spend
# ranking, total and per-decile spend accuracy), computed the same way for Clientele and the references.

BENCHMARK_METRICS: tuple[str, ...] = (
    "churn_auc",
    "churn_log_loss",
    "spend_normalized_gini",
    "total_spend_error",
    "spend_decile_mape",
    "top_decile_spend_capture",
)


def log_loss(actual: ArrayLike, probability: ArrayLike, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of binary `actual` (0/1) under `probability` of a 1, clipped to
    [eps, 1 - eps] so a confident miss costs about 34.5 rather than infinity.

    Raises ValueError on length mismatch, NaN, or a probability outside [0, 1].
    """
    labels = np.asarray(actual, dtype="float64")
    chance = np.asarray(probability, dtype="float64")
    _same_length_no_nan(labels, chance)
    if ((chance < 0) | (chance > 1)).any():
        raise ValueError("log_loss needs probabilities in [0, 1]")
    clipped = np.clip(chance, eps, 1 - eps)
    return float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))


def total_spend_error(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Relative error of the predicted total: sum(predicted) / sum(actual) - 1 (-0.18 = 18% too low).

    Raises ValueError on length mismatch, NaN, or if `actual` sums to zero.
    """
    values = np.asarray(actual, dtype="float64")
    forecast = np.asarray(predicted, dtype="float64")
    _same_length_no_nan(values, forecast)
    total = values.sum()
    if total == 0:
        raise ValueError("total_spend_error needs actual values that do not sum to zero")
    return float(forecast.sum() / total - 1.0)


def decile_mape(actual: ArrayLike, predicted: ArrayLike, n_groups: int = 10) -> float:
    """Mean over `n_groups` equal-count groups of customers ranked by `predicted` of
    |sum predicted - sum actual| / sum actual: how well the model's totals hold up per segment.

    Rows are sorted by `predicted` ascending with ties in row order (a stable sort), and row i of n goes to
    group floor(n_groups x i / n); so equal predictions that straddle a boundary are split by row order,
    and callers that want a reproducible figure pass rows in a fixed order (e.g. by customer_id). This is
    the definition that reproduces the issue's reference figures (BG/NBD + Gamma-Gamma on CDNOW: 0.329).

    Raises ValueError on length mismatch, NaN, fewer rows than groups, or a group whose actual sum is 0.
    """
    values = np.asarray(actual, dtype="float64")
    forecast = np.asarray(predicted, dtype="float64")
    _same_length_no_nan(values, forecast)
    if n_groups < 1 or values.size < n_groups:
        raise ValueError(f"decile_mape needs at least n_groups={n_groups} rows, got {values.size}")
    order = np.argsort(forecast, kind="stable")
    group = np.arange(values.size) * n_groups // values.size
    predicted_sums = np.bincount(group, forecast[order], minlength=n_groups)
    actual_sums = np.bincount(group, values[order], minlength=n_groups)
    if (actual_sums == 0).any():
        empty = ", ".join(str(index + 1) for index in np.flatnonzero(actual_sums == 0))
        raise ValueError(
            f"decile_mape is undefined: actual sums to 0 in group(s) {empty} (1 = lowest predicted)"
        )
    return float(np.mean(np.abs(predicted_sums - actual_sums) / actual_sums))


def top_share_of_actual(actual: ArrayLike, predicted: ArrayLike, fraction: float = 0.1) -> float:
    """Share of the total of `actual` held by the top `fraction` of rows by `predicted` (ceil(fraction x n)
    rows; ties at the cut broken by row order): for spend, how much of the future revenue the
    customers a campaign would pick really bring. Raises ValueError as `total_spend_error` does."""
    values = np.asarray(actual, dtype="float64")
    _same_length_no_nan(values, np.asarray(predicted, dtype="float64"))
    total = values.sum()
    if total == 0:
        raise ValueError("top_share_of_actual needs actual values that do not sum to zero")
    return float(values[_top_rows(predicted, fraction)].sum() / total)


def _top_rows(ranking: ArrayLike, fraction: float) -> np.ndarray:
    """The indices of the top `fraction` of rows by `ranking`: ceil(fraction x n) of them (at least one;
    0.1 x 30 is 3, not the 4 that float rounding would give), ties at the cut broken by row order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    scores = np.asarray(ranking, dtype="float64")
    n_top = max(1, math.ceil(round(fraction * scores.size, 9)))
    return np.argsort(-scores, kind="stable")[:n_top]


def benchmark_metrics(
    churned: ArrayLike,
    churn_score: ArrayLike,
    spend: ArrayLike,
    predicted_spend: ArrayLike,
    churn_score_is_probability: bool = True,
) -> dict[str, float | None]:
    """One row of the model benchmark, keyed by `BENCHMARK_METRICS`, for customers in one fixed order:
    `churned` (0/1: no order in the holdout), `churn_score` (P(churn), or any score that is higher for
    likelier churn), `spend` (actual holdout revenue), `predicted_spend` (for the same window).

    churn_auc = `roc_auc`; churn_log_loss = `log_loss` (None when `churn_score_is_probability` is False:
    a ranking score has no likelihood); spend_normalized_gini = `normalized_gini`; total_spend_error =
    `total_spend_error`; spend_decile_mape = `decile_mape`; top_decile_spend_capture =
    `top_share_of_actual` at 10%.
    """
    outcome = np.asarray(churned, dtype="float64")
    score = np.asarray(churn_score, dtype="float64")
    return {
        "churn_auc": roc_auc(outcome, score),
        "churn_log_loss": log_loss(outcome, score) if churn_score_is_probability else None,
        "spend_normalized_gini": normalized_gini(spend, predicted_spend),
        "total_spend_error": total_spend_error(spend, predicted_spend),
        "spend_decile_mape": decile_mape(spend, predicted_spend),
        "top_decile_spend_capture": top_share_of_actual(spend, predicted_spend),
    }


def _same_length_no_nan(first: np.ndarray, second: np.ndarray) -> None:
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError("both arrays must be 1-d and of equal length")
    if np.isnan(first).any() or np.isnan(second).any():
        raise ValueError("metric inputs must not contain NaN")
