"""The model registry: stored models score exactly as the saved ones, writes never leave half a model, the
promotion rule keeps a worse challenger out, and the registry keeps one champion per task across reopens."""

from __future__ import annotations

import math
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.baseline import run_rate_model
from ml.btyd import BtydConfig, btyd_model, fit_btyd
from ml.model import ScoringModel, Task
from ml.registry import (
    DEFAULT_GINI_MARGIN,
    DEFAULT_LOG_LOSS_MARGIN,
    Decision,
    current_champion,
    decide,
    ensure_registry_table,
    holdout_metrics,
    load_attachments,
    load_model,
    new_record,
    promote,
    register,
    registered,
    save_model,
)
from ml.synthetic import SyntheticCustomers
from ml.train import TrainedModel

Holdout = tuple[TrainedModel, pd.DataFrame, pd.DataFrame]

SCORING_DATE = date(2024, 1, 15)
TRAINED_AT = datetime(2024, 1, 15, 6, 30)


def _btyd(synthetic: SyntheticCustomers, task: Task) -> ScoringModel:
    first = synthetic.features["snapshot_date"].min()
    rows = synthetic.features.loc[synthetic.features["snapshot_date"] == first]
    return btyd_model(task, 90 if task == "churn" else 365, fit_btyd(rows, BtydConfig(penalizer=0.001)))


@pytest.fixture(scope="module")
def every_kind(
    synthetic: SyntheticCustomers, churn_holdout: Holdout, clv_holdout: Holdout
) -> list[ScoringModel]:
    at_scoring = synthetic.features.loc[synthetic.features["snapshot_date"] == synthetic.scoring_date]
    return [
        churn_holdout[0],
        clv_holdout[0],
        run_rate_model("churn", 90, at_scoring),
        run_rate_model("clv", 365, at_scoring, min_exposure_days=30),
        _btyd(synthetic, "churn"),
        _btyd(synthetic, "clv"),
    ]


def test_every_kind_scores_identically_after_a_round_trip(
    every_kind: list[ScoringModel], synthetic: SyntheticCustomers, tmp_path: Path
) -> None:
    at_scoring = synthetic.features.loc[synthetic.features["snapshot_date"] == synthetic.scoring_date]
    for model in every_kind:
        path = save_model(model, tmp_path)
        loaded = load_model(path)
        assert path == tmp_path / f"{model.model_version}.json"
        assert type(loaded) is type(model)
        assert (loaded.kind, loaded.task, loaded.horizon_days, loaded.model_version) == (
            model.kind,
            model.task,
            model.horizon_days,
            model.model_version,
        )
        np.testing.assert_array_equal(
            loaded.predict(at_scoring), model.predict(at_scoring), err_msg=model.model_version
        )
    booster = load_model(tmp_path / f"{every_kind[0].model_version}.json")
    assert isinstance(booster, TrainedModel) and isinstance(every_kind[0], TrainedModel)
    assert booster.config == every_kind[0].config
    assert booster.training_snapshot_dates == every_kind[0].training_snapshot_dates
    assert booster.category_levels == every_kind[0].category_levels


def test_attachments_travel_with_the_model(every_kind: list[ScoringModel], tmp_path: Path) -> None:
    drift_profile = {"format": 1, "n_rows": 3, "columns": {"x": {"kind": "numeric", "edges": [0.5]}}}
    path = save_model(every_kind[2], tmp_path, attachments={"drift_profile": drift_profile})
    assert load_attachments(path) == {"drift_profile": drift_profile}
    assert load_attachments(save_model(every_kind[3], tmp_path)) == {}


