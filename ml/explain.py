"""Reason codes for every customer's churn and value scores: which features moved the model's score, in words.

Attribution is path-based (Saabas): walking a tree from root to the customer's leaf, each split moves the
expected output from the parent's value to the child's, and that step is credited to the split's feature;
the root values summed over trees are the bias. Per row this is one `predict(pred_leaf=True)` plus a few
additions per tree, so every customer is explained (1,000,000 in well under two minutes on two cores), where
exact TreeSHAP (`pred_contrib=True`) costs ~45x a prediction and used to limit reasons to 10,000 customers;
see benchmarks/bench_reason_codes.py. Contributions plus bias add up to the raw score exactly, like SHAP.

Saabas is not SHAP: it is not consistent (a split's credit depends on where in the tree it sits; features
split near the root, such as recency, get less than SHAP gives them), and the top reason is SHAP's for only
about two rows in three. Measured on the scoring snapshot of the tests' synthetic customers (2,000 rows,
tests/ml/test_ml_explain.py): churn (175 trees) top risk-raising feature equal to SHAP's for 73% of rows,
within SHAP's top 3 for 95%, top-3 sets sharing 74% of features; CLV (largest absolute contribution, 20
to 25 trees as the training code changed) 63-66%, 76-96% and 58-65%. The benchmark's default churn model
(511 trees, 3,000 customers): 63%, 94% and 76%. So the first churn reason is nearly always one of SHAP's
top three, but about one in four of the three reasons shown (more for CLV) differs from SHAP's, and the
contributions are not SHAP values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numba
import numpy as np
import pandas as pd

from ml.features import as_ids
from ml.reasons import phrase
from ml.train import TrainedModel

BIAS_COLUMN = "bias"

# Rows per pred_leaf call: the leaf matrix is rows x trees int32, so this keeps it near 128 MB.
_LEAF_CELLS_PER_CHUNK = 2**25


@dataclass(frozen=True)
class ReasonCodePlan:
    """Who gets reason codes and how they read.

    `bands`: churn risk bands to explain (None: all; CLV has no bands and ignores it); `max_customers`:
    at most this many, highest churn probability or predicted revenue first (None: no cap); `top_k`
    reasons each; `currency`: ISO code shown before money amounts ('' shows bare numbers);
    `num_threads`: threads for attribution (None: the model's own `config.num_threads`).
    """

    bands: tuple[str, ...] | None = None
    max_customers: int | None = None
    top_k: int = 3
    currency: str = ""
    num_threads: int | None = None

    def reason_columns(self) -> list[str]:
        """Text column names: reason_1 ... reason_<top_k>."""
        return [f"reason_{rank}" for rank in range(1, self.top_k + 1)]

    def contribution_columns(self) -> list[str]:
        """Signed contribution column names, raw model scale: reason_1_contribution ... ."""
        return [f"{column}_contribution" for column in self.reason_columns()]

    def output_columns(self) -> list[str]:
        """customer_id, the text columns, then the contribution columns."""
        return ["customer_id", *self.reason_columns(), *self.contribution_columns()]


@dataclass(frozen=True)
class PathAttribution:
    """A booster's root->leaf paths flattened for `contributions`.

    Leaf `leaf` of tree `tree` is global leaf `tree_offsets[tree] + leaf`; its path steps are
    `step_features[k]`, `step_deltas[k]` for k in `path_starts[g]` ... `path_starts[g + 1]` (one entry per
    feature, steps on the same feature summed). `bias` is the sum of the trees' root values.
    """

    n_features: int
    bias: float
    tree_offsets: np.ndarray
    path_starts: np.ndarray
    step_features: np.ndarray
    step_deltas: np.ndarray


def path_attribution(booster: lgb.Booster) -> PathAttribution:
    """The Saabas paths of every tree of `booster` (one output per iteration: binary or regression).

    LightGBM dumps each internal node's output as if it were a leaf (`internal_value`, 6 significant
    digits) and each leaf's exact `leaf_value`; deltas telescope to the leaf value, so rounded internal
    values move credit between features by at most ~1e-6 but never change the total.
    """
    model = booster.dump_model()
    if model["num_tree_per_iteration"] != 1:
        raise ValueError("path attribution needs one tree per iteration (binary or regression objective)")
    bias = 0.0
    tree_offsets = [0]
    path_starts = [0]
    step_features: list[int] = []
    step_deltas: list[float] = []
    for tree in model["tree_info"]:
        root = tree["tree_structure"]
        bias += _node_value(root)
        paths = _leaf_paths(root)
        for leaf in range(len(paths)):
            for feature, delta in sorted(paths[leaf].items()):
                step_features.append(feature)
                step_deltas.append(delta)
            path_starts.append(len(step_features))
        tree_offsets.append(tree_offsets[-1] + len(paths))
    return PathAttribution(
        n_features=len(model["feature_names"]),
        bias=bias,
        tree_offsets=np.asarray(tree_offsets[:-1], dtype=np.int64),
        path_starts=np.asarray(path_starts, dtype=np.int64),
        step_features=np.asarray(step_features, dtype=np.int64),
        step_deltas=np.asarray(step_deltas, dtype=np.float64),
    )


def _node_value(node: dict[str, Any]) -> float:
    return float(node["leaf_value"] if "leaf_value" in node else node["internal_value"])


def _leaf_paths(root: dict[str, Any]) -> dict[int, dict[int, float]]:
    """Per leaf index, feature -> summed value(child) - value(parent) along the root->leaf path. A tree
    that is a single leaf (no split gained anything) has leaf 0 with an empty path."""
    paths: dict[int, dict[int, float]] = {}
    pending: list[tuple[dict[str, Any], dict[int, float]]] = [(root, {})]
    while pending:
        node, steps = pending.pop()
        if "leaf_value" in node:
            paths[int(node.get("leaf_index", 0))] = steps
            continue
        feature, value = int(node["split_feature"]), _node_value(node)
        for side in ("left_child", "right_child"):
            child = node[side]
            child_steps = dict(steps)
            child_steps[feature] = child_steps.get(feature, 0.0) + _node_value(child) - value
            pending.append((child, child_steps))
    return paths


@numba.njit(parallel=True, cache=True)
def _add_paths(
    leaves: np.ndarray,
    tree_offsets: np.ndarray,
    path_starts: np.ndarray,
    step_features: np.ndarray,
    step_deltas: np.ndarray,
    out: np.ndarray,
) -> None:
    for row in numba.prange(leaves.shape[0]):
        for tree in range(leaves.shape[1]):
            leaf = tree_offsets[tree] + leaves[row, tree]
            for step in range(path_starts[leaf], path_starts[leaf + 1]):
                out[row, step_features[step]] += step_deltas[step]


def contributions(
    booster: lgb.Booster, inputs: pd.DataFrame, num_threads: int = 1, paths: PathAttribution | None = None
) -> np.ndarray:
    """Saabas contribution of each feature to each row's raw score, rows x features float64.

    `inputs` as the booster was trained on (`TrainedModel.model_input`); row sums plus `paths.bias` equal
    `booster.predict(inputs, raw_score=True)`. `paths` defaults to `path_attribution(booster)`.
    """
    attribution = paths or path_attribution(booster)
    result = np.zeros((len(inputs), attribution.n_features), dtype=np.float64)
    chunk = max(1, _LEAF_CELLS_PER_CHUNK // max(booster.num_trees(), 1))
    previous_threads = numba.get_num_threads()
    # LightGBM reads num_threads <= 0 as "all cores"; numba must be told a count.
    available = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(min(num_threads, available) if num_threads > 0 else available)
    try:
        for start in range(0, len(inputs), chunk):
            leaves = booster.predict(
                inputs.iloc[start : start + chunk], pred_leaf=True, num_threads=num_threads
            )
            _add_paths(
                np.ascontiguousarray(leaves, dtype=np.int32),
                attribution.tree_offsets,
                attribution.path_starts,
                attribution.step_features,
                attribution.step_deltas,
                result[start : start + chunk],
            )
    finally:
        numba.set_num_threads(previous_threads)
    return result


def feature_contributions(
    model: TrainedModel, frame: pd.DataFrame, num_threads: int | None = None
) -> pd.DataFrame:
    """Saabas contribution of every model feature to each row's raw score (`contributions`), plus a `bias`
    column; units are the booster's raw scale (log-odds for churn, log revenue for CLV) and each row sums
    to `model.booster.predict(..., raw_score=True)`. Same index as `frame`; `num_threads` defaults to the
    model's."""
    threads = model.config.num_threads if num_threads is None else num_threads
    attribution = path_attribution(model.booster)
    values = contributions(model.booster, model.model_input(frame), threads, attribution)
    result = pd.DataFrame(values, columns=list(model.features), index=frame.index)
    result[BIAS_COLUMN] = attribution.bias
    return result


