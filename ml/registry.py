"""The model registry: fitted models stored on disk by version, one DuckDB row per version with its data
window, metrics and status, and the rule that decides whether a challenger replaces the champion.

Store: one JSON file `<model_version>.json` per model, for every `ModelKind` (a LightGBM booster as its
`model_to_string` text beside its features, config and training metadata; the run-rate and BTYD models
as their parameters). A file is written under a temporary name and renamed into place, so a crash leaves
either the whole model or none; JSON-able `attachments` (a drift profile, a calibrator) travel in the
same file, so a scoring run needs nothing but the file.

Registry: `ml.model_registry` holds one row per model version. At most one row per task has status
'champion'; registering a promoted challenger retires the previous champion in the same transaction.
A version is registered once: registering it again returns the stored row unchanged, so a re-run of the
same training neither duplicates nor re-decides it.

Promotion (`decide`): churn on holdout log loss, CLV on holdout normalized Gini guarded by the total
spend error; the champion and the challenger must be scored on the same holdout rows (`holdout_metrics`),
on snapshots neither was fitted on.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.baseline import RunRateModel
from ml.btyd import BgNbdParameters, BtydConfig, BtydFit, BtydModel, GammaGammaParameters
from ml.evaluate import log_loss, normalized_gini, roc_auc, total_spend_error
from ml.features import KEY_COLUMNS, normalize_keys, require_columns
from ml.files import write_atomically
from ml.labels import CHURN_LABEL, CLV_LABEL
from ml.model import ModelKind, ScoringModel, Task
from ml.train import BoostingConfig, ChurnTrainConfig, ClvTrainConfig, TrainedModel

# Bumped when the stored document changes shape; `load_model` refuses formats it does not know.
STORE_FORMAT = 1

REGISTRY_TABLE = "ml.model_registry"

Status = Literal["champion", "challenger_rejected", "retired"]
STATUSES: tuple[Status, ...] = ("champion", "challenger_rejected", "retired")

# Holdout metric names, as in `ml.evaluate.BENCHMARK_METRICS`.
PRIMARY_METRIC: Mapping[Task, str] = {"churn": "churn_log_loss", "clv": "spend_normalized_gini"}
SPEND_ERROR_METRIC = "total_spend_error"

# Suggested settings of `decide`: a challenger must cut log loss by 1% of the champion's, or add one point
# of normalized Gini, and may miss the total spend by at most 5 points more than the champion.
DEFAULT_LOG_LOSS_MARGIN = 0.01
DEFAULT_GINI_MARGIN = 0.01
DEFAULT_SPEND_ERROR_TOLERANCE = 0.05

Metrics = Mapping[str, float | None]


# --- Store ------------------------------------------------------------------------------------------


def save_model(model: ScoringModel, directory: Path, attachments: Mapping[str, Any] | None = None) -> Path:
    """Write `model` (and JSON-able `attachments`) to `directory/<model_version>.json`, atomically, and
    return that path. Saving the same version again replaces the file whole. Raises TypeError for a
    model class the store does not know."""
    document = {
        "format": STORE_FORMAT,
        "kind": model.kind,
        "task": model.task,
        "horizon_days": model.horizon_days,
        "model_version": model.model_version,
        "configuration": model_configuration(model),
        "state": _fitted_state(model),
        "attachments": dict(attachments or {}),
    }
    path = Path(directory) / f"{model.model_version}.json"
    write_atomically(path, json.dumps(document, indent=1, sort_keys=True))
    return path


def load_model(path: Path) -> ScoringModel:
    """The model stored at `path` by `save_model`; it predicts exactly what the saved model did.
    Raises ValueError for an unknown store format or model kind."""
    document = _read_document(path)
    kind, configuration, state = document["kind"], document["configuration"], document["state"]
    task: Task = document["task"]
    horizon_days = int(document["horizon_days"])
    version = str(document["model_version"])
    if kind == "lightgbm":
        return _trained_model(task, horizon_days, version, configuration, state)
    if kind == "run_rate":
        return RunRateModel(
            task=task,
            horizon_days=horizon_days,
            model_version=version,
            min_exposure_days=int(configuration["min_exposure_days"]),
        )
    if kind == "btyd":
        return BtydModel(
            task=task, horizon_days=horizon_days, fit=_btyd_fit(configuration, state), model_version=version
        )
    raise ValueError(f"{path}: unknown model kind {kind!r}")


def load_attachments(path: Path) -> dict[str, Any]:
    """The `attachments` saved with the model at `path` (empty if none)."""
    return dict(_read_document(path)["attachments"])


def model_configuration(model: ScoringModel) -> dict[str, Any]:
    """The settings `model` was made with, JSON-able: what the registry shows as its configuration."""
    if isinstance(model, TrainedModel):
        return {"boosting": dataclasses.asdict(model.config), "features": list(model.features)}
    if isinstance(model, RunRateModel):
        return {"min_exposure_days": model.min_exposure_days}
    if isinstance(model, BtydModel):
        return {"btyd": dataclasses.asdict(model.fit.config)}
    raise TypeError(f"the model store does not know {type(model).__name__}")


def training_window(model: ScoringModel) -> tuple[date | None, date | None]:
    """The first and last snapshot the model was fitted on; (None, None) for the run-rate model, which
    is not fitted on any."""
    if isinstance(model, TrainedModel):
        return model.training_snapshot_dates[0].date(), model.training_snapshot_dates[-1].date()
    if isinstance(model, BtydModel):
        return model.fit.snapshot_date.date(), model.fit.snapshot_date.date()
    return None, None


def _fitted_state(model: ScoringModel) -> dict[str, Any]:
    """What fitting produced, beyond `model_configuration`, that scoring needs or the record shows."""
    if isinstance(model, TrainedModel):
        return {
            "booster": model.booster.model_to_string(),
            "category_levels": {column: list(levels) for column, levels in model.category_levels.items()},
            "training_snapshot_dates": [date.isoformat() for date in model.training_snapshot_dates],
            "validation_snapshot_date": model.validation_snapshot_date.isoformat(),
            "best_iteration": model.best_iteration,
            "n_training_rows": model.n_training_rows,
            "n_validation_rows": model.n_validation_rows,
            "metrics": dict(model.metrics),
            "metric_notes": list(model.metric_notes),
            "baseline": model.baseline,
            "offset_fill": model.offset_fill,
        }
    if isinstance(model, BtydModel):
        fit = model.fit
        return {
            "snapshot_date": fit.snapshot_date.isoformat(),
            "bgnbd": dataclasses.asdict(fit.bgnbd),
            "gamma_gamma": dataclasses.asdict(fit.gamma_gamma),
            "n_customers": fit.n_customers,
            "n_repeat_customers": fit.n_repeat_customers,
            "n_spend_customers": fit.n_spend_customers,
            "fit_version": fit.fit_version,
        }
    if isinstance(model, RunRateModel):
        return {}
    raise TypeError(f"the model store does not know {type(model).__name__}")


def _trained_model(
    task: Task, horizon_days: int, version: str, configuration: Mapping[str, Any], state: Mapping[str, Any]
) -> TrainedModel:
    config_class: type[BoostingConfig] = ChurnTrainConfig if task == "churn" else ClvTrainConfig
    return TrainedModel(
        task=task,
        horizon_days=horizon_days,
        booster=lgb.Booster(model_str=state["booster"]),
        features=tuple(configuration["features"]),
        category_levels={column: tuple(levels) for column, levels in state["category_levels"].items()},
        training_snapshot_dates=tuple(pd.Timestamp(text) for text in state["training_snapshot_dates"]),
        validation_snapshot_date=pd.Timestamp(state["validation_snapshot_date"]),
        best_iteration=int(state["best_iteration"]),
        n_training_rows=int(state["n_training_rows"]),
        n_validation_rows=int(state["n_validation_rows"]),
        metrics=dict(state["metrics"]),
        metric_notes=tuple(state["metric_notes"]),
        model_version=version,
        config=config_class(**configuration["boosting"]),
        baseline=state.get("baseline"),
        offset_fill=float(state.get("offset_fill", 0.0)),
    )


def _btyd_fit(configuration: Mapping[str, Any], state: Mapping[str, Any]) -> BtydFit:
    return BtydFit(
        snapshot_date=pd.Timestamp(state["snapshot_date"]),
        config=BtydConfig(**configuration["btyd"]),
        bgnbd=BgNbdParameters(**state["bgnbd"]),
        gamma_gamma=GammaGammaParameters(**state["gamma_gamma"]),
        n_customers=int(state["n_customers"]),
        n_repeat_customers=int(state["n_repeat_customers"]),
        n_spend_customers=int(state["n_spend_customers"]),
        fit_version=str(state["fit_version"]),
    )


def _read_document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if document.get("format") != STORE_FORMAT:
        raise ValueError(f"{path}: model store format {document.get('format')!r}, expected {STORE_FORMAT}")
    return document


# --- Holdout metrics and the promotion rule ----------------------------------------------------------


def holdout_metrics(model: ScoringModel, features: pd.DataFrame, labels: pd.DataFrame) -> dict[str, float]:
    """The metrics `decide` compares, for `model` on holdout `customer_features` rows and their labels
    (customer_id, snapshot_date and `churned` or `future_net_revenue`, as `ml.labels` makes them).

    churn: churn_log_loss and churn_auc; clv: spend_normalized_gini and total_spend_error, with negative
    future revenue counted as 0 as in training. A metric the rows leave undefined (one class only, no
    revenue, NaN predictions) is NaN. Raises ValueError if a feature row has no label.
    """
    label_column = CHURN_LABEL if model.task == "churn" else CLV_LABEL
    require_columns(labels, (*KEY_COLUMNS, label_column), "labels frame")
    label_rows = normalize_keys(labels).assign(**{label_column: labels[label_column].to_numpy()})
    aligned = normalize_keys(features).merge(
        label_rows, on=list(KEY_COLUMNS), how="left", validate="one_to_one"
    )
    if aligned[label_column].isna().any():
        raise ValueError(f"{int(aligned[label_column].isna().sum())} holdout feature rows have no label")
    actual = aligned[label_column].to_numpy(dtype="float64")
    return metrics_of(model.task, actual, np.asarray(model.predict(features), dtype="float64"))


def metrics_of(task: Task, actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """`holdout_metrics` on arrays: `actual` labels (churned 0/1, or future revenue) and `predicted`."""
    if task == "churn":
        return {
            "churn_log_loss": _defined(log_loss, actual, predicted),
            "churn_auc": _defined(roc_auc, actual, predicted),
        }
    spend = np.clip(actual, 0.0, None)
    return {
        "spend_normalized_gini": _defined(normalized_gini, spend, predicted),
        "total_spend_error": _defined(total_spend_error, spend, predicted),
    }


def _defined(
    metric: Callable[[np.ndarray, np.ndarray], float], actual: np.ndarray, predicted: np.ndarray
) -> float:
    """`metric`, or NaN where `ml.evaluate` says it is undefined for these rows."""
    try:
        return metric(actual, predicted)
    except ValueError:
        return math.nan


@dataclass(frozen=True)
class Decision:
    """Whether the challenger becomes champion, and why, in words for the registry and the run's metadata."""

    promote: bool
    reason: str


