"""The model report's figures as PNG bytes: gains, lift, calibration, deciles, feature importance, score
distribution and metrics over time, each for a churn or a CLV model.

Every figure is one `matplotlib.figure.Figure` of `FIGURE_SIZE_INCHES` at `DPI` (640 x 400 pixels),
titled, with both axes labelled with their units, rendered to PNG by the Agg renderer. Figures are made
without `pyplot`, so no global state is touched and nothing opens a window, and matplotlib is imported
inside `render_png` only: importing `ml` (which the Dagster code location does at load) stays fast.

Conventions shared with the scores tables: decile 1 holds the 10% of customers with the highest
prediction (as `clv_decile`); churn values are shown as percentages, revenue in currency units.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ml.evaluate import calibration_summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Task = Literal["churn", "clv"]

FIGURE_SIZE_INCHES = (6.4, 4.0)
DPI = 100
# The model is drawn in the first colour, baselines in the next ones; reference lines in grey.
COLOURS = ("#1f5fa6", "#d9822b", "#3a9a5b", "#8e5ba8", "#c0392b", "#7f7f7f")
REFERENCE_COLOUR = "#9a9a9a"
# Curves are drawn through at most this many points, however many customers there are.
CURVE_POINTS = 201
PALETTE_COLOURS = 64


def render_png(draw: Callable[[Axes], None]) -> bytes:
    """PNG bytes of one figure of the report's size whose single axes `draw` fills, drawn by the Agg
    renderer and stored with a palette of `PALETTE_COLOURS` colours (a quarter of the bytes of full
    colour, no visible difference for line and bar charts)."""
    # Lazily: see the module docstring. Pillow comes with matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=DPI, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    palette = image.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _value_unit(task: Task, currency: str) -> str:
    return "%" if task == "churn" else (currency or "currency units")


def _as_display(task: Task, values: ArrayLike) -> np.ndarray:
    """Churn rates as percentages, revenue as is."""
    array = np.asarray(values, dtype="float64")
    return array * 100.0 if task == "churn" else array


def _outcome(task: Task) -> str:
    return "churners" if task == "churn" else "revenue"


def gains_curve(actual: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains: for each share of customers taken by `predicted` descending (0..1, in
    `CURVE_POINTS` steps), the share of the total of `actual` they hold. Ties at a cut are taken in row
    order. Raises ValueError if `actual` sums to zero."""
    values = np.asarray(actual, dtype="float64")
    order = np.argsort(-np.asarray(predicted, dtype="float64"), kind="stable")
    total = values.sum()
    if values.size == 0 or total == 0:
        raise ValueError("a gains curve needs actual values that do not sum to zero")
    captured = np.concatenate([[0.0], np.cumsum(values[order]) / total])
    population = np.arange(values.size + 1) / values.size
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    return grid, np.interp(grid, population, captured)


def gains_chart(
    task: Task, actual: ArrayLike, predictions: Mapping[str, ArrayLike], title_suffix: str = ""
) -> bytes:
    """Cumulative gains of each series of `predictions` (label -> predictions on the rows of `actual`,
    the model first), with the random and the perfect ranking."""

    def draw(axes: Axes) -> None:
        grid, perfect = gains_curve(actual, actual)
        axes.plot(grid * 100, perfect * 100, color=REFERENCE_COLOUR, linestyle="--", label="perfect ranking")
        axes.plot([0, 100], [0, 100], color=REFERENCE_COLOUR, linestyle=":", label="random")
        for colour, (label, predicted) in zip(COLOURS, predictions.items(), strict=False):
            axes.plot(grid * 100, gains_curve(actual, predicted)[1] * 100, color=colour, label=label)
        axes.set_title(f"Cumulative gains: share of {_outcome(task)} captured{title_suffix}")
        axes.set_xlabel("customers targeted, highest predicted first (%)")
        axes.set_ylabel(f"share of all {_outcome(task)} (%)")
        axes.set_xlim(0, 100)
        axes.set_ylim(0, 101)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right", fontsize="small")

    return render_png(draw)


