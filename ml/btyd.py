"""The BTYD ("buy till you die") baseline: BG/NBD for whether and how often a customer orders again and
Gamma-Gamma for how much, fitted by maximum likelihood on the rows of one `customer_features` snapshot.

Models (published, closed-form likelihoods; `scipy.optimize` finds the maximum):

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a customer
  orders as a Poisson process of rate lambda ~ Gamma(r, alpha); after each repeat order they drop out
  for good with probability p ~ Beta(a, b). A customer is summarised by x (repeat orders), t_x (time of
  the last order after the first) and T (time from the first order to the snapshot).
- Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): a customer's order values
  are Gamma(p, nu) with nu ~ Gamma(q, v) across customers, independent of the order process; the
  expected value of a customer's future order given the mean m of n observed orders is
  (v + n m) p / (p n + q - 1), a weighted mean of their own m and the population's v p / (q - 1).

Time: `BtydConfig.time_unit_days` days make one model time unit (weeks by default, so the parameters read
like the published ones: CDNOW full cohort r=0.243, alpha=4.414 weeks, a=0.793, b=2.426); inputs and
horizons are in days and converted once. All predictions are for the half-open window
[snapshot_date, snapshot_date + horizon_days), the same window `ml.labels` labels.

Monetary input: `customer_features` carries each customer's average net value over *all* orders before
the snapshot (avg_order_value), not the Gamma-Gamma convention's mean of *repeat* orders (the first
order's value is not in the mart). The Gamma-Gamma model is therefore fitted with n = frequency (every
order the mean is taken over), which is the model's own reading of a mean of n order values, on every
customer with at least one order and a positive average; one-time buyers then get their own first order
shrunk towards the population mean instead of the bare population mean. Non-positive averages (refunds
outweigh purchases) are left out of the fit and predicted from a mean of 0, i.e. pulled towards the
population mean by (q - 1) / (p n + q - 1) only.

Customers without any order before the snapshot have no purchase history for BG/NBD to condition on
(the model starts at a first order). Their features (`btyd_features`) are NaN, which LightGBM reads as
"missing"; as a scoring model (`BtydModel`) they get churn 1.0 and revenue 0.0, as from the run-rate
baseline (`ml.baseline`): no order rate to project.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from ml.features import KEY_COLUMNS, as_float64, normalize_keys, require_columns, snapshot_dates_of
from ml.model import ModelKind, Task, version_of

BTYD_INPUT_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "avg_order_value",
    "mean_days_between_orders",
)
BTYD_FEATURES: tuple[str, ...] = (
    "btyd_p_alive",
    "btyd_expected_orders",
    "btyd_expected_order_value",
    "btyd_expected_revenue",
    "btyd_p_no_order",
)

# Parameters start at 1 (log 0) in the optimiser, as in the published fits; L-BFGS-B on log parameters
# keeps them positive without bounds.
_OPTIMIZER = "L-BFGS-B"


@dataclass(frozen=True)
class BtydConfig:
    """Settings of a BTYD fit.

    `time_unit_days`: days per model time unit (7: weeks, the unit of the published parameters); only
    alpha (BG/NBD) depends on it, and predictions do not. `penalizer`: L2 penalty on the parameters added
    to the mean negative log-likelihood (0: plain maximum likelihood; a small value such as 0.001 keeps
    parameters finite on thin data). `min_repeat_customers`: fewer customers with a repeat order (or with a
    positive order value, for Gamma-Gamma) than this and the fit refuses (ValueError): dropout and spend
    heterogeneity are not identified from a handful of repeat buyers. `max_iterations`: optimiser cap.
    """

    time_unit_days: float = 7.0
    penalizer: float = 0.0
    min_repeat_customers: int = 20
    max_iterations: int = 1000

    def __post_init__(self) -> None:
        if not self.time_unit_days > 0:
            raise ValueError(f"time_unit_days must be positive, got {self.time_unit_days}")
        if self.penalizer < 0:
            raise ValueError(f"penalizer must be >= 0, got {self.penalizer}")
        if self.min_repeat_customers < 1:
            raise ValueError(f"min_repeat_customers must be >= 1, got {self.min_repeat_customers}")


@dataclass(frozen=True)
class BgNbdParameters:
    """BG/NBD parameters: purchase rate lambda ~ Gamma(shape r, rate alpha) with alpha in model time units;
    dropout probability after each repeat order p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParameters:
    """Gamma-Gamma parameters: order value ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v) across
    customers; v in currency units. The population's mean order value is v p / (q - 1) (needs q > 1)."""

    p: float
    q: float
    v: float

    @property
    def mean_order_value(self) -> float:
        """The population's expected order value v p / (q - 1), currency units."""
        return self.v * self.p / (self.q - 1.0)