def decide(
    challenger: Metrics,
    champion: Metrics | None,
    margin: float,
    *,
    task: Task,
    spend_error_tolerance: float = DEFAULT_SPEND_ERROR_TOLERANCE,
) -> Decision:
    """Promote the challenger only if it is better than the champion on the same holdout by `margin`.

    churn: holdout `churn_log_loss` must be at most (1 - margin) x the champion's. Relative, because a
    model that knows nothing scores the entropy of the churn rate, which moves with the rate (0.69 at
    50% churn, 0.20 at 5%): an absolute bar would be strict for rare churn and lax for common churn.
    clv: `spend_normalized_gini` must be at least the champion's + margin (Gini points: the scale is
    already [-1, 1]); and |total_spend_error| may not exceed the champion's |total_spend_error| +
    `spend_error_tolerance`, so a model that ranks better but gets the revenue total badly wrong stays out.

    No champion: promote. A challenger metric the rule needs that is missing or NaN: reject. A champion
    metric missing or NaN: the comparison it feeds is skipped, and the reason says so.
    """
    if margin < 0 or spend_error_tolerance < 0:
        raise ValueError(
            f"margin and spend_error_tolerance must be >= 0, got {margin}, {spend_error_tolerance}"
        )
    primary = PRIMARY_METRIC[task]
    needed = [primary] if task == "churn" else [primary, SPEND_ERROR_METRIC]
    undefined = [name for name in needed if _value(challenger, name) is None]
    if undefined:
        return Decision(
            False, f"rejected: the challenger's {', '.join(undefined)} is undefined on the holdout"
        )
    if champion is None:
        return Decision(True, f"promoted: no {task} champion yet")
    new, old = _value(challenger, primary), _value(champion, primary)
    assert new is not None
    if task == "churn":
        return _log_loss_decision(new, old, margin)
    ranking = _gini_decision(new, old, margin)
    if not ranking.promote:
        return ranking
    return _spend_error_guard(ranking.reason, challenger, champion, spend_error_tolerance)


