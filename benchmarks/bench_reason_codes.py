"""How much exact SHAP reason codes cost next to plain churn scoring, and what the reason-code plan costs.

Trains the churn model with its production defaults on synthetic customers, then on `--rows` scoring rows
times `booster.predict` (median of `--repeats`), `booster.predict(pred_contrib=True)` over every row in
`--chunks` equal chunks (total, and median chunk scaled to all rows), and the default `ReasonCodePlan`
(score, pick bands, explain at most `max_customers`).

    .venv/bin/python benchmarks/bench_reason_codes.py --rows 100000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from ml.explain import ReasonCodePlan, explain_churn_scores
from ml.labels import churn_labels
from ml.pipeline import ChurnConfig, training_rows
from ml.score import score_churn
from ml.synthetic import make_customer_frames
from ml.train import train_churn_model


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="scoring rows to time")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the plain predict")
    parser.add_argument("--chunks", type=int, default=10, help="chunks the pred_contrib pass is timed in")
    parser.add_argument("--train-customers", type=int, default=3000, help="synthetic customers to train on")
    args = parser.parse_args()

    config = ChurnConfig()
    history = make_customer_frames(n_customers=args.train_customers, seed=1)
    training = training_rows(
        history.features, history.scoring_date, config.train.horizon_days, config.max_training_rows
    )
    model = train_churn_model(
        training, churn_labels(training, history.orders, history.scoring_date), config.train
    )
    print(
        f"model {model.model_version}: {model.best_iteration} trees, num_leaves={config.train.num_leaves}, "
        f"max_depth={config.train.max_depth}, num_threads={config.train.num_threads}, "
        f"validation AUC {model.metrics['validation_auc']:.3f}"
    )

    scoring = make_customer_frames(
        n_customers=args.rows, seed=2, snapshot_dates=[str(history.scoring_date.date())]
    ).features
    inputs = model.model_input(scoring)
    threads = model.config.num_threads
    print(f"{len(inputs):,} scoring rows, {len(model.features)} features")

    predict = [
        _seconds(lambda: model.booster.predict(inputs, num_threads=threads)) for _ in range(args.repeats)
    ]
    predict_median = statistics.median(predict)
    print(
        f"predict:              median {predict_median:8.3f} s over {args.repeats} runs ({_per_row(predict_median, len(inputs))})"
    )

    chunk_timings = [
        _seconds(lambda chunk=chunk: model.booster.predict(chunk, pred_contrib=True, num_threads=threads))
        for chunk in (inputs.iloc[rows] for rows in np.array_split(np.arange(len(inputs)), args.chunks))
    ]
    contrib_total = sum(chunk_timings)
    contrib_median_scaled = statistics.median(chunk_timings) * args.chunks
    print(
        f"predict(pred_contrib): total  {contrib_total:8.3f} s in {args.chunks} chunks, median chunk x {args.chunks} = "
        f"{contrib_median_scaled:.3f} s ({_per_row(contrib_total, len(inputs))})"
    )
    print(f"ratio pred_contrib / predict: {contrib_total / predict_median:.0f}x")

    plan = ReasonCodePlan()
    started = time.perf_counter()
    scores = score_churn(model, scoring, history.scoring_date, config.risk_bands)
    scored = time.perf_counter() - started
    reasons = explain_churn_scores(model, scoring, scores, plan)
    planned = time.perf_counter() - started
    n_explained = int(reasons["reason_1"].notna().sum())
    bands = pd.Series(scores["risk_band"]).value_counts().to_dict()
    print(
        f"reason-code plan (bands={plan.bands}, max_customers={plan.max_customers:,}): "
        f"scoring {scored:.3f} s + reasons for {n_explained:,} customers = {planned:.3f} s total; bands {bands}"
    )


def _per_row(seconds: float, rows: int) -> str:
    return f"{seconds / rows * 1e6:,.1f} us/row"


if __name__ == "__main__":
    main()
