"""What reason codes for every customer cost: path attribution plus words for all rows, against exact SHAP.

Trains the churn model with its production recipe (`ChurnConfig()` defaults) on synthetic customers, then
builds `--customers` scoring rows by drawing whole feature rows (with new ids) from a synthetic scoring
snapshot, so values and nulls have the shape real ones have. Times, median of `--repeats` runs each:
(a) `explain_churn_scores` with the default plan (every customer, three reasons in words, `--threads`),
split into its attribution and the rest; (b) `pred_contrib=True` on `--sample` rows in `--chunks` chunks,
median chunk extrapolated to all rows. Prints the ratio (b) / (a).

    .venv/bin/python benchmarks/bench_reason_codes.py --customers 1000000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from ml.explain import ReasonCodePlan, contributions, explain_churn_scores, path_attribution
from ml.labels import churn_labels
from ml.pipeline import ChurnConfig, training_rows
from ml.score import score_churn_rows
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
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to explain")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each timing (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="threads for LightGBM and numba")
    parser.add_argument("--sample", type=int, default=20_000, help="rows exact SHAP is timed on")
    parser.add_argument("--chunks", type=int, default=5, help="chunks the exact SHAP sample is timed in")
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
        f"max_depth={config.train.max_depth}, validation AUC {model.metrics['validation_auc']:.3f}"
    )

    snapshot = make_customer_frames(
        n_customers=min(args.customers, 50_000), seed=2, snapshot_dates=[str(history.scoring_date.date())]
    ).features
    drawn = np.random.default_rng(3).integers(0, len(snapshot), args.customers)
    scoring = snapshot.iloc[drawn].reset_index(drop=True)
    scoring["customer_id"] = [f"B{index:08d}" for index in range(len(scoring))]
    scores = score_churn_rows(model, scoring, history.scoring_date, config.risk_bands)
    inputs = model.model_input(scoring)
    print(f"{len(scoring):,} customers, {len(model.features)} features, {args.threads} threads")

    plan = ReasonCodePlan(num_threads=args.threads)
    paths = path_attribution(model.booster)
    contributions(model.booster, inputs.iloc[:1000], args.threads, paths)  # compile the numba kernel first
    attribution = statistics.median(
        _seconds(lambda: contributions(model.booster, inputs, args.threads, paths))
        for _ in range(args.repeats)
    )
    explained = None

    def explain() -> None:
        nonlocal explained
        explained = explain_churn_scores(model, scoring, scores, plan)

    everything = statistics.median(_seconds(explain) for _ in range(args.repeats))
    assert explained is not None
    n_explained = int(explained["reason_1"].notna().sum())
    print(
        f"(a) path attribution + words, all rows: median {everything:7.1f} s over {args.repeats} runs "
        f"({_per_row(everything, len(scoring))}; attribution alone {attribution:.1f} s); "
        f"{n_explained:,} customers with at least one reason"
    )

    sample = inputs.iloc[: min(args.sample, len(inputs))]
    chunk_timings = [
        _seconds(partial(model.booster.predict, chunk, pred_contrib=True, num_threads=args.threads))
        for chunk in (sample.iloc[rows] for rows in np.array_split(np.arange(len(sample)), args.chunks))
    ]
    per_row = statistics.median(chunk_timings) / (len(sample) / args.chunks)
    exact = per_row * len(scoring)
    print(
        f"(b) exact SHAP (pred_contrib), {len(sample):,} rows in {args.chunks} chunks: median chunk "
        f"{per_row * 1e6:,.1f} us/row, all {len(scoring):,} rows extrapolated {exact:7.1f} s"
    )
    print(f"ratio exact SHAP / (path attribution + words): {exact / everything:.1f}x")
    print("sample reasons:")
    for row in explained.head(3).itertuples(index=False):
        print(
            f"  {row.customer_id}: {row.reason_1} ({row.reason_1_contribution:+.2f}); {row.reason_2}; {row.reason_3}"
        )


def _per_row(seconds: float, rows: int) -> str:
    return f"{seconds / rows * 1e6:,.1f} us/row"


if __name__ == "__main__":
    main()