def _log_loss_decision(new: float, old: float | None, margin: float) -> Decision:
    metric = PRIMARY_METRIC["churn"]
    if old is None:
        return Decision(
            True,
            f"promoted: the champion's {metric} is undefined on the holdout, the challenger's is {new:.4f}",
        )
    bar = old * (1.0 - margin)
    if new > bar:
        return Decision(
            False,
            f"rejected: {metric} {new:.4f} vs the champion's {old:.4f} is not {margin:.1%} lower (needs <= {bar:.4f})",
        )
    return Decision(
        True, f"promoted: {metric} {new:.4f} vs the champion's {old:.4f}, at least {margin:.1%} lower"
    )


def _gini_decision(new: float, old: float | None, margin: float) -> Decision:
    metric = PRIMARY_METRIC["clv"]
    if old is None:
        return Decision(
            True,
            f"promoted: the champion's {metric} is undefined on the holdout, the challenger's is {new:.4f}",
        )
    bar = old + margin
    if new < bar:
        return Decision(
            False,
            f"rejected: {metric} {new:.4f} vs the champion's {old:.4f} is not {margin:.4f} higher (needs >= {bar:.4f})",
        )
    return Decision(
        True, f"promoted: {metric} {new:.4f} vs the champion's {old:.4f}, at least {margin:.4f} higher"
    )


