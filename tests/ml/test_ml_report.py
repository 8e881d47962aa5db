"""The model report: figures are real PNGs of the report's size, the HTML stands alone, metrics are rounded,
labelled and set beside each baseline, and a holdout that leaves a metric undefined says so."""

from __future__ import annotations

import base64
import io
import re
import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.evaluate import decile_mape, normalized_gini, top_share_of_actual, total_spend_error
from ml.report import (
    CHURN_METRICS,
    CLV_METRICS,
    BacktestPoint,
    MetricRow,
    MetricSpec,
    ModelEvaluation,
    ModelReport,
    backtest_points,
    backtest_table,
    build_report,
    evaluation_metrics,
    figures_markdown,
    format_difference,
    format_value,
    metrics_markdown,
    report_html,
    write_report_html,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BTYD = "BTYD (BG/NBD + Gamma-Gamma)"
CHAMPION = "current champion"
ALL_FIGURES = {
    "gains",
    "lift",
    "calibration",
    "deciles",
    "feature_importance",
    "score_distribution",
    "backtest",
}
N = 600


def churn_evaluation(**changes: object) -> ModelEvaluation:
    rng = np.random.default_rng(7)
    risk = rng.uniform(size=N)
    actual = (rng.uniform(size=N) < 0.1 + 0.7 * risk).astype(float)
    settings: dict[str, object] = {
        "task": "churn",
        "model_version": "churn-lgbm-0123456789ab",
        "model_label": "LightGBM",
        "horizon_days": 90,
        "evaluated_on": date(2025, 9, 30),
        "actual": actual,
        "predicted": np.clip(0.1 + 0.7 * risk + rng.normal(0, 0.1, N), 0, 1),
        "baselines": {
            BTYD: np.clip(risk + rng.normal(0, 0.3, N), 0, 1),
            CHAMPION: np.clip(0.1 + 0.7 * risk + rng.normal(0, 0.2, N), 0, 1),
        },
        "feature_importance": {f"feature_{i:02d}": float(i + 1) for i in range(20)},
        "scores": rng.beta(2, 3, N),
        "training_predictions": rng.beta(2, 3, 2 * N),
        "scoring_date": date(2025, 12, 29),
    }
    settings.update(changes)
    return ModelEvaluation(**settings)  # type: ignore[arg-type]


def clv_evaluation(**changes: object) -> ModelEvaluation:
    rng = np.random.default_rng(8)
    revenue = rng.gamma(0.5, 200.0, N) * (rng.uniform(size=N) < 0.6)
    settings: dict[str, object] = {
        "task": "clv",
        "model_version": "clv-lgbm-0123456789ab",
        "model_label": "LightGBM",
        "horizon_days": 365,
        "evaluated_on": date(2024, 12, 30),
        "actual": revenue,
        "predicted": revenue * rng.lognormal(0, 0.5, N) + 5.0,
        "baselines": {BTYD: revenue.mean() + rng.normal(0, 10, N)},
        "currency": "EUR",
    }
    settings.update(changes)
    return ModelEvaluation(**settings)  # type: ignore[arg-type]


MONTHLY = tuple(
    BacktestPoint(date(2025, month, 1), series, "churn_auc", value)
    for month in range(1, 7)
    for series, value in (
        ("LightGBM", 0.80 + month / 100),
        (BTYD, 0.70),
        (CHAMPION, None if month == 3 else 0.75),
    )
)


@pytest.fixture(scope="module")
def churn_report() -> ModelReport:
    return build_report(churn_evaluation(), MONTHLY)


@pytest.fixture(scope="module")
def clv_report() -> ModelReport:
    return build_report(clv_evaluation())


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_every_figure_is_a_small_png_of_the_report_size(churn_report: ModelReport) -> None:
    assert {f.key for f in churn_report.figures} == ALL_FIGURES
    for figure in churn_report.figures:
        assert png_size(figure.png) == (640, 400), figure.key
        with Image.open(io.BytesIO(figure.png)) as image:
            image.load()  # decodes the whole image, not only its header
            assert image.size == (640, 400)
        # a page of seven figures stays light: palette PNGs of a few tens of kilobytes
        assert len(figure.png) < 60_000, (figure.key, len(figure.png))
        assert figure.title and figure.caption


def test_html_report_stands_alone(churn_report: ModelReport) -> None:
    page = report_html(churn_report)
    assert page.startswith("<!DOCTYPE html>")
    # no network needed to read it: no link out, no script, every image inlined
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|//|\burl\(|@import", text, re.IGNORECASE)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == len(churn_report.figures)
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        png_size(base64.b64decode(source.split(",", 1)[1]))
    for spec in CHURN_METRICS:
        assert spec.label in page
    # each baseline's own value beside the model's, and the difference
    auc = churn_report.metrics[0]
    for label in (BTYD, CHAMPION):
        assert label in page
        assert f'<td class="value">{format_value(auc, label)}</td>' in page
        assert format_difference(auc, "LightGBM", label) in page
    assert "Backtest over time" in page and "2025-06-01" in page


def test_metrics_are_rounded_and_labelled_in_words(churn_report: ModelReport) -> None:
    rows = {row.spec.key: row for row in churn_report.metrics}
    assert [row.spec.key for row in churn_report.metrics] == [spec.key for spec in CHURN_METRICS]
    assert rows["churn_auc"].spec.label.startswith("Churn ROC AUC (higher is better")
    assert re.fullmatch(r"0\.\d{3}", format_value(rows["churn_auc"], "LightGBM"))
    assert re.fullmatch(r"-?0\.\d{3}", format_value(rows["churn_normalized_gini"], BTYD))
    assert re.fullmatch(r"\d\.\d{4}", format_value(rows["churn_log_loss"], "LightGBM"))
    assert re.fullmatch(r"\d+\.\d%", format_value(rows["churn_calibration_max_gap"], "LightGBM"))
    assert re.fullmatch(r"[+-]\d+\.\d pp", format_value(rows["churn_mean_bias"], "LightGBM"))
    markdown = metrics_markdown(churn_report)
    assert (
        f"| Metric | LightGBM | {BTYD} | LightGBM vs {BTYD} | {CHAMPION} | LightGBM vs {CHAMPION} | Note |"
        in markdown
    )
    assert "Observed churn rate:" in markdown


def test_formatting_and_differences_by_kind() -> None:
    def row(kind: str, better: str, model: float | None, baseline: float | None) -> MetricRow:
        spec = MetricSpec("m", "a metric", kind, better)  # type: ignore[arg-type]
        return MetricRow(spec, {"model": model, "baseline": baseline})

    auc = row("score3", "higher", 0.81234, 0.75551)
    assert format_value(auc, "model") == "0.812"
    # the difference of the values as shown, so the table adds up (0.812 - 0.756)
    assert format_difference(auc, "model", "baseline") == "+0.056 (better)"
    logloss = row("score4", "lower", 0.43216, 0.41)
    assert (format_value(logloss, "model"), format_difference(logloss, "model", "baseline")) == (
        "0.4322",
        "+0.0222 (worse)",
    )
    share = row("percent", "higher", 0.3421, 0.3421)
    assert format_value(share, "model") == "34.2%"
    assert format_difference(share, "model", "baseline") == "+0.0 pp (same)"
    money = row("money", "lower", 1234.5, 1300.0)
    assert format_value(money, "model", "EUR") == "EUR 1,234.50"
    assert format_difference(money, "model", "baseline") == "-65.50 (better)"
    bias = row("signed_points", "closer_to_zero", -0.012, 0.031)
    assert format_value(bias, "model") == "-1.2 pp"
    assert format_difference(bias, "model", "baseline") == "1.9 pp closer to 0"
    assert format_difference(row("signed_percent", "closer_to_zero", 0.05, -0.05), "model", "baseline") == (
        "as close to 0"
    )
    undefined = row("score3", "higher", None, 0.7)
    assert format_value(undefined, "model") == "undefined"
    assert format_difference(undefined, "model", "baseline") == ""


def test_top_decile_lift_is_shown_against_its_ceiling() -> None:
    # churn rate 50%: the riskiest 10% can at best all churn, a lift of 1 / 0.5 = 2
    actual = np.array([1.0, 0.0] * 50)
    perfect = build_metrics(actual, actual + 0.5 * np.linspace(0, 0.1, 100), np.linspace(1, 0, 100))
    lift = perfect["churn_top_decile_lift"]
    assert lift.ceiling == pytest.approx(2.0)
    assert format_value(lift, "LightGBM") == "2.00 of a possible 2.00"
    assert lift.note == "at its ceiling: 2.00 with a perfect ranking (1 / churn rate 50.0%)"
    assert format_value(lift, "reversed") == "1.00 of a possible 2.00"


def build_metrics(actual: np.ndarray, model: np.ndarray, other: np.ndarray) -> dict[str, MetricRow]:
    evaluation = ModelEvaluation(
        "churn", "v1", "LightGBM", 90, date(2025, 1, 1), actual, np.clip(model, 0, 1), {"reversed": other}
    )
    return {row.spec.key: row for row in evaluation_metrics(evaluation)}


def test_clv_report_in_money(clv_report: ModelReport) -> None:
    rows = {row.spec.key: row for row in clv_report.metrics}
    assert list(rows) == [spec.key for spec in CLV_METRICS]
    assert rows["spend_normalized_gini"].values["LightGBM"] > rows["spend_normalized_gini"].values[BTYD]  # type: ignore[operator]
    assert re.fullmatch(
        r"EUR \d{1,3}(,\d{3})*\.\d{2}", format_value(rows["spend_mean_absolute_error"], "LightGBM", "EUR")
    )
    assert re.fullmatch(
        r"\d+\.\d% of a possible \d+\.\d%", format_value(rows["top_decile_spend_capture"], BTYD, "EUR")
    )
    assert rows["spend_top_decile_lift"].note.startswith("best possible: ")
    # no feature importance given: left out, and the report says why; no backtest either
    assert {f.key for f in clv_report.figures} == ALL_FIGURES - {"feature_importance", "backtest"}
    assert any("No feature importance" in note for note in clv_report.notes)
    page = report_html(clv_report)
    assert "No backtest over time yet" in page and "Actual revenue" in page and "EUR" in page


def test_report_uses_the_benchmark_definitions(clv_report: ModelReport) -> None:
    # one definition per metric: the report's numbers are the benchmark table's
    evaluation = clv_report.evaluation
    rows = {row.spec.key: row for row in clv_report.metrics}
    for key, metric in (
        ("spend_normalized_gini", normalized_gini),
        ("total_spend_error", total_spend_error),
        ("spend_decile_mape", decile_mape),
        ("top_decile_spend_capture", top_share_of_actual),
    ):
        assert rows[key].values[BTYD] == metric(evaluation.actual, evaluation.baselines[BTYD])


def test_report_without_a_baseline() -> None:
    report = build_report(churn_evaluation(baselines={}, feature_importance={}, training_predictions=None))
    markdown = metrics_markdown(report)
    assert "| Metric | LightGBM | Note |" in markdown
    assert all(list(row.values) == ["LightGBM"] for row in report.metrics)
    assert "<th>LightGBM</th><th>Note</th>" in report_html(report)


@pytest.mark.parametrize(("outcome", "value"), [("churned", 1.0), ("stayed", 0.0)])
def test_one_class_only_leaves_ranking_metrics_undefined_and_says_why(outcome: str, value: float) -> None:
    evaluation = churn_evaluation(actual=np.full(N, value))
    rows = {row.spec.key: row for row in evaluation_metrics(evaluation)}
    auc = rows["churn_auc"]
    assert auc.values == {"LightGBM": None, BTYD: None, CHAMPION: None}
    assert auc.undefined["LightGBM"] == (
        f"undefined: all {N} holdout customers {outcome}, so there is no ranking to judge"
    )
    assert format_value(auc, "LightGBM") == "undefined"
    assert format_difference(auc, "LightGBM", BTYD) == ""
    # calibration and log loss stay defined
    assert rows["churn_log_loss"].values["LightGBM"] is not None
    if outcome == "stayed":
        assert rows["churn_top_decile_lift"].undefined["LightGBM"].startswith("undefined: none of the")
        report = build_report(evaluation)
        assert "gains" not in {f.key for f in report.figures}
        assert "No gains or lift chart: the holdout has no churners to capture." in report.notes
        assert "undefined: all 600 holdout customers stayed" in report_html(report)


def test_backtest_over_time(churn_report: ModelReport) -> None:
    table = backtest_table(MONTHLY, "churn_auc")
    assert list(table.columns) == ["LightGBM", BTYD, CHAMPION]
    assert len(table) == 6 and table.index.is_monotonic_increasing
    assert table[CHAMPION].isna().tolist() == [False, False, True, False, False, False]
    assert backtest_table(MONTHLY, "churn_log_loss").empty
    # an evaluation gives the points of its own date, one per metric and series
    points = backtest_points(churn_evaluation())
    assert len(points) == len(CHURN_METRICS) * 3
    assert {p.scoring_date for p in points} == {date(2025, 9, 30)}
    page = report_html(churn_report)
    assert page.count('<td class="value">undefined</td>') >= 1  # the champion's missing month


def test_figures_markdown_keeps_to_its_budget(churn_report: ModelReport) -> None:
    everything = figures_markdown(churn_report)
    assert everything.count("](data:image/png;base64,") == len(churn_report.figures)
    assert "Left out" not in everything
    budget = 60_000
    trimmed = figures_markdown(churn_report, max_chars=budget)
    assert len(trimmed) <= budget
    assert 0 < trimmed.count("](data:image/png;base64,") < len(churn_report.figures)
    assert trimmed.rstrip().endswith(".") and "Left out to stay under 60,000 characters:" in trimmed
    only_gains = figures_markdown(churn_report, keys=["gains"])
    assert only_gains.count("![") == 1 and "#### Cumulative gains" in only_gains


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 600"):
        churn_evaluation(predicted=np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        churn_evaluation(baselines={BTYD: np.full(N, np.nan)})
    with pytest.raises(ValueError, match="0 \\(stayed\\) or 1"):
        churn_evaluation(actual=np.full(N, 0.5))
    with pytest.raises(ValueError, match="model's label"):
        churn_evaluation(baselines={"LightGBM": np.zeros(N)})


def test_write_report_html_replaces_the_file(churn_report: ModelReport, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "churn.html"
    target.parent.mkdir()
    target.write_text("old")
    assert write_report_html(churn_report, target) == target
    assert target.read_text(encoding="utf-8") == report_html(churn_report)
    assert [p.name for p in target.parent.iterdir()] == ["churn.html"]  # no temporary file left


def test_importing_the_report_does_not_import_matplotlib() -> None:
    # the Dagster code location imports `ml` at load: matplotlib's import cost is paid only when drawing
    code = "import sys, ml.report, ml.plots; sys.exit('matplotlib' in sys.modules)"
    repository = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=repository, check=False).returncode == 0
