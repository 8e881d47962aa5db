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
    ranking = np.asarray(score, dtype="float64")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    overall = values.mean()
    if overall == 0:
        raise ValueError("top_decile_lift needs a non-zero mean of actual")
    n_top = max(1, math.ceil(fraction * values.size))
    top = np.argsort(-ranking, kind="stable")[:n_top]
    return float(values[top].mean() / overall)


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
