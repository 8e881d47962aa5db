"""The reference models of the churn / CLV benchmark, computed from a transaction history (issue 11): what
Clientele's models are measured against, on the same customers, scoring date and holdout.

Protocol: every customer with a purchase before `scoring_date` is scored as of that date; churned = no
purchase in [scoring_date, + holdout_days); spend = amount in that window. On the CDNOW sample
(calibration 1997-01-01 .. 1997-09-30, scoring date 1997-10-01, 91-day holdout, 2,357 customers) the rows
reproduce the issue's figures for the three published models (BG/NBD, Pareto/NBD, naive RFM).

Conventions of the published models (Fader, Hardie & Lee 2005; the `lifetimes` CDNOW summary), kept here
so their figures are reproduced: a transaction is a customer-day (same-day purchases summed into one),
times are in weeks, and T runs from the first purchase to the *last calibration day* (scoring_date - 1
day). The pipeline's own features (`rfm_features`, like `customer_features`) count every order and
measure T to the scoring date; the row "BG/NBD + Gamma-Gamma, ml.btyd on customer_features" shows the
library on those, as the pipeline runs it.

    .venv/bin/python -m benchmarks.model_references [../shared/data/CDNOW_sample.txt]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import optimize, special

from ml.btyd import (
    BTYD_FEATURES,
    BtydConfig,
    bgnbd_expected_purchases,
    bgnbd_p_no_purchase,
    btyd_features_by_snapshot,
    btyd_model,
    fit_bgnbd,
    fit_btyd,
    fit_gamma_gamma,
    gamma_gamma_expected_value,
)
from ml.evaluate import BENCHMARK_METRICS, benchmark_metrics

CDNOW_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "CDNOW_sample.txt"
CDNOW_SCORING_DATE = pd.Timestamp("1997-10-01")
CDNOW_HOLDOUT_DAYS = 91
WEEK_DAYS = 7.0

# The issue's figures, for the side-by-side print only; `reference_rows` computes its own.
ISSUE_FIGURES: dict[str, tuple[float | None, ...]] = {
    "BG/NBD + Gamma-Gamma": (0.7845, 0.3671, 0.648, -0.183, 0.329, 0.525),
    "Pareto/NBD + Gamma-Gamma": (0.7467, None, 0.666, -0.181, 0.303, 0.528),
    "naive RFM (holdout = calibration rate)": (0.7843, None, 0.689, 0.382, 0.741, 0.513),
    "LightGBM, RFM features": (0.7754, 0.3750, 0.667, -0.154, 0.232, 0.513),
    "LightGBM, RFM + BTYD features": (0.7795, 0.3724, 0.672, -0.144, 0.355, 0.510),
}

RFM_FEATURES: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "frequency",
    "monetary_total",
    "avg_order_value",
    "mean_days_between_orders",
    "orders_90d",
    "revenue_90d",
    "orders_365d",
    "revenue_365d",
)


@dataclass(frozen=True)
class ReferenceRow:
    """One model's benchmark row: `metrics` keyed by `ml.evaluate.BENCHMARK_METRICS` (None where the model
    gives no probability), and a `note` on how it was computed."""

    model: str
    metrics: dict[str, float | None]
    note: str = ""
    parameters: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The holdout truth of the scored customers, in `customer_id` order."""

    customer_id: np.ndarray
    churned: np.ndarray
    spend: np.ndarray


def read_cdnow(path: Path | str = CDNOW_SAMPLE) -> pd.DataFrame:
    """The CDNOW sample as orders: customer_id (the cohort id, text), ordered_at (midnight of the day),
    amount (US dollars); one row per line of the file, i.e. per customer-day purchase record."""
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["customer_id", "sample_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype("float64"),
        }
    )