def lift_chart(
    task: Task, actual: ArrayLike, predictions: Mapping[str, ArrayLike], title_suffix: str = ""
) -> bytes:
    """Cumulative lift (captured share / targeted share) of each series, with the perfect ranking's and
    the random line at 1; starts at 1% of customers, where the lift of one customer is not noise."""

    def draw(axes: Axes) -> None:
        grid, perfect = gains_curve(actual, actual)
        shown = grid >= 0.01
        axes.plot(
            grid[shown] * 100,
            perfect[shown] / grid[shown],
            color=REFERENCE_COLOUR,
            linestyle="--",
            label="perfect ranking",
        )
        axes.axhline(1.0, color=REFERENCE_COLOUR, linestyle=":", label="random")
        for colour, (label, predicted) in zip(COLOURS, predictions.items(), strict=False):
            captured = gains_curve(actual, predicted)[1]
            axes.plot(grid[shown] * 100, captured[shown] / grid[shown], color=colour, label=label)
        axes.axvline(10, color=REFERENCE_COLOUR, linewidth=0.8)
        axes.text(11, 0.03, "top 10%", transform=axes.get_xaxis_transform(), color=REFERENCE_COLOUR)
        axes.set_title(f"Cumulative lift of {_outcome(task)}{title_suffix}")
        axes.set_xlabel("customers targeted, highest predicted first (%)")
        axes.set_ylabel("lift over random (x)")
        axes.set_xlim(0, 100)
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper right", fontsize="small")

    return render_png(draw)


def calibration_chart(
    task: Task, actual: ArrayLike, predictions: Mapping[str, ArrayLike], currency: str = ""
) -> bytes:
    """Mean prediction against mean outcome per prediction decile for each series (the churn rate
    observed, or the mean revenue), with the diagonal a calibrated model follows."""
    unit = _value_unit(task, currency)

    def draw(axes: Axes) -> None:
        highest = 0.0
        for colour, (label, predicted) in zip(COLOURS, predictions.items(), strict=False):
            bins = calibration_summary(actual, predicted)
            x = _as_display(task, bins["mean_predicted"])
            y = _as_display(task, bins["mean_actual"])
            highest = max(highest, float(np.nanmax(x)), float(np.nanmax(y)))
            axes.plot(x, y, marker="o", markersize=4, color=colour, label=label)
        top = highest * 1.05 if highest > 0 else 1.0
        axes.plot([0, top], [0, top], color=REFERENCE_COLOUR, linestyle="--", label="perfectly calibrated")
        if task == "churn":
            axes.set_title("Calibration: predicted vs observed churn rate, per decile")
            axes.set_xlabel("mean predicted churn probability (%)")
            axes.set_ylabel("observed churn rate (%)")
        else:
            axes.set_title("Calibration: predicted vs actual revenue, per decile")
            axes.set_xlabel(f"mean predicted revenue per customer ({unit})")
            axes.set_ylabel(f"mean actual revenue per customer ({unit})")
        axes.set_xlim(0, top)
        axes.set_ylim(0, top)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")

    return render_png(draw)


def decile_means(actual: ArrayLike, predicted: ArrayLike) -> pd.DataFrame:
    """Per decile of `predicted` (1 = the highest 10%, as `clv_decile`): decile, n, mean_predicted,
    mean_actual. Fewer than ten rows give one decile per row; ties are split in row order."""
    frame = pd.DataFrame(
        {"actual": np.asarray(actual, dtype="float64"), "predicted": np.asarray(predicted, dtype="float64")}
    )
    bins = min(10, len(frame))
    rank = frame["predicted"].rank(method="first", ascending=False)
    frame["decile"] = pd.qcut(rank, bins, labels=False) + 1
    return (
        frame.groupby("decile")
        .agg(n=("actual", "size"), mean_predicted=("predicted", "mean"), mean_actual=("actual", "mean"))
        .reset_index()
    )


def decile_chart(task: Task, actual: ArrayLike, predicted: ArrayLike, currency: str = "") -> bytes:
    """Bars of the mean prediction and the mean outcome in each decile of the model's prediction."""
    deciles = decile_means(actual, predicted)
    unit = _value_unit(task, currency)

    def draw(axes: Axes) -> None:
        positions = deciles["decile"].to_numpy()
        width = 0.4
        what = "churn rate" if task == "churn" else "revenue per customer"
        axes.bar(
            positions - width / 2,
            _as_display(task, deciles["mean_predicted"]),
            width,
            color=COLOURS[0],
            label=f"predicted {what}",
        )
        axes.bar(
            positions + width / 2,
            _as_display(task, deciles["mean_actual"]),
            width,
            color=COLOURS[1],
            label=f"actual {what}",
        )
        axes.set_title(f"Predicted vs actual {what}, by decile of prediction")
        axes.set_xlabel("decile of prediction (1 = highest 10%)")
        axes.set_ylabel(f"mean {what} ({unit})")
        axes.set_xticks(positions)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper right", fontsize="small")

    return render_png(draw)