def shap_contributions(
    model: TrainedModel, frame: pd.DataFrame, num_threads: int | None = None
) -> pd.DataFrame:
    """Exact TreeSHAP contributions (`pred_contrib=True`), shaped like `feature_contributions`: the
    reference the path attribution is checked against, ~45x the cost of a prediction."""
    threads = model.config.num_threads if num_threads is None else num_threads
    values = model.booster.predict(model.model_input(frame), pred_contrib=True, num_threads=threads)
    return pd.DataFrame(values, columns=[*model.features, BIAS_COLUMN], index=frame.index)


def reason_codes(
    model: TrainedModel, frame: pd.DataFrame, plan: ReasonCodePlan | None = None
) -> pd.DataFrame:
    """`plan.output_columns()` for every row of `frame` (customer_features rows), same order.

    Churn: the features that raise the risk (positive contribution), largest first. CLV: the features
    that move predicted revenue most either way (largest absolute contribution), each phrase ending in
    '(raises expected revenue)' or '(lowers expected revenue)'. Contributions are signed, raw model scale;
    a customer with fewer than `top_k` such features gets nulls in the remaining columns.
    """
    settings = plan or ReasonCodePlan()
    inputs = model.model_input(frame)
    threads = model.config.num_threads if settings.num_threads is None else settings.num_threads
    attributed = contributions(model.booster, inputs, threads)
    ranked = np.where(attributed > 0, attributed, 0.0) if model.task == "churn" else np.abs(attributed)
    top = np.argsort(-ranked, axis=1, kind="stable")[:, : settings.top_k]
    rows = np.arange(len(frame))
    columns = _feature_values(inputs)
    reasons = no_reasons(frame["customer_id"], settings)
    ranks = zip(settings.reason_columns(), settings.contribution_columns(), top.T, strict=False)
    for text_column, amount_column, feature_index in ranks:
        amount = attributed[rows, feature_index]
        present = ranked[rows, feature_index] > 0
        texts = np.full(len(frame), np.nan, dtype=object)
        for index, feature in enumerate(model.features):
            chosen = np.flatnonzero(present & (feature_index == index))
            if chosen.size:
                texts[chosen] = _phrased(
                    feature, _Rows(columns, chosen), settings.currency, model, amount[chosen]
                )
        reasons[text_column] = pd.Series(texts, dtype="str")
        reasons[amount_column] = np.where(present, amount, np.nan)
    return reasons


