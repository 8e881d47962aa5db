"""Clientele's churn and CLV models on the issue-11 benchmark: the project's own pipeline run on a sample,
its scores measured like the reference models (`benchmarks.model_references`), on the same customers.

CDNOW: the real sample is imported and run exactly as a user does (`make import`, `make pipeline`: the
dbt manifest, `python -m sources.transactions`, `python -m orchestration.run_all`) in a fresh folder,
with `docs/examples/cdnow.yml`, the calendar ending on 1997-10-01 (so the run scores as of 1997-10-01, the
protocol of ../shared/data/README.md) and both horizons set to 91 days. The scores of that date are read
from the finished warehouse (`ml.customer_churn_scores`, `ml.customer_clv`), mapped to the CDNOW customer
numbers through `marts.customer_identity_bridge` (the file's customer number is the account id), and
measured against the holdout the warehouse never saw (the file's orders from 1997-10-01 on). Every
reference customer must be scored exactly once, and nothing else: the run fails loudly otherwise.

Demo: `python -m sources.demo` writes landing files and a latent truth whose orders run a year past the
calendar's end (`sources.demo.truth`), so the demo has a real holdout: the run scores as of the calendar
end (2026-01-01) and each scored customer is judged by what its person (the one behind most of its orders,
`sources.demo.evaluation.majority_person`, the demo truth checks' rule) really bought in the holdout, every
channel included, at the truth's order totals (before refunds; Clientele's CLV model predicts net revenue,
about 4% lower on the demo). The reference models get the same customers and truth: their calibration
history is the warehouse's own orders (`marts.fct_orders`, gross amounts, before the scoring date), their
holdout the truth orders of each customer's person. Left out, and counted in the output: customers scored
from CRM records alone (no order: the references cannot score them) and those first seen on the day before
the scoring date (see `without_last_day_newcomers`).

Each table ends with the best reference per column and whether Clientele is ahead of it (AUC, Gini and
top-10% capture higher; log loss and decile MAPE lower; total spend error closer to 0).

    .venv/bin/python -m benchmarks.bench_models                      # both parts: 8-13 minutes on 2 busy cores
    .venv/bin/python -m benchmarks.bench_models --keep /tmp/bench    # keep (and on a rerun, reuse) the runs
    .venv/bin/python -m benchmarks.bench_models --skip-demo --sample ../shared/data/CDNOW_sample.txt
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from benchmarks.model_references import (
    CDNOW_HOLDOUT_DAYS,
    CDNOW_SAMPLE,
    CDNOW_SCORING_DATE,
    Outcome,
    ReferenceRow,
    holdout_outcome,
    markdown_table,
    read_cdnow,
    reference_rows,
)
from ml.evaluate import BENCHMARK_METRICS, benchmark_metrics
from sources.config import load_config

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CDNOW_CONFIG = REPO / "docs" / "examples" / "cdnow.yml"
DEMO_CONFIG = REPO / "sources" / "demo" / "clientele.yml"
CLIENTELE = "Clientele"
# Which way is better, per benchmark metric: +1 higher, -1 lower, 0 closer to zero.
DIRECTION: dict[str, int] = {
    "churn_auc": 1,
    "churn_log_loss": -1,
    "spend_normalized_gini": 1,
    "total_spend_error": 0,
    "spend_decile_mape": -1,
    "top_decile_spend_capture": 1,
}


@dataclass(frozen=True)
class PipelineRun:
    """A finished pipeline run: its data folder, its live warehouse, and the seconds it took (None when an
    earlier run was reused)."""

    data_dir: Path
    warehouse: Path
    seconds: float | None


# --- running the pipeline ---------------------------------------------------------------------------


def pipeline_environment(
    config: Path, data_dir: Path, holdout_days: int, end_date: str | None
) -> dict[str, str]:
    """The environment of a user's run of `config` into `data_dir`: its own Dagster instance beside the data,
    both model horizons `holdout_days`, and the calendar's end moved to `end_date` when given."""
    environment = {
        **os.environ,
        "CLIENTELE_CONFIG": str(config),
        "CLIENTELE_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster"),
        "CLIENTELE__MODELS__CHURN__HORIZON_DAYS": str(holdout_days),
        "CLIENTELE__MODELS__CLV__HORIZON_DAYS": str(holdout_days),
    }
    if end_date is not None:
        environment["CLIENTELE__CALENDAR__END_DATE"] = end_date
    for inherited in ("CLIENTELE_WAREHOUSE_PATH", "CLIENTELE_LANDING_DIR", "CLIENTELE_SHOP_DATABASE_URL"):
        environment.pop(inherited, None)  # the run's paths follow its data folder; sales from its files
    return environment