def test_a_failed_write_leaves_the_previous_model_and_no_partial_file(
    every_kind: list[ScoringModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = every_kind[2]
    path = save_model(model, tmp_path)
    before = path.read_bytes()

    def crash(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, tmp_path, attachments={"note": "never written"})
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path]  # the temporary file is gone too


def test_unknown_store_formats_are_refused(every_kind: list[ScoringModel], tmp_path: Path) -> None:
    path = save_model(every_kind[2], tmp_path)
    path.write_text(path.read_text().replace('"format": 1', '"format": 99'))
    with pytest.raises(ValueError, match="format 99"):
        load_model(path)


def _register(
    con: duckdb.DuckDBPyConnection,
    model: ScoringModel,
    store: Path,
    holdout: pd.DataFrame,
    labels: pd.DataFrame,
) -> tuple[Decision, dict[str, float]]:
    """What orchestration does for a fresh model: store it, score it and the champion on the same
    holdout, decide, register."""
    metrics = holdout_metrics(model, holdout, labels)
    champion = current_champion(con, model.task)
    champion_metrics = (
        None if champion is None else holdout_metrics(load_model(Path(champion.model_path)), holdout, labels)
    )
    margin = DEFAULT_LOG_LOSS_MARGIN if model.task == "churn" else DEFAULT_GINI_MARGIN
    decision = decide(metrics, champion_metrics, margin, task=model.task)
    path = save_model(model, store)
    register(
        con,
        new_record(
            model,
            path,
            decision,
            scoring_date=SCORING_DATE,
            trained_at=TRAINED_AT,
            challenger_metrics=metrics,
            champion_metrics=champion_metrics,
        ),
    )
    return decision, metrics


def test_a_better_challenger_is_promoted_and_a_worse_one_rejected(
    churn_holdout: Holdout, tmp_path: Path
) -> None:
    lightgbm, holdout, labels = churn_holdout
    run_rate = run_rate_model("churn", lightgbm.horizon_days, holdout)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))

    first, _ = _register(con, run_rate, tmp_path / "models", holdout, labels)
    assert first == Decision(True, "promoted: no churn champion yet")

    better, _ = _register(con, lightgbm, tmp_path / "models", holdout, labels)
    assert better.promote, better.reason
    champion = current_champion(con, "churn")
    assert champion is not None and champion.model_version == lightgbm.model_version
    retired = registered(con, run_rate.model_version)
    assert retired is not None
    assert (retired.status, retired.superseded_by) == ("retired", lightgbm.model_version)
    assert retired.decision_reason == "promoted: no churn champion yet"  # why it once won is kept

    # The run-rate model again, on other rows: a new version, worse than the champion.
    worse_model = run_rate_model("churn", lightgbm.horizon_days, holdout.iloc[1:])
    worse, worse_metrics = _register(con, worse_model, tmp_path / "models", holdout, labels)
    assert not worse.promote
    assert worse.reason.startswith("rejected: churn_log_loss")
    rejected = registered(con, worse_model.model_version)
    assert rejected is not None and rejected.status == "challenger_rejected"
    assert rejected.metrics["challenger"] == pytest.approx(worse_metrics)
    champion_metrics = rejected.metrics["champion"]
    assert champion_metrics is not None
    assert champion_metrics["churn_log_loss"] == pytest.approx(
        holdout_metrics(lightgbm, holdout, labels)["churn_log_loss"]
    )

    champion = current_champion(con, "churn")
    assert champion is not None and champion.model_version == lightgbm.model_version
    np.testing.assert_array_equal(
        load_model(Path(champion.model_path)).predict(holdout), lightgbm.predict(holdout)
    )
    assert con.execute("SELECT count(*) FROM ml.model_registry WHERE status = 'champion'").fetchone() == (1,)


def test_the_registry_survives_a_reopen_and_registering_again_changes_nothing(
    churn_holdout: Holdout, clv_holdout: Holdout, tmp_path: Path
) -> None:
    database = str(tmp_path / "warehouse.duckdb")
    churn, holdout, labels = churn_holdout
    clv, clv_rows, clv_labels = clv_holdout
    with duckdb.connect(database) as con:
        assert current_champion(con, "churn") is None  # no table yet: asking does not create one
        _register(con, churn, tmp_path / "models", holdout, labels)
        _register(con, clv, tmp_path / "models", clv_rows, clv_labels)
    with duckdb.connect(database) as con:
        ensure_registry_table(con)
        stored = current_champion(con, "churn")
        assert stored is not None and stored.model_version == churn.model_version
        assert stored.kind == "lightgbm" and stored.horizon_days == churn.horizon_days
        assert (stored.first_training_snapshot, stored.last_training_snapshot) == (
            churn.training_snapshot_dates[0].date(),
            churn.training_snapshot_dates[-1].date(),
        )
        assert (stored.scoring_date, stored.trained_at) == (SCORING_DATE, TRAINED_AT)
        assert stored.configuration["boosting"]["learning_rate"] == churn.config.learning_rate
        clv_champion = current_champion(con, "clv")
        assert clv_champion is not None and clv_champion.model_version == clv.model_version

        # The same version again, even with another decision: the first decision stands.
        again = new_record(
            churn,
            Path(stored.model_path),
            Decision(False, "rejected: a re-run"),
            scoring_date=SCORING_DATE,
            trained_at=datetime(2024, 2, 1),
            challenger_metrics={"churn_log_loss": math.nan},
        )
        assert register(con, again) == stored
        assert con.execute("SELECT count(*) FROM ml.model_registry").fetchone() == (2,)


def test_promote_rolls_back_to_a_registered_version(churn_holdout: Holdout, tmp_path: Path) -> None:
    lightgbm, holdout, labels = churn_holdout
    run_rate = run_rate_model("churn", lightgbm.horizon_days, holdout)
    con = duckdb.connect()
    _register(con, run_rate, tmp_path, holdout, labels)
    _register(con, lightgbm, tmp_path, holdout, labels)

    promote(con, run_rate.model_version, "rollback: reason codes broke in production")
    champion = current_champion(con, "churn")
    assert champion is not None and champion.model_version == run_rate.model_version
    assert champion.decision_reason == "rollback: reason codes broke in production"
    assert champion.superseded_by is None
    retired = registered(con, lightgbm.model_version)
    assert retired is not None and (retired.status, retired.superseded_by) == (
        "retired",
        run_rate.model_version,
    )

    promote(con, run_rate.model_version, "again")  # already champion: nothing changes
    assert current_champion(con, "churn") == champion
    with pytest.raises(ValueError, match=r"not in ml\.model_registry"):
        promote(con, "churn-lgbm-000000000000", "unknown")


