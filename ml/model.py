"""What every scoring model offers, however it was made: the LightGBM models of `ml.train` and the run-rate
baseline of `ml.baseline` both score customers through `ScoringModel`, so `ml.score` serves either."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

Task = Literal["churn", "clv"]
ModelKind = Literal["lightgbm", "run_rate", "btyd"]


class ScoringModel(Protocol):
    """A fitted model for one task and horizon.

    `predict` takes `customer_features` rows and returns one value per row: for churn P(no order in
    [snapshot_date, + horizon_days)) in [0, 1], for CLV the expected net revenue in that window
    (currency units, >= 0). `model_version` is the same string whenever inputs and settings are the same.
    """

    @property
    def kind(self) -> ModelKind: ...

    @property
    def task(self) -> Task: ...

    @property
    def horizon_days(self) -> int: ...

    @property
    def model_version(self) -> str: ...

    def predict(self, frame: pd.DataFrame) -> np.ndarray: ...


def version_of(prefix: str, recipe: Mapping[str, Any], data: pd.DataFrame) -> str:
    """`<prefix>-<12 hex digits>`: a SHA-256 of the JSON `recipe` (settings) and of `data` row by row.

    `data` must already be in a canonical form (keys normalized, rows sorted), so that the version
    depends on what the data says, not on how it was handed over.
    """
    fingerprint = pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes()
    settings = json.dumps(dict(recipe), sort_keys=True, default=str).encode()
    digest = hashlib.sha256(settings + hashlib.sha256(fingerprint).digest()).hexdigest()[:12]
    return f"{prefix}-{digest}"