def pipeline_commands(load: Sequence[str]) -> list[list[str]]:
    """`load` (the command that fills the landing folder), then what `make pipeline` runs: the dbt manifest
    (`make manifest`) and `orchestration.run_all`."""
    dbt = str(Path(PYTHON).parent / "dbt")
    return [
        [PYTHON, *load],
        [dbt, "parse", "--quiet", "--profiles-dir", ".", "--project-dir", "."],
        [PYTHON, "-m", "orchestration.run_all"],
    ]


def run_pipeline(
    load: Sequence[str], environment: Mapping[str, str], data_dir: Path, log: Path
) -> PipelineRun:
    """Run `pipeline_commands(load)` from the repository with `environment` (whose data folder is
    `data_dir`), output to `log`; the wall time covers them all. A failing step raises with the log's end."""
    (data_dir / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", data_dir / "dagster" / "dagster.yaml")
    parse_environment = {**environment, "CLIENTELE_WAREHOUSE_PATH": "parse-only.duckdb"}  # as `make manifest`
    started = time.monotonic()
    with log.open("w") as output:
        for command in pipeline_commands(load):
            is_parse = "parse" in command
            finished = subprocess.run(
                command,
                cwd=REPO / "dbt_project" if is_parse else REPO,
                env=parse_environment if is_parse else dict(environment),
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if finished.returncode != 0:
                tail = "\n".join(log.read_text().splitlines()[-30:])
                raise RuntimeError(
                    f"{' '.join(command)} failed ({finished.returncode}); end of {log}:\n{tail}"
                )
    return PipelineRun(data_dir, warehouse_of(environment), time.monotonic() - started)


def warehouse_of(environment: Mapping[str, str]) -> Path:
    """The live warehouse of a run with `environment`, as the pipeline resolves it (`sources.config`)."""
    return load_config(environ=environment).paths.warehouse_path


def reuse_or_run(load: Sequence[str], environment: Mapping[str, str], data_dir: Path) -> PipelineRun:
    """An earlier run in `data_dir` when its warehouse exists (`--keep`), else a new one there."""
    if warehouse_of(environment).is_file():
        print(f"    reusing the run in {data_dir} (its warehouse exists)", flush=True)
        return PipelineRun(data_dir, warehouse_of(environment), None)
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"    running the pipeline in {data_dir} (log: {data_dir / 'pipeline.log'})", flush=True)
    return run_pipeline(load, environment, data_dir, data_dir / "pipeline.log")


# --- reading the scores -----------------------------------------------------------------------------


def read_frame(warehouse: Path, sql: str, parameters: Sequence[object] = ()) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(parameters)).df()


def scoring_date_of(warehouse: Path) -> pd.Timestamp:
    """The latest scoring date of the churn scores (the run's)."""
    latest = read_frame(warehouse, "select max(scoring_date) as d from ml.customer_churn_scores")["d"].iloc[0]
    if pd.isna(latest):
        raise RuntimeError(f"{warehouse}: ml.customer_churn_scores is empty")
    return pd.Timestamp(latest)