def importance_chart(feature_importance: Mapping[str, float], top: int = 15) -> bytes:
    """Horizontal bars of the `top` features by gain, as a share of the total gain of all features."""
    gains = pd.Series(dict(feature_importance), dtype="float64").clip(lower=0)
    total = gains.sum()
    shares = (gains / total * 100 if total > 0 else gains).sort_values(ascending=False).head(top)

    def draw(axes: Axes) -> None:
        ordered = shares.iloc[::-1]  # the largest at the top
        axes.barh(range(len(ordered)), ordered.to_numpy(), color=COLOURS[0])
        axes.set_yticks(range(len(ordered)), [str(name) for name in ordered.index], fontsize="small")
        shown = f"top {len(shares)} of {len(gains)}" if len(gains) > len(shares) else f"all {len(gains)}"
        axes.set_title(f"Feature importance ({shown} features, by split gain)")
        axes.set_xlabel("share of the model's total split gain (%)")
        axes.set_ylabel("feature")
        axes.grid(axis="x", alpha=0.3)

    return render_png(draw)


def distribution_chart(
    task: Task,
    scores: ArrayLike,
    reference: ArrayLike | None = None,
    currency: str = "",
    scores_label: str = "scoring run",
    reference_label: str = "training",
) -> bytes:
    """Histogram of `scores` (share of customers per bin), with `reference` overlaid as a step line when
    given. CLV bins stop at the 99th percentile; the values above fall in the last bin, so one big
    spender does not squash the rest."""
    values = _as_display(task, scores)
    others = None if reference is None else _as_display(task, reference)
    unit = _value_unit(task, currency)
    together = values if others is None else np.concatenate([values, others])
    finite = together[np.isfinite(together)]
    if task == "churn":
        edges = np.linspace(0.0, 100.0, 41)
    else:
        upper = float(np.quantile(finite, 0.99)) if finite.size else 1.0
        edges = np.linspace(min(0.0, float(finite.min())) if finite.size else 0.0, max(upper, 1e-9), 41)

    def shares(array: np.ndarray) -> np.ndarray:
        clipped = np.clip(array[np.isfinite(array)], edges[0], edges[-1])
        counts, _ = np.histogram(clipped, bins=edges)
        return counts / max(clipped.size, 1) * 100

    def draw(axes: Axes) -> None:
        axes.bar(
            edges[:-1],
            shares(values),
            width=np.diff(edges),
            align="edge",
            color=COLOURS[0],
            alpha=0.8,
            label=f"{scores_label} (n={values.size:,})",
        )
        if others is not None:
            axes.stairs(
                shares(others),
                edges,
                color=COLOURS[1],
                linewidth=1.5,
                label=f"{reference_label} (n={others.size:,})",
            )
        if task == "churn":
            axes.set_title("Distribution of churn probabilities")
            axes.set_xlabel("predicted churn probability (%)")
        else:
            axes.set_title("Distribution of predicted revenue (last bin: 99th percentile and above)")
            axes.set_xlabel(f"predicted revenue per customer ({unit})")
        axes.set_ylabel("customers (%)")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper right", fontsize="small")

    return render_png(draw)


def over_time_chart(
    metric_label: str, dates: Sequence[pd.Timestamp], series: Mapping[str, Sequence[float | None]]
) -> bytes:
    """One line per series (label -> one value per date, None where undefined) of a metric over the
    scoring dates of a backtest; `metric_label` names the metric and its unit for the y axis."""

    def draw(axes: Axes) -> None:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        x = pd.to_datetime(pd.Series(list(dates))).to_numpy()
        for colour, (label, values) in zip(COLOURS, series.items(), strict=False):
            y = np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
            axes.plot(x, y, marker="o", markersize=4, color=colour, label=label)
        axes.set_title(f"Backtest: {metric_label} by scoring date")
        axes.set_xlabel("scoring date (month)")
        axes.set_ylabel(metric_label)
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small")
        locator = AutoDateLocator(maxticks=8)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))

    return render_png(draw)