def reference_rows(
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp | str = CDNOW_SCORING_DATE,
    holdout_days: int = CDNOW_HOLDOUT_DAYS,
    training_snapshots: int = 4,
) -> list[ReferenceRow]:
    """The reference rows for `orders` (customer_id, ordered_at, amount) scored at `scoring_date` over a
    `holdout_days` holdout: BG/NBD + Gamma-Gamma, Pareto/NBD + Gamma-Gamma, naive RFM, LightGBM on RFM
    features, LightGBM on RFM + BTYD features (trained on `training_snapshots` monthly snapshots whose
    holdout-length window ends by `scoring_date`), and BG/NBD + Gamma-Gamma through `ml.btyd` on
    pipeline-style features. Customers in `customer_id` order; metrics as `ml.evaluate.benchmark_metrics`.
    """
    scoring = pd.Timestamp(scoring_date)
    outcome = holdout_outcome(orders, scoring, holdout_days)
    summary = calibration_summary(customer_days(orders), scoring)
    if not np.array_equal(summary.index.to_numpy(), outcome.customer_id):
        raise ValueError("calibration summary and holdout outcome disagree on the customers")
    rows = [
        _bgnbd_row(summary, outcome, holdout_days),
        _pareto_nbd_row(summary, outcome, holdout_days),
        _naive_rfm_row(summary, outcome, holdout_days),
    ]
    rows.extend(_lightgbm_rows(orders, scoring, holdout_days, training_snapshots, outcome))
    rows.append(_library_row(orders, scoring, holdout_days, outcome))
    return rows


def customer_days(orders: pd.DataFrame) -> pd.DataFrame:
    """`orders` with purchases of one customer on one calendar day summed into one transaction (the BTYD
    convention of the published CDNOW models): customer_id, ordered_at (the day), amount."""
    day = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    return (
        orders.assign(ordered_at=day)
        .groupby(["customer_id", "ordered_at"], as_index=False, sort=True)["amount"]
        .sum()
    )


def holdout_outcome(orders: pd.DataFrame, scoring_date: pd.Timestamp, holdout_days: int) -> Outcome:
    """churned (1 = no purchase in [scoring_date, + holdout_days)) and spend in that window of every customer
    with a purchase before `scoring_date`, in customer_id order."""
    ordered_at = pd.to_datetime(orders["ordered_at"])
    before = orders.loc[ordered_at < scoring_date]
    customers = np.sort(before["customer_id"].unique())
    in_window = (ordered_at >= scoring_date) & (ordered_at < scoring_date + pd.Timedelta(days=holdout_days))
    window = orders.loc[in_window].groupby("customer_id")["amount"]
    spend = window.sum().reindex(customers).fillna(0.0).to_numpy()
    bought = window.size().reindex(customers).fillna(0).to_numpy() > 0
    return Outcome(customer_id=customers, churned=(~bought).astype("int64"), spend=spend)


def calibration_summary(transactions: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """Per customer with a transaction before `scoring_date`, in customer_id order, in days: n
    (transactions), x = n - 1, t_x (first to last), T (first to the last calibration day,
    scoring_date - 1 day), recency (last transaction to that day), m_all (mean of all transactions),
    m_repeat (mean of the repeat ones; NaN without)."""
    calibration = transactions.loc[pd.to_datetime(transactions["ordered_at"]) < scoring_date].sort_values(
        ["customer_id", "ordered_at"], kind="stable"
    )
    grouped = calibration.groupby("customer_id")
    first, last = grouped["ordered_at"].min(), grouped["ordered_at"].max()
    n = grouped.size().astype("float64")
    end = scoring_date - pd.Timedelta(days=1)
    is_repeat = calibration.groupby("customer_id").cumcount().to_numpy() > 0
    repeat_mean = calibration.loc[is_repeat].groupby("customer_id")["amount"].mean()
    return pd.DataFrame(
        {
            "n": n,
            "x": n - 1.0,
            "t_x": (last - first).dt.days.astype("float64"),
            "T": (end - first).dt.days.astype("float64"),
            "recency": (end - last).dt.days.astype("float64"),
            "m_all": grouped["amount"].mean(),
            "m_repeat": repeat_mean.reindex(n.index),
        }
    )


def rfm_features(orders: pd.DataFrame, snapshot_date: pd.Timestamp) -> pd.DataFrame:
    """`customer_features`-style rows of every customer with an order before `snapshot_date`, as the
    pipeline computes them from orders alone (every order counts; days between calendar dates; first seen
    = first order): customer_id, snapshot_date and `RFM_FEATURES`, in customer_id order."""
    ordered_at = pd.to_datetime(orders["ordered_at"])
    before = orders.loc[ordered_at < snapshot_date].assign(day=ordered_at.dt.normalize())
    age = (snapshot_date - before["day"]).dt.days
    grouped = before.groupby("customer_id")
    first, last, n = grouped["day"].min(), grouped["day"].max(), grouped.size()
    total = grouped["amount"].sum()
    recent_90 = before.loc[age.to_numpy() <= 90].groupby("customer_id")["amount"]
    recent_365 = before.loc[age.to_numpy() <= 365].groupby("customer_id")["amount"]
    span = (last - first).dt.days.astype("float64")
    frame = pd.DataFrame(
        {
            "customer_id": n.index.to_numpy(),
            "snapshot_date": snapshot_date,
            "recency_days": (snapshot_date - last).dt.days.to_numpy(dtype="float64"),
            "tenure_days": (snapshot_date - first).dt.days.to_numpy(dtype="float64"),
            "frequency": n.to_numpy(dtype="float64"),
            "monetary_total": total.to_numpy(),
            "avg_order_value": (total / n).to_numpy(),
            "mean_days_between_orders": (span / (n - 1)).where(n >= 2).to_numpy(),
            "orders_90d": recent_90.size().reindex(n.index).fillna(0).to_numpy(dtype="float64"),
            "revenue_90d": recent_90.sum().reindex(n.index).fillna(0.0).to_numpy(),
            "orders_365d": recent_365.size().reindex(n.index).fillna(0).to_numpy(dtype="float64"),
            "revenue_365d": recent_365.sum().reindex(n.index).fillna(0.0).to_numpy(),
        }
    )
    return frame.reset_index(drop=True)


def markdown_table(rows: Sequence[ReferenceRow], with_issue_figures: bool = True) -> str:
    """The rows as a markdown table (figures as in the issue: AUC and log loss to 4 places, the rest to 3,
    the total error in percent), each followed by the issue's figures where it has them."""
    header = "| model | churn AUC | log loss | spend Gini | total spend error | decile MAPE | top-10% spend capture |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row.model} | "
            + " | ".join(_formatted(row.metrics[key], key) for key in BENCHMARK_METRICS)
            + " |"
        )
        issue = ISSUE_FIGURES.get(row.model)
        if with_issue_figures and issue is not None:
            values = " | ".join(
                _formatted(value, key) for value, key in zip(issue, BENCHMARK_METRICS, strict=True)
            )
            lines.append(f"| &nbsp;&nbsp;issue 11 | {values} |")
    return "\n".join(lines)