def test_nan_metrics_are_stored_as_null(churn_holdout: Holdout, tmp_path: Path) -> None:
    model = churn_holdout[0]
    con = duckdb.connect()
    record = new_record(
        model,
        tmp_path / "model.json",
        Decision(False, "rejected: the challenger's churn_log_loss is undefined on the holdout"),
        scoring_date=SCORING_DATE,
        trained_at=TRAINED_AT,
        challenger_metrics={"churn_log_loss": math.nan, "churn_auc": 0.8},
        baseline_metrics={"churn_log_loss": 0.5},
    )
    stored = register(con, record)
    assert stored.metrics == {
        "challenger": {"churn_log_loss": None, "churn_auc": 0.8},
        "champion": None,
        "baseline": {"churn_log_loss": 0.5},
    }
    assert stored.status == "challenger_rejected"
    assert current_champion(con, "churn") is None


# --- The promotion rule on its own ------------------------------------------------------------------------


def test_the_first_model_is_promoted() -> None:
    assert decide({"churn_log_loss": 0.5}, None, 0.01, task="churn") == Decision(
        True, "promoted: no churn champion yet"
    )
    assert decide({"spend_normalized_gini": 0.1, "total_spend_error": 0.9}, None, 0.01, task="clv").promote


def test_churn_log_loss_must_drop_by_the_relative_margin() -> None:
    champion = {"churn_log_loss": 0.40}
    assert decide({"churn_log_loss": 0.395}, champion, 0.01, task="churn").promote  # 1.25% lower
    rejected = decide({"churn_log_loss": 0.398}, champion, 0.01, task="churn")  # 0.5% lower: noise
    assert rejected == Decision(
        False, "rejected: churn_log_loss 0.3980 vs the champion's 0.4000 is not 1.0% lower (needs <= 0.3960)"
    )
    assert not decide({"churn_log_loss": 0.45}, champion, 0.0, task="churn").promote


def test_clv_gini_must_rise_by_the_margin_without_missing_the_total() -> None:
    champion = {"spend_normalized_gini": 0.50, "total_spend_error": -0.05}
    assert decide(
        {"spend_normalized_gini": 0.52, "total_spend_error": 0.08}, champion, 0.01, task="clv"
    ).promote
    assert not decide(
        {"spend_normalized_gini": 0.505, "total_spend_error": 0.0}, champion, 0.01, task="clv"
    ).promote
    # Better ranking, but the revenue total 40% off where the champion's was 5%: the guard keeps it out.
    guarded = decide(
        {"spend_normalized_gini": 0.60, "total_spend_error": -0.40},
        champion,
        0.01,
        task="clv",
        spend_error_tolerance=0.05,
    )
    assert not guarded.promote
    assert "total_spend_error" in guarded.reason and "0.4000" in guarded.reason


def test_undefined_metrics() -> None:
    # A challenger the holdout cannot measure never replaces a champion, nor becomes the first one.
    assert not decide({"churn_log_loss": math.nan}, {"churn_log_loss": 0.4}, 0.01, task="churn").promote
    assert not decide({"churn_log_loss": None}, None, 0.01, task="churn").promote
    assert not decide({}, None, 0.01, task="churn").promote
    nan_total = decide({"spend_normalized_gini": 0.7, "total_spend_error": math.nan}, None, 0.01, task="clv")
    assert nan_total == Decision(
        False, "rejected: the challenger's total_spend_error is undefined on the holdout"
    )
    # A champion the holdout cannot measure: the challenger, which can be measured, takes over.
    assert decide({"churn_log_loss": 0.4}, {"churn_log_loss": math.nan}, 0.01, task="churn").promote
    spend_unknown = decide(
        {"spend_normalized_gini": 0.7, "total_spend_error": 0.1},
        {"spend_normalized_gini": 0.5, "total_spend_error": None},
        0.01,
        task="clv",
    )
    assert spend_unknown.promote and "not compared" in spend_unknown.reason
    with pytest.raises(ValueError, match="margin"):
        decide({"churn_log_loss": 0.4}, None, -0.01, task="churn")


def test_holdout_metrics_are_nan_where_the_holdout_cannot_say(churn_holdout: Holdout) -> None:
    model, holdout, labels = churn_holdout
    metrics = holdout_metrics(model, holdout, labels)
    assert set(metrics) == {"churn_log_loss", "churn_auc"}
    assert 0 < metrics["churn_log_loss"] < 0.7 and metrics["churn_auc"] > 0.7
    retained_only = labels.assign(churned=0)
    assert math.isnan(holdout_metrics(model, holdout, retained_only)["churn_auc"])
    with pytest.raises(ValueError, match="have no label"):
        holdout_metrics(model, holdout, labels.iloc[1:])