def explain_churn_scores(
    model: TrainedModel,
    features_at_scoring: pd.DataFrame,
    scores: pd.DataFrame,
    plan: ReasonCodePlan | None = None,
) -> pd.DataFrame:
    """Churn reason codes for the customers the `plan` selects from churn `scores` (customer_id,
    churn_probability, risk_band); `features_at_scoring` holds their feature rows. Returns
    `plan.output_columns()`, one row per row of `scores` in the same order, null where not selected."""
    settings = plan or ReasonCodePlan()
    selected = scores if settings.bands is None else scores.loc[scores["risk_band"].isin(settings.bands)]
    return _explain_selected(model, features_at_scoring, scores, selected, "churn_probability", settings)


def explain_clv_scores(
    model: TrainedModel,
    features_at_scoring: pd.DataFrame,
    scores: pd.DataFrame,
    plan: ReasonCodePlan | None = None,
) -> pd.DataFrame:
    """Value reason codes for CLV `scores` (customer_id, predicted_revenue), as `explain_churn_scores`;
    `plan.bands` does not apply, and a `max_customers` cap keeps the highest predicted revenue."""
    settings = plan or ReasonCodePlan()
    return _explain_selected(model, features_at_scoring, scores, scores, "predicted_revenue", settings)


def no_reasons(customer_ids: pd.Series, plan: ReasonCodePlan | None = None) -> pd.DataFrame:
    """`plan.output_columns()` with every reason null: what a customer without reasons gets (outside the
    plan, or every customer when the run-rate fallback scored)."""
    settings = plan or ReasonCodePlan()
    ids = as_ids(customer_ids).reset_index(drop=True)
    texts = {column: pd.Series(np.nan, index=ids.index, dtype="str") for column in settings.reason_columns()}
    amounts = {column: np.full(len(ids), np.nan) for column in settings.contribution_columns()}
    return pd.DataFrame({"customer_id": ids, **texts, **amounts})[settings.output_columns()]


def _explain_selected(
    model: TrainedModel,
    features_at_scoring: pd.DataFrame,
    scores: pd.DataFrame,
    selected: pd.DataFrame,
    score_column: str,
    plan: ReasonCodePlan,
) -> pd.DataFrame:
    if plan.max_customers is not None:
        selected = selected.sort_values(
            [score_column, "customer_id"], ascending=[False, True], kind="stable"
        ).head(plan.max_customers)
    every_customer = len(selected) == len(scores)
    chosen = as_ids(features_at_scoring["customer_id"]).isin(as_ids(selected["customer_id"]))
    to_explain = features_at_scoring if every_customer else features_at_scoring.loc[chosen.to_numpy()]
    explained = (
        reason_codes(model, to_explain, plan)
        if len(to_explain)
        else no_reasons(to_explain["customer_id"], plan)
    )
    return no_reasons(scores["customer_id"], plan)[["customer_id"]].merge(
        explained, on="customer_id", how="left", validate="one_to_one"
    )


class _Rows(Mapping[str, np.ndarray]):
    """Some rows of the feature columns, cut out only for the columns a template reads."""

    def __init__(self, columns: Mapping[str, np.ndarray], rows: np.ndarray) -> None:
        self._columns, self._rows = columns, rows

    def __getitem__(self, feature: str) -> np.ndarray:
        return self._columns[feature][self._rows]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _feature_values(inputs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Model inputs as templates read them: float arrays, and object arrays of levels for categories."""
    return {
        column: (
            np.asarray(inputs[column].astype(object))
            if isinstance(inputs[column].dtype, pd.CategoricalDtype)
            else inputs[column].to_numpy(dtype=np.float64)
        )
        for column in inputs.columns
    }


def _phrased(
    feature: str, values: Mapping[str, np.ndarray], currency: str, model: TrainedModel, amount: np.ndarray
) -> np.ndarray:
    text = phrase(feature, values, currency)
    if model.task == "churn":
        return text
    return np.add(
        text, np.where(amount > 0, " (raises expected revenue)", " (lowers expected revenue)").astype(object)
    )