def _formatted(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    if key == "total_spend_error":
        return f"{value:+.1%}"
    return f"{value:.4f}" if key in ("churn_auc", "churn_log_loss") else f"{value:.3f}"


def _bgnbd_row(summary: pd.DataFrame, outcome: Outcome, holdout_days: int) -> ReferenceRow:
    x, t_x, T = (
        summary[column].to_numpy() / (1.0 if column == "x" else WEEK_DAYS) for column in ("x", "t_x", "T")
    )
    horizon = holdout_days / WEEK_DAYS
    bgnbd = fit_bgnbd(x, t_x, T)
    repeat = summary.loc[summary["x"] > 0]
    gamma_gamma = fit_gamma_gamma(repeat["x"].to_numpy(), repeat["m_repeat"].to_numpy())
    order_value = gamma_gamma_expected_value(gamma_gamma, x, summary["m_repeat"].fillna(0.0).to_numpy())
    spend = bgnbd_expected_purchases(bgnbd, x, t_x, T, horizon) * order_value
    churn = bgnbd_p_no_purchase(bgnbd, x, t_x, T, horizon)
    return ReferenceRow(
        "BG/NBD + Gamma-Gamma",
        benchmark_metrics(outcome.churned, churn, outcome.spend, spend),
        "ml.btyd maximum likelihood on the published summary (customer-days, weeks); Gamma-Gamma on repeat "
        "buyers' repeat transactions, one-time buyers at the population mean",
        {**_named(bgnbd), **_named(gamma_gamma)},
    )


def _naive_rfm_row(summary: pd.DataFrame, outcome: Outcome, holdout_days: int) -> ReferenceRow:
    # Holdout purchases at the calibration repeat rate x / T, each worth the customer's mean transaction;
    # churn ranked by recency alone (a score, not a probability: no log loss).
    rate = summary["x"].to_numpy() / summary["T"].to_numpy()
    spend = rate * holdout_days * summary["m_all"].to_numpy()
    churn_score = summary["recency"].to_numpy()
    return ReferenceRow(
        "naive RFM (holdout = calibration rate)",
        benchmark_metrics(
            outcome.churned, churn_score, outcome.spend, spend, churn_score_is_probability=False
        ),
        "spend = repeat transactions / days observed x holdout days x mean transaction; churn ranked by recency",
    )


def _library_row(
    orders: pd.DataFrame, scoring: pd.Timestamp, holdout_days: int, outcome: Outcome
) -> ReferenceRow:
    features = rfm_features(orders, scoring)
    fit = fit_btyd(features, BtydConfig())
    churn = btyd_model("churn", holdout_days, fit).predict(features)
    spend = btyd_model("clv", holdout_days, fit).predict(features)
    return ReferenceRow(
        "BG/NBD + Gamma-Gamma, ml.btyd on customer_features",
        benchmark_metrics(outcome.churned, churn, outcome.spend, spend),
        "the pipeline's model: every order counts, T to the scoring date, Gamma-Gamma on all orders' mean",
        {**_named(fit.bgnbd), **_named(fit.gamma_gamma)},
    )


def _named(parameters: object) -> dict[str, float]:
    return {name: round(float(value), 4) for name, value in vars(parameters).items()}


def _pareto_nbd_row(summary: pd.DataFrame, outcome: Outcome, holdout_days: int) -> ReferenceRow:
    x, t_x, T = (
        summary[column].to_numpy() / (1.0 if column == "x" else WEEK_DAYS) for column in ("x", "t_x", "T")
    )
    r, alpha, s, beta = fit_pareto_nbd(x, t_x, T)
    alive = pareto_nbd_p_alive((r, alpha, s, beta), x, t_x, T)
    horizon = holdout_days / WEEK_DAYS
    orders = (
        (r + x)
        * (beta + T)
        / ((alpha + T) * (s - 1.0))
        * (1.0 - ((beta + T) / (beta + T + horizon)) ** (s - 1.0))
    ) * alive
    repeat = summary.loc[summary["x"] > 0]
    gamma_gamma = fit_gamma_gamma(repeat["x"].to_numpy(), repeat["m_repeat"].to_numpy())
    spend = orders * gamma_gamma_expected_value(gamma_gamma, x, summary["m_repeat"].fillna(0.0).to_numpy())
    return ReferenceRow(
        "Pareto/NBD + Gamma-Gamma",
        benchmark_metrics(
            outcome.churned, 1.0 - alive, outcome.spend, spend, churn_score_is_probability=False
        ),
        "maximum likelihood here (benchmark only); churn ranked by 1 - P(alive) at the scoring date, which "
        "is not P(no purchase in the holdout): no log loss",
        {"r": round(r, 4), "alpha": round(alpha, 4), "s": round(s, 4), "beta": round(beta, 4)},
    )


def fit_pareto_nbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[float, float, float, float]:
    """Maximum-likelihood Pareto/NBD parameters (r, alpha, s, beta) (Schmittlein, Morrison & Colombo 1987;
    likelihood as in Fader & Hardie 2005, "A note on deriving the Pareto/NBD model", eq. 22)."""

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        r, alpha, s, beta = np.exp(log_params)
        log_a0 = _pareto_log_a0(r, alpha, s, beta, x, t_x, T)
        log_first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_second = np.log(s / (r + s + x)) + log_a0
        log_likelihood = (
            special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        ) + np.logaddexp(log_first, log_second)
        return -float(np.mean(log_likelihood))

    with np.errstate(all="ignore"):
        result = optimize.minimize(
            negative_log_likelihood,
            np.zeros(4),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-10},
        )
    if not result.success:
        raise ValueError(f"Pareto/NBD maximum likelihood did not converge: {result.message}")
    r, alpha, s, beta = (float(value) for value in np.exp(result.x))
    return r, alpha, s, beta