@dataclass(frozen=True)
class BtydFit:
    """BG/NBD and Gamma-Gamma fitted on the rows of one snapshot (`fit_btyd`).

    `n_customers` rows with at least one order were used by BG/NBD, `n_repeat_customers` of them with a
    repeat order, `n_spend_customers` (positive average order value) by Gamma-Gamma. `fit_version` hashes
    the config and the inputs, so two fits with the same version predict the same.
    """

    snapshot_date: pd.Timestamp
    config: BtydConfig
    bgnbd: BgNbdParameters
    gamma_gamma: GammaGammaParameters
    n_customers: int
    n_repeat_customers: int
    n_spend_customers: int
    fit_version: str


def btyd_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The BTYD summary of each row of a `customer_features` frame, same order (index reset):

    customer_id, snapshot_date (`normalize_keys`); x = frequency - 1 repeat orders; t_x = days from the
    first to the last order, mean_days_between_orders x (frequency - 1) (0 with one order); T = days from
    the first order to the snapshot, recency_days + t_x (not tenure_days, which counts from first seen);
    m = avg_order_value, mean net value of all orders (currency units); n_orders = frequency. All float64;
    x, t_x, T and m are NaN for a row without orders. Raises ValueError naming missing columns.
    """
    require_columns(frame, KEY_COLUMNS + BTYD_INPUT_COLUMNS)
    orders = np.nan_to_num(as_float64(frame["frequency"]), nan=0.0)
    has_orders = orders >= 1
    x = np.where(has_orders, orders - 1.0, np.nan)
    gaps = np.nan_to_num(as_float64(frame["mean_days_between_orders"]), nan=0.0)
    # The mart stores (last - first) / (n - 1) as a double; the product is a whole number of days.
    t_x = np.where(has_orders, np.round(gaps * np.maximum(orders - 1.0, 0.0), 6), np.nan)
    recency = as_float64(frame["recency_days"])
    return (
        normalize_keys(frame)
        .reset_index(drop=True)
        .assign(
            x=x,
            t_x=t_x,
            T=np.where(has_orders, recency + t_x, np.nan),
            m=np.where(has_orders, as_float64(frame["avg_order_value"]), np.nan),
            n_orders=orders,
        )
    )


def fit_btyd(rows: pd.DataFrame, config: BtydConfig | None = None) -> BtydFit:
    """BG/NBD and Gamma-Gamma fitted by maximum likelihood on `customer_features` rows of ONE snapshot.

    Only `rows` are read, so a fit is as of its snapshot date (point in time). Rows without orders are
    ignored. Raises ValueError if `rows` span several snapshot dates, if fewer than
    `config.min_repeat_customers` customers have a repeat order (BG/NBD) or a positive order value
    (Gamma-Gamma), if an input is inconsistent (t_x > T, negative times), or if the optimiser fails;
    the message names what is missing, for the caller's fallback reason.
    """
    settings = config or BtydConfig()
    dates = snapshot_dates_of(rows).unique()
    if len(dates) != 1:
        found = ", ".join(str(pd.Timestamp(date).date()) for date in sorted(dates)) or "none"
        raise ValueError(
            f"fit_btyd needs the rows of exactly one snapshot date; found {len(dates)} ({found})"
        )
    inputs = btyd_inputs(rows)
    buyers = inputs.loc[inputs["n_orders"] >= 1]
    _check_inputs(buyers)
    unit = settings.time_unit_days
    x = buyers["x"].to_numpy()
    n_repeat = int((x > 0).sum())
    if n_repeat < settings.min_repeat_customers:
        raise ValueError(
            f"BG/NBD needs at least {settings.min_repeat_customers} customers with a repeat order "
            f"(min_repeat_customers) at snapshot {pd.Timestamp(dates[0]).date()}; found {n_repeat} among "
            f"{len(buyers)} customers with orders"
        )
    spenders = buyers.loc[buyers["m"] > 0]
    if len(spenders) < settings.min_repeat_customers:
        raise ValueError(
            f"Gamma-Gamma needs at least {settings.min_repeat_customers} customers with a positive average "
            f"order value (min_repeat_customers) at snapshot {pd.Timestamp(dates[0]).date()}; "
            f"found {len(spenders)}"
        )
    bgnbd = fit_bgnbd(
        x,
        buyers["t_x"].to_numpy() / unit,
        buyers["T"].to_numpy() / unit,
        settings.penalizer,
        settings.max_iterations,
    )
    gamma_gamma = fit_gamma_gamma(
        spenders["n_orders"].to_numpy(), spenders["m"].to_numpy(), settings.penalizer, settings.max_iterations
    )
    canonical = inputs.sort_values(list(KEY_COLUMNS), kind="stable", ignore_index=True)
    return BtydFit(
        snapshot_date=pd.Timestamp(dates[0]),
        config=settings,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        n_customers=len(buyers),
        n_repeat_customers=n_repeat,
        n_spend_customers=len(spenders),
        fit_version=version_of("btyd-fit", dataclasses.asdict(settings), canonical),
    )


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalizer: float = 0.0, max_iterations: int = 1000
) -> BgNbdParameters:
    """Maximum-likelihood BG/NBD parameters from repeat orders `x`, last-order time `t_x` and age `T`
    (same time unit; alpha comes out in it), with an L2 `penalizer` on the parameters. Customers with the
    same (x, t_x, T) are evaluated once. Raises ValueError if the optimiser does not converge."""
    summary, weight = _distinct_rows(np.column_stack([x, t_x, T]))
    xs, t_xs, Ts = summary.T
    objective = _penalized(_bgnbd_negative_log_likelihood(xs, t_xs, Ts, weight / weight.sum()), penalizer)
    r, alpha, a, b = _maximize(objective, 4, "BG/NBD", max_iterations)
    return BgNbdParameters(r=r, alpha=alpha, a=a, b=b)


def fit_gamma_gamma(
    n: np.ndarray, m: np.ndarray, penalizer: float = 0.0, max_iterations: int = 1000
) -> GammaGammaParameters:
    """Maximum-likelihood Gamma-Gamma parameters from each customer's number of orders `n` (>= 1) and their
    mean value `m` (> 0), with an L2 `penalizer`. Raises ValueError on other inputs, if the optimiser
    does not converge, or if q <= 1 (the population's mean order value would be infinite)."""
    if (n < 1).any() or not (m > 0).all():
        raise ValueError("fit_gamma_gamma needs n >= 1 and m > 0 for every customer")
    summary, weight = _distinct_rows(np.column_stack([n, m]))
    ns, ms = summary.T
    objective = _penalized(_gamma_gamma_negative_log_likelihood(ns, ms, weight / weight.sum()), penalizer)
    p, q, v = _maximize(objective, 3, "Gamma-Gamma", max_iterations)
    if q <= 1:
        raise ValueError(f"Gamma-Gamma fit has q={q:.3f} <= 1: the mean order value is unbounded")
    return GammaGammaParameters(p=p, q=q, v=v)


def bgnbd_p_alive(params: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2008): 1 without a repeat order, since BG/NBD
    customers drop out only right after a repeat order."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_ratio = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1.0) - 1.0))
    return np.where(x > 0, special.expit(-log_ratio), 1.0)


def bgnbd_p_no_purchase(
    params: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    """P(no order in (T, T + t] | x, t_x, T): dead already, or alive and no order from a Poisson process
    whose rate has posterior Gamma(r + x, alpha + T):
    1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + t))^(r + x)."""
    alive = bgnbd_p_alive(params, x, t_x, T)
    quiet_if_alive = np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + t)))
    return 1.0 - alive + alive * quiet_if_alive