def read_scores(warehouse: Path, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """customer_id, churn_probability, predicted_revenue of every customer both models scored as of
    `scoring_date`; a customer scored by one model only fails."""
    date = scoring_date.date()
    churn = read_frame(
        warehouse,
        "select customer_id, churn_probability from ml.customer_churn_scores where scoring_date = ?",
        [date],
    )
    clv = read_frame(
        warehouse, "select customer_id, predicted_revenue from ml.customer_clv where scoring_date = ?", [date]
    )
    scores = churn.merge(clv, on="customer_id", how="outer", validate="one_to_one")
    one_model_only = scores[["churn_probability", "predicted_revenue"]].isna().any(axis=1)
    if scores.empty or one_model_only.any():
        raise RuntimeError(
            f"{warehouse}: {len(scores)} customers scored as of {date}, {int(one_model_only.sum())} of them "
            "by one model only"
        )
    return scores


def scores_by_source_id(scores: pd.DataFrame, bridge: pd.DataFrame, source: str) -> pd.DataFrame:
    """`scores` (customer_id, ...) keyed by the `source` record id of `bridge` (source, source_id,
    customer_id) instead: source_id and the score columns. Each scored customer must be exactly one such
    record and each record a scored customer; anything else fails, naming examples."""
    records = bridge.loc[bridge["source"] == source, ["source_id", "customer_id"]]
    per_customer = records.groupby("customer_id").size()
    merged = records.merge(scores, on="customer_id", how="outer", indicator=True)
    problems = []
    for label, rows in (
        ("scored customers without a record", merged.loc[merged["_merge"] == "right_only", "customer_id"]),
        ("records of unscored customers", merged.loc[merged["_merge"] == "left_only", "source_id"]),
        ("customers of several records", per_customer.index[per_customer > 1].to_series()),
    ):
        if len(rows):
            problems.append(f"{len(rows)} {label} (e.g. {', '.join(map(str, rows.iloc[:3]))})")
    if problems:
        raise ValueError(f"scores and {source} records do not match one to one: " + "; ".join(problems))
    return merged.drop(columns=["customer_id", "_merge"]).reset_index(drop=True)


def aligned_scores(outcome: Outcome, scores: pd.DataFrame, key: str) -> pd.DataFrame:
    """`scores` in the order of `outcome.customer_id`, matched on `key`; the two sets of customers must be
    the same, or this fails naming examples of each difference."""
    scored = pd.Index(scores[key].astype(str))
    expected = pd.Index(outcome.customer_id.astype(str))
    missing, extra = expected.difference(scored), scored.difference(expected)
    if len(missing) or len(extra) or scored.has_duplicates or len(scored) != len(expected):
        raise ValueError(
            f"the scored customers are not the reference's: {len(missing)} of {len(expected)} unscored "
            f"(e.g. {list(missing[:3])}), {len(extra)} scored but not in the reference (e.g. {list(extra[:3])})"
        )
    return scores.set_index(scores[key].astype(str)).loc[expected].reset_index(drop=True)


def clientele_row(outcome: Outcome, scores: pd.DataFrame, note: str) -> ReferenceRow:
    """Clientele's benchmark row: `scores` (churn_probability, predicted_revenue) in `outcome`'s order."""
    metrics = benchmark_metrics(
        outcome.churned,
        scores["churn_probability"].to_numpy(np.float64),
        outcome.spend,
        scores["predicted_revenue"].to_numpy(np.float64),
    )
    return ReferenceRow(CLIENTELE, metrics, note)


# --- the comparison ---------------------------------------------------------------------------------


def best_reference(references: Sequence[ReferenceRow]) -> dict[str, float | None]:
    """Per metric the best value among `references` (None when none of them has it)."""
    best: dict[str, float | None] = {}
    for key in BENCHMARK_METRICS:
        values = [float(value) for row in references if (value := row.metrics.get(key)) is not None]
        if not values:
            best[key] = None
        elif DIRECTION[key] == 0:
            best[key] = min(values, key=abs)
        else:
            best[key] = max(values) if DIRECTION[key] > 0 else min(values)
    return best


def is_ahead(key: str, value: float | None, best: float | None) -> bool | None:
    """Whether `value` beats `best` on metric `key` (strictly; a tie is not ahead); None when either is
    missing."""
    if value is None or best is None:
        return None
    direction = DIRECTION[key]
    if direction == 0:
        return abs(value) < abs(best)
    return value > best if direction > 0 else value < best


def comparison_table(references: Sequence[ReferenceRow], clientele: ReferenceRow) -> str:
    """The markdown table of `references` and `clientele`, then the best reference per column and whether
    Clientele is ahead of it."""
    best = best_reference(references)
    best_row = ReferenceRow("best reference", best)
    lines = markdown_table([*references, clientele, best_row], with_issue_figures=False).splitlines()
    verdicts = {True: "**yes**", False: "no", None: "-"}
    lines.append(
        f"| {CLIENTELE} ahead of the best reference? | "
        + " | ".join(verdicts[is_ahead(key, clientele.metrics[key], best[key])] for key in BENCHMARK_METRICS)
        + " |"
    )
    return "\n".join(lines)


# --- CDNOW ------------------------------------------------------------------------------------------


def cdnow_part(sample: Path, data_dir: Path, holdout_days: int) -> None:
    scoring_date = CDNOW_SCORING_DATE
    print(f"\n## CDNOW ({sample.name}), scoring date {scoring_date.date()}, {holdout_days}-day holdout\n")
    environment = pipeline_environment(CDNOW_CONFIG, data_dir, holdout_days, str(scoring_date.date()))
    run = reuse_or_run(["-m", "sources.transactions", str(sample)], environment, data_dir)
    if scoring_date_of(run.warehouse) != scoring_date:
        raise RuntimeError(
            f"the run scored as of {scoring_date_of(run.warehouse).date()}, not {scoring_date.date()}"
        )
    bridge = read_frame(
        run.warehouse, "select source, source_id, customer_id from marts.customer_identity_bridge"
    )
    scores = scores_by_source_id(read_scores(run.warehouse, scoring_date), bridge, "customer_accounts")
    orders = read_cdnow(sample)
    outcome = holdout_outcome(orders, scoring_date, holdout_days)
    clientele = clientele_row(
        outcome, aligned_scores(outcome, scores, "source_id"), "the pipeline's scores as of the scoring date"
    )
    references = reference_rows(orders, scoring_date, holdout_days)
    print(comparison_table(references, clientele))
    print(f"\n{len(outcome.customer_id):,} customers, {int(outcome.churned.sum()):,} churned in the holdout")
    print(_timing(run))


# --- the demo ---------------------------------------------------------------------------------------


def demo_customer_person(warehouse: Path, truth_identities: pd.DataFrame) -> pd.DataFrame:
    """customer_id -> person_id: the person behind most of the customer's orders (the demo truth checks'
    rule, `sources.demo.evaluation.majority_person`)."""
    from sources.demo.evaluation import majority_person  # the demo is a guest: imported for its part only

    order_customers = read_frame(warehouse, "select order_id, customer_id from marts.fct_orders")
    order_persons = truth_identities.loc[truth_identities["source"] == "orders", ["source_id", "person_id"]]
    counted = (
        order_customers.merge(order_persons.rename(columns={"source_id": "order_id"}), on="order_id")
        .groupby(["customer_id", "person_id"], as_index=False)
        .agg(n_orders=("order_id", "size"))
    )
    return majority_person(counted)


def demo_orders(
    history: pd.DataFrame,
    truth_orders: pd.DataFrame,
    customer_person: pd.DataFrame,
    scoring_date: pd.Timestamp,
    holdout_days: int,
) -> pd.DataFrame:
    """The orders the demo benchmark runs on (customer_id, ordered_at, amount): the warehouse's `history`
    before `scoring_date`, then each customer's person's truth orders (person_id, ordered_at, total) in the
    `holdout_days` after it (a person behind several customers counts for each, as in the truth checks)."""
    before = history.loc[
        pd.to_datetime(history["ordered_at"]) < scoring_date, ["customer_id", "ordered_at", "amount"]
    ]
    at = pd.to_datetime(truth_orders["ordered_at"])
    window = (at >= scoring_date) & (at < scoring_date + pd.Timedelta(days=holdout_days))
    future = (
        truth_orders.loc[window.to_numpy(), ["person_id", "ordered_at", "total"]]
        .astype({"person_id": str})
        .merge(customer_person.astype({"person_id": str}), on="person_id")
        .rename(columns={"total": "amount"})
    )
    combined = pd.concat([before, future[["customer_id", "ordered_at", "amount"]]], ignore_index=True)
    return combined.assign(
        customer_id=combined["customer_id"].astype(str),
        ordered_at=pd.to_datetime(combined["ordered_at"]),
        amount=combined["amount"].astype("float64"),
    )


def without_last_day_newcomers(orders: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """`orders` without the customers whose first order falls on the last day before `scoring_date`: they
    were observed for 0 days, and the naive RFM reference's rate (repeat purchases / days observed) is 0/0
    for them (`benchmarks.model_references`); CDNOW has none, the demo acquires people every day."""
    day = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    first_day = day.groupby(orders["customer_id"]).transform("min")
    return orders.loc[(first_day < scoring_date - pd.Timedelta(days=1)).to_numpy()].reset_index(drop=True)


def demo_benchmark_orders(
    warehouse: Path, truth_dir: Path, scoring_date: pd.Timestamp, holdout_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo benchmark's orders (`demo_orders`: the warehouse's known customers' orders, then the truth's
    holdout) and the customer -> person map they were built with; fails when the truth ends too early."""
    from sources.demo.truth import TruthFiles

    truth = TruthFiles(truth_dir)
    truth_end = pd.Timestamp(pd.read_json(truth.summary, typ="series")["truth_horizon_end"])
    if scoring_date + pd.Timedelta(days=holdout_days) > truth_end:
        raise RuntimeError(f"the truth ends on {truth_end.date()}, before the holdout's end")
    customer_person = demo_customer_person(warehouse, pd.read_parquet(truth.identities))
    history = read_frame(
        warehouse,
        "select customer_id, ordered_at, gross_amount as amount from marts.fct_orders "
        "where not customer_id in (select customer_id from marts.dim_customers where is_unknown_customer)",
    )
    orders = demo_orders(history, pd.read_parquet(truth.orders), customer_person, scoring_date, holdout_days)
    return orders, customer_person


def demo_part(customers: int, seed: int, data_dir: Path, holdout_days: int) -> None:
    print(f"\n## Demo ({customers:,} customers, seed {seed}), {holdout_days}-day holdout from the truth\n")
    environment = pipeline_environment(DEMO_CONFIG, data_dir, holdout_days, None)
    load = ["-m", "sources.demo", "--customers", str(customers), "--seed", str(seed)]
    run = reuse_or_run(load, environment, data_dir)
    scoring_date = scoring_date_of(run.warehouse)
    orders, customer_person = demo_benchmark_orders(
        run.warehouse, data_dir / "truth", scoring_date, holdout_days
    )
    benchmarked = without_last_day_newcomers(orders, scoring_date)
    outcome = holdout_outcome(benchmarked, scoring_date, holdout_days)
    newcomers = (
        holdout_outcome(orders, scoring_date, holdout_days).customer_id.size - outcome.customer_id.size
    )
    scores = read_scores(run.warehouse, scoring_date).astype({"customer_id": str})
    # Customers known from CRM records alone are scored too; the references cannot score them (no order).
    with_orders = scores["customer_id"].isin(outcome.customer_id)
    clientele = clientele_row(
        outcome,
        aligned_scores(outcome, scores.loc[with_orders], "customer_id"),
        "the pipeline's scores as of the scoring date",
    )
    references = reference_rows(benchmarked, scoring_date, holdout_days)
    print(comparison_table(references, clientele))
    without_person = ~pd.Index(outcome.customer_id).isin(customer_person["customer_id"].astype(str))
    print(
        f"\nscoring date {scoring_date.date()}: {len(outcome.customer_id):,} customers with an order before it, "
        f"{int(outcome.churned.sum()):,} of them churned in the holdout, {int(without_person.sum())} without "
        f"a person in the truth (judged as not buying); left out: {newcomers} customers first seen the day "
        f"before it, {int((~with_orders).sum()) - newcomers:,} scored customers without an order (CRM only)"
    )
    print(_timing(run))


def code_version() -> str:
    """The commit the benchmark runs, and whether the working tree differs from it (scores depend on both)."""

    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted changes" if git("status", "--porcelain") else "")


def _timing(run: PipelineRun) -> str:
    if run.seconds is None:
        return f"pipeline: reused from {run.data_dir}"
    return f"pipeline wall time (import/generate + manifest + run_all): {run.seconds:.0f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=Path, default=CDNOW_SAMPLE, help="the CDNOW sample file")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run folder to keep (cdnow/ and demo/ in it); a run whose warehouse exists there is reused",
    )
    parser.add_argument("--holdout-days", type=int, default=CDNOW_HOLDOUT_DAYS)
    parser.add_argument("--demo-customers", type=int, default=2000)
    parser.add_argument("--demo-seed", type=int, default=7)
    parser.add_argument("--skip-cdnow", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    arguments = parser.parse_args(argv)
    root = arguments.keep.resolve() if arguments.keep else Path(tempfile.mkdtemp(prefix="bench_models_"))
    print(f"# Clientele's models against the issue-11 references (code: {code_version()})")
    try:
        if not arguments.skip_cdnow:
            cdnow_part(arguments.sample.resolve(), root / "cdnow", arguments.holdout_days)
        if not arguments.skip_demo:
            demo_part(arguments.demo_customers, arguments.demo_seed, root / "demo", arguments.holdout_days)
    finally:
        if arguments.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