def pareto_nbd_p_alive(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T) under Pareto/NBD: 1 / (1 + s / (r + s + x) (alpha + T)^(r + x)
    (beta + T)^s A0)."""
    r, alpha, s, beta = params
    with np.errstate(divide="ignore"):  # t_x == T: A0 = 0, log A0 = -inf, P(alive) = 1
        log_a0 = _pareto_log_a0(r, alpha, s, beta, x, t_x, T)
    log_odds_dead = np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + log_a0
    return special.expit(-log_odds_dead)


def _pareto_log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """log A0 of the Pareto/NBD likelihood, the hypergeometric terms in the form that converges
    (|z| < 1): expanded around the larger of alpha and beta."""
    if alpha >= beta:
        shift, base, second = alpha - beta, alpha, s + 1.0
    else:
        shift, base, second = beta - alpha, beta, r + x
    power = r + s + x

    def log_term(time: np.ndarray) -> np.ndarray:
        return np.log(special.hyp2f1(power, second, power + 1.0, shift / (base + time))) - power * np.log(
            base + time
        )

    at_last, at_end = log_term(t_x), log_term(T)
    return at_last + np.log1p(-np.exp(at_end - at_last))


# Small, fixed LightGBM settings for the two reference boosters (deterministic, one thread).
LIGHTGBM_PARAMS: dict[str, object] = {
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}


def training_snapshot_dates(scoring_date: pd.Timestamp, holdout_days: int, count: int) -> list[pd.Timestamp]:
    """`count` monthly snapshot dates, the latest `holdout_days` before `scoring_date` (its window ends on
    the scoring date, so no label looks past it), oldest first."""
    latest = scoring_date - pd.Timedelta(days=holdout_days)
    return [latest - pd.DateOffset(months=months) for months in reversed(range(count))]


def _lightgbm_rows(
    orders: pd.DataFrame, scoring: pd.Timestamp, holdout_days: int, snapshots: int, outcome: Outcome
) -> list[ReferenceRow]:
    dates = training_snapshot_dates(scoring, holdout_days, snapshots)
    training = pd.concat([rfm_features(orders, date) for date in dates], ignore_index=True)
    truth = [holdout_outcome(orders, date, holdout_days) for date in dates]
    churned = np.concatenate([labels.churned for labels in truth])
    spend = np.concatenate([labels.spend for labels in truth])
    scoring_rows = rfm_features(orders, scoring)
    # BTYD features of each snapshot from a fit on that snapshot's rows alone (point in time).
    btyd_columns, _ = btyd_features_by_snapshot(
        pd.concat([training, scoring_rows], ignore_index=True), holdout_days
    )
    training = pd.concat([training, btyd_columns.iloc[: len(training)][list(BTYD_FEATURES)]], axis=1)
    scoring_rows = pd.concat(
        [scoring_rows, btyd_columns.iloc[len(training) :][list(BTYD_FEATURES)].reset_index(drop=True)], axis=1
    )
    is_validation = (training["snapshot_date"] == dates[-1]).to_numpy()
    rows = []
    for name, columns in (
        ("LightGBM, RFM features", RFM_FEATURES),
        ("LightGBM, RFM + BTYD features", RFM_FEATURES + BTYD_FEATURES),
    ):
        inputs = training[list(columns)]
        churn = _boosted(inputs, churned, is_validation, "binary").predict(scoring_rows[list(columns)])
        revenue = _boosted(inputs, spend, is_validation, "tweedie").predict(scoring_rows[list(columns)])
        rows.append(
            ReferenceRow(
                name,
                benchmark_metrics(outcome.churned, churn, outcome.spend, revenue),
                f"trained on {len(dates)} monthly snapshots {dates[0].date()} .. {dates[-1].date()}, each "
                f"labelled by its next {holdout_days} days; binary and Tweedie objectives",
            )
        )
    return rows


def _boosted(
    inputs: pd.DataFrame, target: np.ndarray, is_validation: np.ndarray, objective: str
) -> lgb.Booster:
    """Early-stopped on the latest training snapshot, then refit on all of them with the rounds found."""
    params = {**LIGHTGBM_PARAMS, "objective": objective}
    train = lgb.Dataset(inputs.loc[~is_validation], target[~is_validation])
    validation = lgb.Dataset(inputs.loc[is_validation], target[is_validation], reference=train)
    stopped = lgb.train(
        params, train, 2000, valid_sets=[validation], callbacks=[lgb.early_stopping(100, verbose=False)]
    )
    return lgb.train(params, lgb.Dataset(inputs, target), max(stopped.best_iteration, 1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", default=str(CDNOW_SAMPLE), help="CDNOW-format transactions file")
    parser.add_argument("--scoring-date", default=str(CDNOW_SCORING_DATE.date()))
    parser.add_argument("--holdout-days", type=int, default=CDNOW_HOLDOUT_DAYS)
    arguments = parser.parse_args()
    rows = reference_rows(
        read_cdnow(arguments.path), pd.Timestamp(arguments.scoring_date), arguments.holdout_days
    )
    print(markdown_table(rows))
    for row in rows:
        print(f"\n{row.model}: {row.note}" + (f"; parameters {row.parameters}" if row.parameters else ""))


if __name__ == "__main__":
    main()