def bgnbd_expected_purchases(
    params: BgNbdParameters, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    """E[orders in (T, T + t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10):
    P(alive) (a + b + x - 1) / (a - 1) [1 - ((alpha + T) / (alpha + T + t))^(r + x)
    2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    hypergeometric = special.hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + T + t))
    expected = (
        bgnbd_p_alive(params, x, t_x, T) * (a + b + x - 1.0) / (a - 1.0) * (1.0 - ratio * hypergeometric)
    )
    if not np.isfinite(expected).all():
        raise ValueError("BG/NBD expected purchases are not finite for some customers (hyp2f1 overflow)")
    return np.clip(expected, 0.0, None)


def gamma_gamma_expected_value(params: GammaGammaParameters, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[value of a future order | n orders of mean m] = (v + n m) p / (p n + q - 1), currency units;
    n = 0 gives the population mean. Negative means count as 0."""
    return (params.v + n * np.clip(m, 0.0, None)) * params.p / (params.p * n + params.q - 1.0)


def btyd_features(fit: BtydFit, frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """BTYD predictions as model features for each row of a `customer_features` frame (same order, index
    reset) over [snapshot_date, + horizon_days): customer_id, snapshot_date and `BTYD_FEATURES`:
    btyd_p_alive (at the snapshot), btyd_expected_orders, btyd_expected_order_value (currency units),
    btyd_expected_revenue (orders x order value), btyd_p_no_order; all NaN for a row without orders.

    Raises ValueError if a row's snapshot is earlier than the fit's (the fit has seen its future).
    """
    return _btyd_predictions(fit, frame, horizon_days)[[*KEY_COLUMNS, *BTYD_FEATURES]]


def btyd_features_by_snapshot(
    frame: pd.DataFrame, horizon_days: int, config: BtydConfig | None = None
) -> tuple[pd.DataFrame, dict[pd.Timestamp, str]]:
    """`btyd_features` of every row of a multi-snapshot `customer_features` frame, each snapshot's rows
    scored by a fit on that snapshot's rows alone (point in time), same row order (index reset).

    A snapshot that cannot be fitted gets NaN features; the second value maps its date to the reason.
    """
    dates = snapshot_dates_of(frame).reset_index(drop=True)
    keys = normalize_keys(frame).reset_index(drop=True)
    result = keys.assign(**{column: np.nan for column in BTYD_FEATURES})
    failures: dict[pd.Timestamp, str] = {}
    for date in sorted(dates.unique()):
        at_date = (dates == date).to_numpy()
        rows = frame.iloc[np.flatnonzero(at_date)]
        try:
            fit = fit_btyd(rows, config)
        except ValueError as error:
            failures[pd.Timestamp(date)] = str(error)
            continue
        features = btyd_features(fit, rows, horizon_days)
        result.loc[at_date, list(BTYD_FEATURES)] = features[list(BTYD_FEATURES)].to_numpy()
    return result, failures


@dataclass(frozen=True)
class BtydModel:
    """The BTYD baseline as a `ScoringModel` for one task and horizon (module docstring).

    churn: P(no order in [snapshot_date, + horizon_days)) from BG/NBD; clv: expected orders in that window
    (BG/NBD) x expected order value (Gamma-Gamma), currency units. Customers without orders: churn 1.0,
    clv 0.0. `model_version` ('churn-btyd-<hash>' / 'clv-btyd-<hash>') hashes task, horizon and the fit.
    """

    task: Task
    horizon_days: int
    fit: BtydFit
    model_version: str

    def __post_init__(self) -> None:
        if self.horizon_days <= 0:
            raise ValueError(f"horizon_days must be positive, got {self.horizon_days}")

    @property
    def kind(self) -> ModelKind:
        """Which kind of model this is (`ScoringModel`): always 'btyd'."""
        return "btyd"

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """One prediction per row of a `customer_features` frame: churn probability in [0, 1], or expected
        net revenue over horizon_days (currency units, >= 0). Raises ValueError for rows whose snapshot is
        earlier than the fit's."""
        predictions = _btyd_predictions(self.fit, frame, self.horizon_days)
        if self.task == "churn":
            return predictions["btyd_p_no_order"].fillna(1.0).to_numpy(dtype="float64")
        return predictions["btyd_expected_revenue"].fillna(0.0).to_numpy(dtype="float64")


def btyd_model(task: Task, horizon_days: int, fit: BtydFit) -> BtydModel:
    """The BTYD scoring model for `task` and `horizon_days` from `fit`, versioned by both."""
    settings = {"task": task, "horizon_days": horizon_days, "fit": fit.fit_version}
    version = version_of(f"{task}-btyd", settings, pd.DataFrame({"fit": [fit.fit_version]}))
    return BtydModel(task=task, horizon_days=horizon_days, fit=fit, model_version=version)


def _btyd_predictions(fit: BtydFit, frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    inputs = btyd_inputs(frame)
    earlier = inputs.loc[inputs["snapshot_date"] < fit.snapshot_date, "snapshot_date"].unique()
    if len(earlier):
        dates = ", ".join(str(pd.Timestamp(date).date()) for date in sorted(earlier))
        raise ValueError(
            f"rows of snapshots {dates} are earlier than the BTYD fit's snapshot "
            f"{fit.snapshot_date.date()}: the fit has seen their future"
        )
    has_orders = (inputs["n_orders"] >= 1).to_numpy()
    _check_inputs(inputs.loc[has_orders])
    unit = fit.config.time_unit_days
    x = inputs["x"].to_numpy()[has_orders]
    t_x = inputs["t_x"].to_numpy()[has_orders] / unit
    T = inputs["T"].to_numpy()[has_orders] / unit
    t = horizon_days / unit
    orders = bgnbd_expected_purchases(fit.bgnbd, x, t_x, T, t)
    value = gamma_gamma_expected_value(
        fit.gamma_gamma, inputs["n_orders"].to_numpy()[has_orders], inputs["m"].to_numpy()[has_orders]
    )
    columns = {
        "btyd_p_alive": bgnbd_p_alive(fit.bgnbd, x, t_x, T),
        "btyd_expected_orders": orders,
        "btyd_expected_order_value": value,
        "btyd_expected_revenue": orders * value,
        "btyd_p_no_order": bgnbd_p_no_purchase(fit.bgnbd, x, t_x, T, t),
    }
    result = inputs[list(KEY_COLUMNS)].copy()
    for name, values in columns.items():
        column = np.full(len(inputs), np.nan)
        column[has_orders] = values
        result[name] = column
    return result


def _check_inputs(buyers: pd.DataFrame) -> None:
    """Raise ValueError naming the first inconsistency of BTYD summaries of customers with orders."""
    for column in ("x", "t_x", "T"):
        values = buyers[column].to_numpy()
        if np.isnan(values).any():
            raise ValueError(f"BTYD inputs: {column} is null for a customer with orders")
        if (values < 0).any():
            raise ValueError(f"BTYD inputs: {column} is negative for some customers")
    if (buyers["t_x"].to_numpy() > buyers["T"].to_numpy()).any():
        raise ValueError("BTYD inputs: last order after the snapshot (t_x > T) for some customers")


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-d array and how often each occurs: the likelihood of identical customers
    is computed once and weighted (real data in whole days repeats a lot)."""
    distinct, counts = np.unique(values, axis=0, return_counts=True)
    return distinct, counts.astype("float64")


Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _penalized(objective: Objective, penalizer: float) -> Objective:
    """`objective` of log parameters plus penalizer x sum(parameters^2), with its gradient."""

    def penalized(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = objective(log_params)
        params = np.exp(log_params)
        return value + penalizer * float(params @ params), gradient + 2.0 * penalizer * params**2

    return penalized


def _maximize(objective: Objective, size: int, model: str, max_iterations: int) -> tuple[float, ...]:
    """Minimise `objective` (of log parameters, with gradient) from all parameters = 1."""
    with np.errstate(all="ignore"):
        result = optimize.minimize(
            objective, np.zeros(size), jac=True, method=_OPTIMIZER, options={"maxiter": max_iterations}
        )
    params = np.exp(result.x)
    if not result.success or not np.isfinite(params).all():
        raise ValueError(f"{model} maximum likelihood did not converge: {result.message}")
    return tuple(float(value) for value in params)


def _bgnbd_negative_log_likelihood(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weight: np.ndarray
) -> Objective:
    """Weighted mean negative BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) of log(r, alpha, a,
    b), with its gradient."""
    repeat = x > 0
    x_or_1 = np.maximum(x, 1.0)

    def negative_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        log_alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
        log_dead = np.where(
            repeat, special.betaln(a + 1.0, b + x_or_1 - 1.0) - (r + x) * np.log(alpha + t_x), -np.inf
        )
        log_mixture = np.logaddexp(log_alive, log_dead)
        share_alive = np.exp(log_alive - log_mixture)
        share_dead = 1.0 - share_alive
        log_likelihood = (
            special.gammaln(r + x)
            - special.gammaln(r)
            + r * np.log(alpha)
            - special.betaln(a, b)
            + log_mixture
        )
        digamma_ab, digamma_abx = special.digamma(a + b), special.digamma(a + b + x)
        d_r = (
            special.digamma(r + x)
            - special.digamma(r)
            + np.log(alpha)
            - (share_alive * np.log(alpha + T) + share_dead * np.log(alpha + t_x))
        )
        d_alpha = r / alpha - (r + x) * (share_alive / (alpha + T) + share_dead / (alpha + t_x))
        d_a = share_alive * (digamma_ab - digamma_abx) + share_dead * (
            special.digamma(a + 1.0) - special.digamma(a) + digamma_ab - digamma_abx
        )
        d_b = share_alive * (
            special.digamma(b + x) - special.digamma(b) + digamma_ab - digamma_abx
        ) + share_dead * (special.digamma(b + x_or_1 - 1.0) - special.digamma(b) + digamma_ab - digamma_abx)
        gradient = np.array([weight @ d_r * r, weight @ d_alpha * alpha, weight @ d_a * a, weight @ d_b * b])
        return -float(weight @ log_likelihood), -gradient

    return negative_log_likelihood


def _gamma_gamma_negative_log_likelihood(n: np.ndarray, m: np.ndarray, weight: np.ndarray) -> Objective:
    """Weighted mean negative Gamma-Gamma log-likelihood of the mean `m` of `n` order values (Fader &
    Hardie 2013, eq. 3) of log(p, q, v), with its gradient."""
    log_m, log_n = np.log(m), np.log(n)

    def negative_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params)
        pn = p * n
        log_total = np.log(v + m * n)
        log_likelihood = (
            special.gammaln(pn + q)
            - special.gammaln(pn)
            - special.gammaln(q)
            + q * np.log(v)
            + (pn - 1.0) * log_m
            + pn * log_n
            - (pn + q) * log_total
        )
        digamma_total = special.digamma(pn + q)
        d_p = n * (digamma_total - special.digamma(pn) + log_m + log_n - log_total)
        d_q = digamma_total - special.digamma(q) + np.log(v) - log_total
        d_v = q / v - (pn + q) / (v + m * n)
        gradient = np.array([weight @ d_p * p, weight @ d_q * q, weight @ d_v * v])
        return -float(weight @ log_likelihood), -gradient

    return negative_log_likelihood