def _spend_error_guard(ranking: str, challenger: Metrics, champion: Metrics, tolerance: float) -> Decision:
    new, old = _value(challenger, SPEND_ERROR_METRIC), _value(champion, SPEND_ERROR_METRIC)
    assert new is not None
    if old is None:
        return Decision(
            True, f"{ranking}; the champion's {SPEND_ERROR_METRIC} is undefined, so it is not compared"
        )
    if abs(new) > abs(old) + tolerance:
        return Decision(
            False,
            f"rejected: {ranking.removeprefix('promoted: ')}, but |{SPEND_ERROR_METRIC}| {abs(new):.4f} is "
            f"more than {tolerance:.4f} worse than the champion's {abs(old):.4f}",
        )
    return Decision(
        True,
        f"{ranking}; |{SPEND_ERROR_METRIC}| {abs(new):.4f} within {tolerance:.4f} of the champion's {abs(old):.4f}",
    )


def _value(metrics: Metrics, name: str) -> float | None:
    """The metric as a float, or None where it is missing, null or NaN."""
    value = metrics.get(name)
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


# --- Registry table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryRecord:
    """One row of `ml.model_registry`.

    `trained_at`: when the model was fitted (naive UTC). `first_training_snapshot` /
    `last_training_snapshot`: the data window it was fitted on (None for the run-rate model);
    `scoring_date`: the run it was trained for. `configuration`: `model_configuration`. `metrics`:
    {"challenger": ..., "champion": ..., "baseline": ...}, each `holdout_metrics` on the same holdout or
    None (NaN is stored as null). `decision_reason`: why it got its status; `superseded_by`: the version
    that retired it. `model_path`: where `save_model` wrote it.
    """

    model_version: str
    task: Task
    kind: ModelKind
    horizon_days: int
    trained_at: datetime
    first_training_snapshot: date | None
    last_training_snapshot: date | None
    scoring_date: date
    configuration: Mapping[str, Any]
    metrics: Mapping[str, Metrics | None]
    status: Status
    decision_reason: str
    model_path: str
    superseded_by: str | None = None


def new_record(
    model: ScoringModel,
    model_path: Path,
    decision: Decision,
    *,
    scoring_date: date,
    trained_at: datetime,
    challenger_metrics: Metrics,
    champion_metrics: Metrics | None = None,
    baseline_metrics: Metrics | None = None,
) -> RegistryRecord:
    """The registry row for a freshly trained `model` stored at `model_path`, with the `decision` taken
    on it: status 'champion' if promoted, else 'challenger_rejected'."""
    first, last = training_window(model)
    return RegistryRecord(
        model_version=model.model_version,
        task=model.task,
        kind=model.kind,
        horizon_days=model.horizon_days,
        trained_at=trained_at,
        first_training_snapshot=first,
        last_training_snapshot=last,
        scoring_date=scoring_date,
        configuration=model_configuration(model),
        metrics={
            "challenger": challenger_metrics,
            "champion": champion_metrics,
            "baseline": baseline_metrics,
        },
        status="champion" if decision.promote else "challenger_rejected",
        decision_reason=decision.reason,
        model_path=str(model_path),
    )


_COLUMNS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(RegistryRecord))
_JSON_COLUMNS = ("configuration", "metrics")


