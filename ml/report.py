"""The model report of one model version: its holdout metrics rounded, labelled in words and set beside
each baseline's, the figures of `ml.plots`, and the metrics of a backtest over time, as a self-contained
HTML page and as Markdown for an asset's metadata.

Input is a `ModelEvaluation` (what the model and each baseline predicted for the same holdout customers,
and what those customers then did) and optionally `BacktestPoint`s (one metric of one series at one
scoring date). `build_report` computes the metrics with `ml.evaluate` and draws the figures; `report_html`,
`metrics_markdown` and `figures_markdown` render it. Nothing here reads files, the warehouse or Dagster.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ml import plots
from ml.evaluate import (
    calibration_summary,
    decile_mape,
    log_loss,
    normalized_gini,
    roc_auc,
    top_decile_lift,
    top_share_of_actual,
    total_spend_error,
)
from ml.files import write_atomically
from ml.model import Task

# How a metric is rounded and how its difference to a baseline is said:
#   score3 / score4: plain numbers, 3 / 4 decimals (AUC, Gini; log loss, Brier score)
#   lift: 2 decimals, 'x' times random
#   percent: a share in [0, 1] shown as a percentage, 1 decimal; differences in percentage points
#   signed_points: a difference of two shares, shown as +/- percentage points, 1 decimal
#   signed_percent: a relative difference, shown as +/- percent, 1 decimal
#   money: currency units, 2 decimals with thousands separators
MetricKind = Literal["score3", "score4", "lift", "percent", "signed_points", "signed_percent", "money"]
# Which way is better: a higher or lower value, one closer to zero (a bias), or neither.
Better = Literal["higher", "lower", "closer_to_zero", "neither"]
# The share of customers the top-decile metrics look at.
TOP_FRACTION = 0.1
# A model within this much of a metric's best possible value is said to be at its ceiling.
CEILING_TOLERANCE = 0.005
# Markdown for one metadata entry stays under this many characters (see `figures_markdown`).
DEFAULT_MARKDOWN_BUDGET = 400_000


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the report: `key` (e.g. 'churn_auc'; the name of `ml.evaluate.BENCHMARK_METRICS`
    where it is the same metric, so benchmark rows and backtests read alike), `label` in words with its
    direction ('Churn ROC AUC (higher is better)'), how it is rounded (`kind`) and which way is `better`."""

    key: str
    label: str
    kind: MetricKind
    better: Better


CHURN_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "churn_auc", "Churn ROC AUC (higher is better; 0.5 = random, 1 = perfect)", "score3", "higher"
    ),
    MetricSpec(
        "churn_normalized_gini",
        "Normalized Gini of the churn ranking (higher is better; 0 = random, 1 = perfect)",
        "score3",
        "higher",
    ),
    MetricSpec(
        "churn_top_decile_lift", "Churn-rate lift in the riskiest 10% (higher is better)", "lift", "higher"
    ),
    MetricSpec("churn_log_loss", "Log loss of the churn probabilities (lower is better)", "score4", "lower"),
    MetricSpec(
        "churn_brier_score", "Brier score of the churn probabilities (lower is better)", "score4", "lower"
    ),
    MetricSpec(
        "churn_calibration_max_gap",
        "Largest gap between predicted and observed churn rate over 10 probability bins (lower is better)",
        "percent",
        "lower",
    ),
    MetricSpec(
        "churn_mean_bias",
        "Mean predicted churn probability minus observed churn rate (closer to 0 is better)",
        "signed_points",
        "closer_to_zero",
    ),
)
CLV_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "spend_normalized_gini",
        "Normalized Gini of the CLV ranking (higher is better; 0 = random, 1 = perfect order)",
        "score3",
        "higher",
    ),
    MetricSpec(
        "spend_top_decile_lift",
        "Revenue lift in the top 10% by predicted value (higher is better)",
        "lift",
        "higher",
    ),
    MetricSpec(
        "top_decile_spend_capture",
        "Share of holdout revenue from the top 10% by predicted value (higher is better)",
        "percent",
        "higher",
    ),
    MetricSpec(
        "spend_mean_absolute_error", "Mean absolute error per customer (lower is better)", "money", "lower"
    ),
    MetricSpec(
        "spend_decile_mape",
        "Mean absolute error of the predicted revenue of each decile, relative to actual (lower is better)",
        "percent",
        "lower",
    ),
    MetricSpec(
        "total_spend_error",
        "Predicted minus actual total revenue, relative to actual (closer to 0 is better)",
        "signed_percent",
        "closer_to_zero",
    ),
)
# Metrics bounded by the holdout itself: shown with the value a perfect ranking reaches.
CEILINGED = frozenset({"churn_top_decile_lift", "spend_top_decile_lift", "top_decile_spend_capture"})
# The metric the backtest chart follows over time.
PRIMARY_METRIC: Mapping[Task, str] = {"churn": "churn_auc", "clv": "spend_normalized_gini"}