def ensure_registry_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `ml` schema and `ml.model_registry` if they do not exist yet (never alters them)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} (
            model_version VARCHAR PRIMARY KEY,
            task VARCHAR NOT NULL CHECK (task IN ('churn', 'clv')),
            kind VARCHAR NOT NULL,
            horizon_days INTEGER NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            first_training_snapshot DATE,
            last_training_snapshot DATE,
            scoring_date DATE NOT NULL,
            configuration JSON NOT NULL,
            metrics JSON NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ({", ".join(f"'{status}'" for status in STATUSES)})),
            decision_reason VARCHAR NOT NULL,
            model_path VARCHAR NOT NULL,
            superseded_by VARCHAR
        )
        """
    )


def register(con: duckdb.DuckDBPyConnection, record: RegistryRecord) -> RegistryRecord:
    """Add `record` to the registry and return the row as stored.

    A 'champion' record retires the task's current champion (superseded_by = this version) in the same
    transaction. A version already registered is left as it is and its stored row returned: the first
    decision on a version stands. Runs its own transaction, so `con` must not be inside one.
    """
    ensure_registry_table(con)
    con.begin()
    try:
        stored = registered(con, record.model_version)
        if stored is None:
            if record.status == "champion":
                _retire_champion(con, record.task, record.model_version)
            values = [_sql_value(column, getattr(record, column)) for column in _COLUMNS]
            con.execute(
                f"INSERT INTO {REGISTRY_TABLE} ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                values,
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    stored = registered(con, record.model_version)
    assert stored is not None
    return stored


def promote(con: duckdb.DuckDBPyConnection, model_version: str, reason: str) -> None:
    """Make the registered `model_version` its task's champion, retiring the current one, with `reason`
    as its decision reason (a manual override or a rollback). Promoting the champion changes nothing.
    Raises ValueError for a version not in the registry."""
    ensure_registry_table(con)
    con.begin()
    try:
        stored = registered(con, model_version)
        if stored is None:
            raise ValueError(f"model version {model_version!r} is not in {REGISTRY_TABLE}")
        if stored.status != "champion":
            _retire_champion(con, stored.task, model_version)
            con.execute(
                f"UPDATE {REGISTRY_TABLE} SET status = 'champion', decision_reason = ?, superseded_by = NULL "
                "WHERE model_version = ?",
                [reason, model_version],
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def current_champion(con: duckdb.DuckDBPyConnection, task: Task) -> RegistryRecord | None:
    """The registry row of `task`'s champion, or None before the first promotion."""
    return _one(con, "task = ? AND status = 'champion'", task)


def last_trained_for(con: duckdb.DuckDBPyConnection, task: Task, horizon_days: int) -> date | None:
    """The latest scoring date a model of `task` for `horizon_days` was trained for (champion or not),
    or None when none was; a model scoring as of a later date was trained before it."""
    if not _registry_exists(con):
        return None
    row = con.execute(
        f"SELECT max(scoring_date) FROM {REGISTRY_TABLE} WHERE task = ? AND horizon_days = ?",
        [task, horizon_days],
    ).fetchone()
    return row[0] if row else None


def registered(con: duckdb.DuckDBPyConnection, model_version: str) -> RegistryRecord | None:
    """The registry row of `model_version`, or None if it was never registered."""
    return _one(con, "model_version = ?", model_version)


def _retire_champion(con: duckdb.DuckDBPyConnection, task: Task, successor: str) -> None:
    con.execute(
        f"UPDATE {REGISTRY_TABLE} SET status = 'retired', superseded_by = ? WHERE task = ? AND status = 'champion'",
        [successor, task],
    )


def _one(con: duckdb.DuckDBPyConnection, condition: str, parameter: str) -> RegistryRecord | None:
    """The registry row matching `condition`; None also when there is no registry yet, so that a
    read-only connection can ask without creating the table."""
    if not _registry_exists(con):
        return None
    row = con.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM {REGISTRY_TABLE} WHERE {condition}", [parameter]
    ).fetchone()
    if row is None:
        return None
    values = dict(zip(_COLUMNS, row, strict=True))
    for column in _JSON_COLUMNS:
        values[column] = json.loads(values[column])
    return RegistryRecord(**values)


def _registry_exists(con: duckdb.DuckDBPyConnection) -> bool:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'ml' AND table_name = 'model_registry'"
    ).fetchone()
    return exists is not None and exists[0] > 0


def _sql_value(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS:
        return json.dumps(_finite_or_null(value), sort_keys=True, allow_nan=False)
    return value


def _finite_or_null(value: Any) -> Any:
    """`value` with every NaN or infinity replaced by None: JSON has no NaN."""
    if isinstance(value, Mapping):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_null(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