@dataclass(frozen=True)
class ModelEvaluation:
    """What one model version and its baselines predicted for the same holdout customers, and what those
    customers then did.

    `actual`: per customer, 1 if they churned else 0 (task 'churn'), or their net revenue over the
    horizon in currency units (task 'clv'), observed after `evaluated_on` (the holdout snapshot date).
    `predicted`: the model's churn probability in [0, 1], or predicted revenue, for the same rows in the
    same order; each of `baselines` (label -> predictions, e.g. 'BTYD (BG/NBD + Gamma-Gamma)',
    'current champion') likewise. `feature_importance`: feature -> split gain (empty for a model without
    one). `scores`: the scoring run's predictions for the score distribution (the holdout predictions
    when None), `training_predictions` the training rows' to overlay. `extra_metrics`: further metrics
    computed elsewhere, spec -> series label (model or baseline) -> value, shown after the computed
    ones. Arrays are taken as float64; raises ValueError on length mismatch, NaN or no rows.
    """

    task: Task
    model_version: str
    model_label: str
    horizon_days: int
    evaluated_on: date
    actual: np.ndarray
    predicted: np.ndarray
    baselines: Mapping[str, np.ndarray] = field(default_factory=dict)
    feature_importance: Mapping[str, float] = field(default_factory=dict)
    scores: np.ndarray | None = None
    training_predictions: np.ndarray | None = None
    scoring_date: date | None = None
    currency: str = ""
    extra_metrics: Mapping[MetricSpec, Mapping[str, float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in ("churn", "clv"):
            raise ValueError(f"task must be 'churn' or 'clv', got {self.task!r}")
        actual = _float_array(self.actual, "actual")
        if actual.size == 0:
            raise ValueError("a model evaluation needs at least one holdout customer")
        if self.task == "churn" and not np.isin(actual, (0.0, 1.0)).all():
            raise ValueError("churn `actual` must hold 0 (stayed) or 1 (churned) only")
        object.__setattr__(self, "actual", actual)
        object.__setattr__(self, "predicted", _float_array(self.predicted, "predicted", actual.size))
        if self.model_label in self.baselines:
            raise ValueError(f"a baseline has the model's label {self.model_label!r}")
        baselines = {
            label: _float_array(values, f"baseline {label!r}", actual.size)
            for label, values in self.baselines.items()
        }
        object.__setattr__(self, "baselines", baselines)
        for name in ("scores", "training_predictions"):
            values = getattr(self, name)
            if values is not None:
                object.__setattr__(self, name, _float_array(values, name))

    @property
    def series(self) -> dict[str, np.ndarray]:
        """The model's and each baseline's predictions by label, the model first."""
        return {self.model_label: self.predicted, **self.baselines}


@dataclass(frozen=True)
class BacktestPoint:
    """One metric (`metric`, a `MetricSpec.key`) of one series (the model's or a baseline's label) on the
    holdout of one `scoring_date`; None where that holdout leaves it undefined."""

    scoring_date: date
    series: str
    metric: str
    value: float | None


@dataclass(frozen=True)
class MetricRow:
    """One line of the metrics table: raw `values` by series label (the model first; None where
    undefined, with the reason in `undefined`), the best possible value (`ceiling`, for metrics bounded
    by the data, e.g. top-decile lift) and a `note` in words."""

    spec: MetricSpec
    values: Mapping[str, float | None]
    undefined: Mapping[str, str] = field(default_factory=dict)
    ceiling: float | None = None
    note: str = ""


@dataclass(frozen=True)
class ReportFigure:
    """One figure: `key` (e.g. 'gains'), a `title`, a `caption` saying how to read it, and its PNG."""

    key: str
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class ModelReport:
    """Everything the report shows: the evaluation, its metric rows, its figures, the backtest points and
    `notes` on what could not be shown and why."""

    evaluation: ModelEvaluation
    metrics: tuple[MetricRow, ...]
    figures: tuple[ReportFigure, ...]
    backtest: tuple[BacktestPoint, ...]
    notes: tuple[str, ...]

    @property
    def title(self) -> str:
        """'Churn model report: <label> <version>' or the CLV equivalent."""
        what = "Churn" if self.evaluation.task == "churn" else "Customer lifetime value"
        return f"{what} model report: {self.evaluation.model_label} {self.evaluation.model_version}"


def _float_array(values: object, name: str, size: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype="float64")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if size is not None and array.size != size:
        raise ValueError(f"{name} has {array.size} values for {size} holdout customers")
    if np.isnan(array).any():
        raise ValueError(f"{name} holds NaN")
    return array


# ---------------------------------------------------------------------------------------------- metrics


def specs_for(task: Task) -> tuple[MetricSpec, ...]:
    """The metrics computed for a task, in the order the table shows them."""
    return CHURN_METRICS if task == "churn" else CLV_METRICS


def evaluation_metrics(evaluation: ModelEvaluation) -> tuple[MetricRow, ...]:
    """One row per metric of `specs_for(task)`, then one per `extra_metrics` entry, with the model's and
    each baseline's value on the same holdout rows. A metric the holdout leaves undefined (AUC with one
    class only, lift without any churner) is None with the reason, never an error."""
    actual = evaluation.actual
    compute = _churn_metric if evaluation.task == "churn" else _clv_metric
    rows = []
    for spec in specs_for(evaluation.task):
        values: dict[str, float | None] = {}
        undefined: dict[str, str] = {}
        for label, predicted in evaluation.series.items():
            try:
                values[label] = compute(spec.key, actual, predicted)
            except ValueError as error:
                values[label] = None
                undefined[label] = str(error)
        ceiling, note = _ceiling(evaluation, spec, values)
        rows.append(MetricRow(spec, values, undefined, ceiling, note))
    for spec, by_series in evaluation.extra_metrics.items():
        rows.append(MetricRow(spec, {label: by_series.get(label) for label in evaluation.series}))
    return tuple(rows)


def _churn_metric(key: str, actual: np.ndarray, predicted: np.ndarray) -> float:
    n = actual.size
    churned = int(actual.sum())
    if key in ("churn_auc", "churn_normalized_gini"):
        if churned in (0, n):
            outcome = "churned" if churned == n else "stayed"
            raise ValueError(
                f"undefined: all {n:,} holdout customers {outcome}, so there is no ranking to judge"
            )
        return roc_auc(actual, predicted) if key == "churn_auc" else normalized_gini(actual, predicted)
    if key == "churn_top_decile_lift":
        if churned == 0:
            raise ValueError(f"undefined: none of the {n:,} holdout customers churned")
        return top_decile_lift(actual, predicted, TOP_FRACTION)
    if key == "churn_log_loss":
        return log_loss(actual, predicted)
    if key == "churn_brier_score":
        return float(np.mean((predicted - actual) ** 2))
    if key == "churn_calibration_max_gap":
        bins = calibration_summary(actual, predicted)
        return float((bins["mean_predicted"] - bins["mean_actual"]).abs().max())
    if key == "churn_mean_bias":
        return float(predicted.mean() - actual.mean())
    raise KeyError(key)


def _clv_metric(key: str, actual: np.ndarray, predicted: np.ndarray) -> float:
    n = actual.size
    total = float(actual.sum())
    if key == "spend_normalized_gini":
        if np.ptp(actual) == 0 or total == 0:
            raise ValueError(
                f"undefined: all {n:,} holdout customers have the same revenue ({actual[0]:,.2f}), "
                "so there is no order to rank"
            )
        return normalized_gini(actual, predicted)
    if key == "spend_mean_absolute_error":
        return float(np.mean(np.abs(predicted - actual)))
    if total <= 0:
        raise ValueError(f"undefined: the {n:,} holdout customers spent nothing in total")
    if key == "spend_top_decile_lift":
        return top_decile_lift(actual, predicted, TOP_FRACTION)
    if key == "top_decile_spend_capture":
        return top_share_of_actual(actual, predicted, TOP_FRACTION)
    if key == "spend_decile_mape":
        return decile_mape(actual, predicted)
    if key == "total_spend_error":
        return total_spend_error(actual, predicted)
    raise KeyError(key)


def _ceiling(
    evaluation: ModelEvaluation, spec: MetricSpec, values: Mapping[str, float | None]
) -> tuple[float | None, str]:
    """The best value a perfect ranking reaches on this holdout, for the metrics the data bounds."""
    actual = evaluation.actual
    if spec.key not in CEILINGED or actual.sum() <= 0:
        return None, ""
    if spec.key in ("churn_top_decile_lift", "spend_top_decile_lift"):
        ceiling = top_decile_lift(actual, actual, TOP_FRACTION)
        why = f"{_format(spec, ceiling, evaluation.currency)} with a perfect ranking"
        base_rate = float(actual.mean())
        if evaluation.task == "churn" and base_rate >= TOP_FRACTION:
            why += f" (1 / churn rate {base_rate * 100:.1f}%)"
    else:
        ceiling = top_share_of_actual(actual, actual, TOP_FRACTION)
        why = f"{_format(spec, ceiling, evaluation.currency)} with a perfect ranking"
    model = values.get(evaluation.model_label)
    at_ceiling = model is not None and model >= ceiling * (1 - CEILING_TOLERANCE)
    return ceiling, ("at its ceiling: " if at_ceiling else "best possible: ") + why


# ------------------------------------------------------------------------------------------- formatting


# How each kind is shown: factor to display units, decimals, and the unit of a difference.
_DISPLAY: Mapping[MetricKind, tuple[float, int, str]] = {
    "score3": (1.0, 3, ""),
    "score4": (1.0, 4, ""),
    "lift": (1.0, 2, ""),
    "percent": (100.0, 1, " pp"),
    "signed_points": (100.0, 1, " pp"),
    "signed_percent": (100.0, 1, " pp"),
    "money": (1.0, 2, ""),
}


def _shown(spec: MetricSpec, value: float) -> float:
    """`value` in display units, rounded as shown (34.2 for a 0.3421 percent)."""
    factor, decimals, _ = _DISPLAY[spec.kind]
    return round(value * factor, decimals)


def _format(spec: MetricSpec, value: float | None, currency: str = "") -> str:
    """`value` rounded as its kind says, e.g. 0.812, 0.4312, 1.48, 34.2%, +2.1 pp, +3.5%, EUR 1,234.50."""
    if value is None:
        return "undefined"
    shown = _shown(spec, value)
    decimals = _DISPLAY[spec.kind][1]
    if spec.kind == "percent":
        return f"{shown:.{decimals}f}%"
    if spec.kind == "signed_points":
        return f"{shown:+.{decimals}f} pp"
    if spec.kind == "signed_percent":
        return f"{shown:+.{decimals}f}%"
    if spec.kind == "money":
        return f"{currency} {shown:,.{decimals}f}".strip()
    return f"{shown:.{decimals}f}"


def format_value(row: MetricRow, series: str, currency: str = "") -> str:
    """A series' value of `row` as the table shows it; a bounded metric adds its ceiling ('1.48 of a
    possible 1.52')."""
    value = row.values.get(series)
    text = _format(row.spec, value, currency)
    if value is not None and row.ceiling is not None:
        text += f" of a possible {_format(row.spec, row.ceiling, currency)}"
    return text


def format_difference(row: MetricRow, model: str, baseline: str) -> str:
    """The model's value minus the baseline's, as shown (so the table adds up), with whether that is
    better: '+0.034 (better)', '-1.2 pp (worse)', '+0.00 (same)', '2.0 pp closer to 0'; '' when either
    is undefined."""
    mine, theirs = row.values.get(model), row.values.get(baseline)
    if mine is None or theirs is None:
        return ""
    spec = row.spec
    _, decimals, unit = _DISPLAY[spec.kind]
    if spec.better == "closer_to_zero":  # biases: compare their sizes
        gap = round(abs(_shown(spec, mine)) - abs(_shown(spec, theirs)), decimals)
        if gap == 0:
            return "as close to 0"
        return f"{abs(gap):,.{decimals}f}{unit} {'closer to' if gap < 0 else 'further from'} 0"
    difference = round(_shown(spec, mine) - _shown(spec, theirs), decimals)
    text = f"{difference:+,.{decimals}f}{unit}"
    if spec.better == "neither":
        return text
    if difference == 0:
        return f"{text} (same)"
    better = difference > 0 if spec.better == "higher" else difference < 0
    return f"{text} ({'better' if better else 'worse'})"


def _row_note(row: MetricRow) -> str:
    parts = [row.note] if row.note else []
    parts += [f"{label}: {why}" for label, why in row.undefined.items()]
    return "; ".join(parts)


def _table_cells(report: ModelReport) -> tuple[list[str], list[list[str]]]:
    """Header and body of the metrics table: metric, model, then each baseline and the model's
    difference to it, then a note."""
    evaluation = report.evaluation
    model = evaluation.model_label
    header = ["Metric", model]
    for baseline in evaluation.baselines:
        header += [baseline, f"{model} vs {baseline}"]
    header.append("Note")
    body = []
    for row in report.metrics:
        cells = [row.spec.label, format_value(row, model, evaluation.currency)]
        for baseline in evaluation.baselines:
            cells += [
                format_value(row, baseline, evaluation.currency),
                format_difference(row, model, baseline),
            ]
        cells.append(_row_note(row))
        body.append(cells)
    return header, body


# -------------------------------------------------------------------------------------------- backtest


def backtest_points(evaluation: ModelEvaluation) -> tuple[BacktestPoint, ...]:
    """The points one evaluation adds to a backtest: each computed metric of each series at
    `evaluated_on`. Evaluate each month's holdout and concatenate the points to follow them over time."""
    return tuple(
        BacktestPoint(evaluation.evaluated_on, series, row.spec.key, value)
        for row in evaluation_metrics(evaluation)
        for series, value in row.values.items()
    )


def backtest_table(points: Sequence[BacktestPoint], metric: str) -> pd.DataFrame:
    """One metric of a backtest as a table: one row per scoring date (ascending), one column per series
    (in order of first appearance), NaN where a value is undefined or missing."""
    chosen = [p for p in points if p.metric == metric]
    if not chosen:
        return pd.DataFrame()
    frame = pd.DataFrame(
        {
            "scoring_date": [pd.Timestamp(p.scoring_date) for p in chosen],
            "series": [p.series for p in chosen],
            "value": [np.nan if p.value is None else float(p.value) for p in chosen],
        }
    )
    order = list(dict.fromkeys(frame["series"]))
    table = frame.pivot_table(
        index="scoring_date", columns="series", values="value", aggfunc="last", dropna=False
    )
    return table.reindex(columns=order).sort_index()


def _spec_by_key(task: Task, key: str, extra: Sequence[MetricSpec] = ()) -> MetricSpec:
    for spec in (*specs_for(task), *extra):
        if spec.key == key:
            return spec
    return MetricSpec(key, key, "score4", "neither")


def _backtest_metric(report: ModelReport) -> str | None:
    """The metric the backtest chart follows: the task's primary one if the backtest has it."""
    present = list(dict.fromkeys(p.metric for p in report.backtest))
    if not present:
        return None
    primary = PRIMARY_METRIC[report.evaluation.task]
    return primary if primary in present else present[0]


# --------------------------------------------------------------------------------------------- figures


def build_report(evaluation: ModelEvaluation, backtest: Sequence[BacktestPoint] = ()) -> ModelReport:
    """Metrics and figures of `evaluation`, and the backtest chart of `backtest` (the task's primary
    metric over the scoring dates; none for an empty backtest). A figure the data cannot support (gains
    without any churner, importance of a model without one) is left out with a note saying why."""
    metrics = evaluation_metrics(evaluation)
    figures: list[ReportFigure] = []
    notes: list[str] = []
    task, currency = evaluation.task, evaluation.currency
    series = evaluation.series
    outcome = "churners" if task == "churn" else "revenue"
    if evaluation.actual.sum() > 0:
        figures.append(
            ReportFigure(
                "gains",
                "Cumulative gains",
                f"Share of all holdout {outcome} among the customers each model ranks highest; the higher "
                "and further left the curve, the better. Dotted: random order; dashed: perfect order.",
                plots.gains_chart(task, evaluation.actual, series),
            )
        )
        figures.append(
            ReportFigure(
                "lift",
                "Cumulative lift",
                f"How many times the random share of {outcome} the top customers hold; the vertical line "
                "marks the top 10% (the top-decile lift of the table).",
                plots.lift_chart(task, evaluation.actual, series),
            )
        )
    else:
        notes.append(f"No gains or lift chart: the holdout has no {outcome} to capture.")
    figures.append(
        ReportFigure(
            "calibration",
            "Calibration",
            "Mean prediction against mean outcome in each tenth of customers by prediction; a calibrated "
            "model lies on the dashed diagonal.",
            plots.calibration_chart(task, evaluation.actual, series, currency),
        )
    )
    figures.append(
        ReportFigure(
            "deciles",
            "Predicted vs actual by decile",
            f"{evaluation.model_label}: mean prediction and mean outcome per decile of its prediction "
            "(1 = highest 10%).",
            plots.decile_chart(task, evaluation.actual, evaluation.predicted, currency),
        )
    )
    if evaluation.feature_importance:
        figures.append(
            ReportFigure(
                "feature_importance",
                "Feature importance",
                "The features the model's splits gained most from, as a share of the total gain.",
                plots.importance_chart(evaluation.feature_importance),
            )
        )
    else:
        notes.append(f"No feature importance: {evaluation.model_label} reports none.")
    scores = evaluation.scores if evaluation.scores is not None else evaluation.predicted
    scores_label = "scoring run" if evaluation.scores is not None else "holdout"
    figures.append(
        ReportFigure(
            "score_distribution",
            "Score distribution",
            f"{evaluation.model_label}: share of customers per prediction bin in the {scores_label}"
            + (
                ", the training rows' distribution as a line."
                if evaluation.training_predictions is not None
                else "."
            ),
            plots.distribution_chart(task, scores, evaluation.training_predictions, currency, scores_label),
        )
    )
    report = ModelReport(evaluation, metrics, tuple(figures), tuple(backtest), ())
    metric = _backtest_metric(report)
    if metric is None:
        notes.append("No backtest over time yet: no monthly metrics were given.")
    else:
        spec = _spec_by_key(task, metric, tuple(evaluation.extra_metrics))
        table = backtest_table(report.backtest, metric)
        short_label = spec.label.split(" (")[0]
        figures.append(
            ReportFigure(
                "backtest",
                "Backtest over time",
                f"{short_label} of each series on the holdout of each scoring date.",
                plots.over_time_chart(
                    short_label,
                    list(table.index),
                    {str(c): [None if pd.isna(v) else float(v) for v in table[c]] for c in table.columns},
                ),
            )
        )
    return ModelReport(evaluation, metrics, tuple(figures), tuple(backtest), tuple(notes))


# ------------------------------------------------------------------------------------ markdown and html


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def metrics_markdown(report: ModelReport) -> str:
    """The metrics table as Markdown (model, each baseline and the difference), for an asset's metadata."""
    header, body = _table_cells(report)
    lines = [
        "| " + " | ".join(_markdown_cell(h) for h in header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_markdown_cell(c) for c in cells) + " |" for cells in body),
    ]
    return "\n".join([_facts_line(report), "", *lines, *("", *(f"- {n}" for n in report.notes))])


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figures_markdown(
    report: ModelReport, max_chars: int = DEFAULT_MARKDOWN_BUDGET, keys: Sequence[str] | None = None
) -> str:
    """The figures (all, or those of `keys` in that order) as Markdown with inlined PNG images
    (`![title](data:image/png;base64,...)`), each under a heading with its caption, for a Markdown
    metadata entry. Figures that would take the text past `max_chars` are left out and named at the
    end, so one entry stays within what the UI shows."""
    chosen = report.figures if keys is None else [f for k in keys for f in report.figures if f.key == k]
    parts: list[str] = [f"**{report.title}**"]
    left_out: list[str] = []
    used = len(parts[0])
    for figure in chosen:
        block = f"\n\n#### {figure.title}\n\n![{figure.title}]({_data_uri(figure.png)})\n\n{figure.caption}"
        if used + len(block) > max_chars - 200:  # room for the closing line
            left_out.append(figure.title)
            continue
        parts.append(block)
        used += len(block)
    if left_out:
        parts.append(f"\n\nLeft out to stay under {max_chars:,} characters: {', '.join(left_out)}.")
    return "".join(parts)


def _facts(report: ModelReport) -> list[tuple[str, str]]:
    evaluation = report.evaluation
    actual = evaluation.actual
    facts = [
        ("Model", f"{evaluation.model_label} ({evaluation.model_version})"),
        ("Horizon", f"{evaluation.horizon_days} days after the snapshot"),
        ("Holdout snapshot", str(evaluation.evaluated_on)),
        ("Holdout customers", f"{actual.size:,}"),
    ]
    if evaluation.task == "churn":
        facts.append(("Observed churn rate", f"{actual.mean() * 100:.1f}%"))
    else:
        money = f"{evaluation.currency} ".lstrip()
        facts.append(
            (
                "Actual revenue",
                f"{money}{actual.sum():,.2f} in total, {money}{actual.mean():,.2f} per customer",
            )
        )
    if evaluation.scoring_date is not None:
        facts.append(("Scoring date", str(evaluation.scoring_date)))
    if evaluation.baselines:
        facts.append(("Baselines", ", ".join(evaluation.baselines)))
    return facts


def _facts_line(report: ModelReport) -> str:
    return " · ".join(f"{name}: {value}" for name, value in _facts(report))


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
th { background: #f3f3f3; text-align: left; } td.value { text-align: right; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.facts dt { font-weight: 600; } figure { display: inline-block; margin: 1em 1em 1em 0; max-width: 640px; }
figcaption { font-size: 0.85em; color: #555; } .note { color: #555; }
"""


def report_html(report: ModelReport) -> str:
    """The whole report as one self-contained HTML page: inline CSS, images as data URIs, no script and no
    external reference, readable offline."""
    e = html.escape
    header, body = _table_cells(report)
    n_cells = len(header)
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{e(c)}</td>" if i in (0, n_cells - 1) else f'<td class="value">{e(c)}</td>'
            for i, c in enumerate(cells)
        )
        + "</tr>"
        for cells in body
    )
    table = f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in header)}</tr></thead><tbody>{rows}</tbody></table>"
    facts = "".join(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in _facts(report))
    figures = "\n".join(
        f'<figure id="{e(f.key)}"><img alt="{e(f.title)}" src="{_data_uri(f.png)}" width="{plots.DPI * 6.4:.0f}">'
        f"<figcaption><strong>{e(f.title)}.</strong> {e(f.caption)}</figcaption></figure>"
        for f in report.figures
        if f.key != "backtest"
    )
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in report.notes)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{e(report.title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{e(report.title)}</h1>",
            f'<dl class="facts">{facts}</dl>',
            "<h2>Metrics on the holdout, beside the baselines</h2>",
            table,
            "<h2>Figures</h2>",
            figures,
            notes,
            "<h2>Backtest over time</h2>",
            _backtest_html(report),
            "</body></html>",
        ]
    )


def _backtest_html(report: ModelReport) -> str:
    e = html.escape
    metric = _backtest_metric(report)
    if metric is None:
        return '<p class="note">No backtest over time yet: no monthly metrics were given.</p>'
    parts = [
        f'<figure id="backtest"><img alt="{e(f.title)}" src="{_data_uri(f.png)}" width="640">'
        f"<figcaption><strong>{e(f.title)}.</strong> {e(f.caption)}</figcaption></figure>"
        for f in report.figures
        if f.key == "backtest"
    ]
    extra = tuple(report.evaluation.extra_metrics)
    for key in dict.fromkeys(p.metric for p in report.backtest):
        spec = _spec_by_key(report.evaluation.task, key, extra)
        table = backtest_table(report.backtest, key)
        head = "".join(f"<th>{e(str(c))}</th>" for c in ["Scoring date", *table.columns])
        body = "".join(
            f"<tr><td>{e(str(day.date()))}</td>"
            + "".join(
                f'<td class="value">{e(_format(spec, None if pd.isna(v) else float(v), report.evaluation.currency))}</td>'
                for v in values
            )
            + "</tr>"
            for day, values in zip(table.index, table.to_numpy(), strict=True)
        )
        parts.append(
            f"<h3>{e(spec.label)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    return "\n".join(parts)


def write_report_html(report: ModelReport, path: Path) -> Path:
    """Write `report_html(report)` to `path` atomically (a new file renamed into place), so a reader sees
    the previous report or the new one, whole. Creates the folder; returns `path`."""
    return write_atomically(Path(path), report_html(report))
