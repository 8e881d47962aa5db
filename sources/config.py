"""One deployment's configuration: its calendar, money, sources, vocabularies, model horizons and thresholds.

Everything that differs between retailers is here and nowhere else: the Dagster resources and
partitions, the dbt vars, the Great Expectations suites and the ML settings are all derived from one
`ClienteleConfig`. It is read from a YAML file (`CLIENTELE_CONFIG`), then environment variables override
single keys (see `ENV_KEYS` and `CLIENTELE__<SECTION>__<KEY>`). Every key is validated when the
configuration loads; a bad value fails with its key, the value and what is allowed, before any run
starts. The module lives in `sources` because every package downstream of the sources reads it, and it
imports nothing else of the project but the source contracts.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sources.contracts import ALL_SOURCES, ORDERS, SALES_SOURCES, SourceContract

CONFIG_ENV = "CLIENTELE_CONFIG"
SHOP_DATABASE_URL_ENV = "CLIENTELE_SHOP_DATABASE_URL"
REPO_ROOT = Path(__file__).resolve().parents[1]

# Named environment variables, each overriding one key (the generic form works for every key).
ENV_KEYS: Mapping[str, tuple[str, ...]] = {
    "CLIENTELE_DATA_DIR": ("paths", "data_dir"),
    "CLIENTELE_LANDING_DIR": ("paths", "landing_dir"),
    "CLIENTELE_WAREHOUSE_PATH": ("paths", "warehouse_path"),
    "CLIENTELE_START_DATE": ("calendar", "start_date"),
    "CLIENTELE_END_DATE": ("calendar", "end_date"),
    "CLIENTELE_TIMEZONE": ("calendar", "timezone"),
    "CLIENTELE_MAX_QUARANTINE_SHARE": ("quality", "max_quarantine_share"),
}
GENERIC_ENV_PREFIX = "CLIENTELE__"  # CLIENTELE__MODELS__CHURN__HORIZON_DAYS=91

SourceName = Literal[
    "customer_accounts",
    "orders",
    "order_lines",
    "refunds",
    "contacts",
    "loyalty_members",
    "support_tickets",
    "marketing_events",
]
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names every bad key, its value and what is allowed."""


class _Section(BaseModel):
    """Unknown keys are errors (a typo must not silently keep a default); values are never coerced
    from one kind to another (`true` is not a number)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveDays = Annotated[int, Field(ge=1, le=3650)]
Share = Annotated[float, Field(gt=0, le=1)]
Vocabulary = tuple[Annotated[str, Field(min_length=1)], ...]


class Calendar(_Section):
    """The export days: one daily partition per day in [start_date, end_date), in `timezone`.

    `end_date` is exclusive; leave it out for a live, open-ended calendar whose partitions run to today.
    """

    start_date: date
    end_date: date | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"not an IANA time zone name such as Europe/Berlin or UTC{hint}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Calendar:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError(f"end_date {self.end_date} must be after start_date {self.start_date}")
        return self


class Paths(_Section):
    """Where the data lives. A relative `data_dir` is taken from the configuration file's folder; the
    other paths, when relative, from `data_dir`. `truth_dir` is set only by the demo, whose generator
    writes what really happened there; with it, models and identity resolution are measured against it."""

    data_dir: Path = REPO_ROOT / "data"
    landing_dir: Path = Path("landing")
    warehouse_path: Path = Path("warehouse/clientele.duckdb")
    truth_dir: Path | None = None

    def resolved(self, base: Path) -> Paths:
        data_dir = (base / self.data_dir).resolve()
        return Paths(
            data_dir=data_dir,
            landing_dir=(data_dir / self.landing_dir).resolve(),
            warehouse_path=(data_dir / self.warehouse_path).resolve(),
            truth_dir=(data_dir / self.truth_dir).resolve() if self.truth_dir is not None else None,
        )

    @property
    def serving_path(self) -> Path:
        """The published copy BI tools read."""
        return self.data_dir / "serving" / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"


class Currency(_Section):
    """`default` is the currency of orders that name none; orders in a currency outside `accepted`
    (default: the default currency alone) fail the quality gate on `fct_orders`."""

    default: str
    accepted: tuple[str, ...] = ()

    @field_validator("default")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CURRENCY_CODE.fullmatch(value):
            raise ValueError("not an ISO 4217 currency code (three capital letters, such as EUR or USD)")
        return value

    @field_validator("accepted")
    @classmethod
    def _codes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in values if not _CURRENCY_CODE.fullmatch(v)]
        if bad:
            raise ValueError(f"not ISO 4217 currency codes (three capital letters): {', '.join(bad)}")
        return values

    @property
    def accepted_codes(self) -> tuple[str, ...]:
        return self.accepted or (self.default,)

    @model_validator(mode="after")
    def _default_accepted(self) -> Currency:
        if self.accepted and self.default not in self.accepted:
            raise ValueError(f"default {self.default} must be one of accepted ({', '.join(self.accepted)})")
        return self


class Sources(_Section):
    """Which sources exist, and where sales come from.

    Orders are the one source every deployment has; every other source is optional. A source not listed
    in `enabled` has no asset and no rows, and the outputs that need it are null or absent (docs/sources.md
    says which). `sales_origin: shop_database` extracts the enabled sales sources from the PostgreSQL
    database named by CLIENTELE_SHOP_DATABASE_URL instead of landing files; when the key is not given,
    that variable being set selects it.
    """

    enabled: tuple[SourceName, ...] = ("orders",)
    sales_origin: Literal["landing", "shop_database"] | None = None

    @field_validator("enabled")
    @classmethod
    def _orders_first(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if ORDERS.name not in values:
            raise ValueError("must include orders: every other output is built from them")
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return values

    @property
    def sales_from_shop_database(self) -> bool:
        origin = self.sales_origin or (
            "shop_database" if os.environ.get(SHOP_DATABASE_URL_ENV) else "landing"
        )
        return origin == "shop_database"


class Vocabularies(_Section):
    """The values the quality gates accept. An omitted (null) list is not checked.

    `default_channel` is the channel of orders that name none; `online_channels` are those counted as
    online in the `web_order_share` feature. `loyalty_tiers` are the card tiers; a customer without a
    card has the tier `none`.
    """

    channels: Vocabulary = ("web", "store")
    default_channel: str = "web"
    online_channels: Vocabulary = ("web",)
    regions: Vocabulary | None = None
    age_bands: Vocabulary | None = None
    loyalty_tiers: Vocabulary | None = None
    acquisition_channels: Vocabulary | None = None

    @model_validator(mode="after")
    def _channels_known(self) -> Vocabularies:
        unknown = [c for c in (self.default_channel, *self.online_channels) if c not in self.channels]
        if unknown:
            raise ValueError(
                f"default_channel and online_channels must be among channels ({', '.join(self.channels)}); "
                f"not: {', '.join(unknown)}"
            )
        return self


_RISK_BAND_KEYS = {"probability": ("medium_from", "high_from"), "quantile": ("high_share", "medium_share")}


class RiskBands(_Section):
    """How churn probabilities become risk bands (`ml.score.RiskBands`). `method: probability`: high if
    p >= high_from, medium if medium_from <= p < high_from. `method: quantile`: the `high_share` of the
    scored customers with the highest probability are high, the next `medium_share` medium. The keys of
    the other method must keep their defaults, so a threshold set for the wrong method is never silently
    ignored."""

    method: Literal["probability", "quantile"] = "probability"
    medium_from: Share = 0.4
    high_from: Share = 0.7
    high_share: Share = 0.1
    medium_share: Share = 0.2

    @model_validator(mode="after")
    def _consistent(self) -> RiskBands:
        other = "quantile" if self.method == "probability" else "probability"
        misplaced = [
            f"{key} ({getattr(self, key)})"
            for key in _RISK_BAND_KEYS[other]
            if getattr(self, key) != RiskBands.model_fields[key].default
        ]
        if misplaced:
            raise ValueError(
                f"method {self.method} takes {' and '.join(_RISK_BAND_KEYS[self.method])}, not "
                f"{' and '.join(misplaced)} (keys of method {other})"
            )
        if not self.medium_from < self.high_from:
            raise ValueError(f"medium_from ({self.medium_from}) must be below high_from ({self.high_from})")
        if self.high_share + self.medium_share > 1:
            raise ValueError(
                f"high_share ({self.high_share}) + medium_share ({self.medium_share}) must be at most 1"
            )
        return self


class ChurnModel(_Section):
    """Churn = no order in the `horizon_days` from the scoring date."""

    horizon_days: PositiveDays = 90
    risk_bands: RiskBands = RiskBands()


class ClvModel(_Section):
    """Lifetime value = net revenue in the `horizon_days` from the scoring date."""

    horizon_days: PositiveDays = 365


class Promotion(_Section):
    """When a newly trained model replaces the champion (docs/models.md): churn log loss lower by the
    relative `log_loss_margin`; CLV normalized Gini higher by `gini_margin`, with |total spend error| no
    worse than the champion's + `spend_error_tolerance`."""

    log_loss_margin: Annotated[float, Field(ge=0, lt=1)] = 0.01
    gini_margin: Annotated[float, Field(ge=0, le=1)] = 0.01
    spend_error_tolerance: Annotated[float, Field(ge=0)] = 0.05


class Drift(_Section):
    """Population stability index of every model input and of the scores against the scoring model's
    training data: at `warn_at` the drift check warns; at `block_at`, when set, the new scores are not
    written and the previous scoring dates' stay (docs/models.md says why blocking is opt-in)."""

    warn_at: Annotated[float, Field(gt=0)] = 0.1
    block_at: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Drift:
        if self.block_at is not None and not self.warn_at < self.block_at:
            raise ValueError(f"need warn_at ({self.warn_at}) < block_at ({self.block_at})")
        return self


class Models(_Section):
    """`retrain_every_days`: a run trains new models (which challenge the champions) when the last were
    trained for a scoring date at least this many days earlier; runs in between score with the
    champions, so a daily refresh does not pay for training every day."""

    churn: ChurnModel = ChurnModel()
    clv: ClvModel = ClvModel()
    promotion: Promotion = Promotion()
    drift: Drift = Drift()
    retrain_every_days: PositiveDays = 7


class Lifecycle(_Section):
    """Lifecycle segment rules, applied in order (docs/warehouse.md defines each)."""

    new_days: PositiveDays = 30
    lost_days: PositiveDays = 365
    at_risk_days: PositiveDays = 180
    at_risk_factor: Annotated[float, Field(gt=0)] = 2.0
    at_risk_min_gap_days: PositiveDays = 30
    regular_orders_365d: Annotated[int, Field(ge=1)] = 4

    @model_validator(mode="after")
    def _ordered(self) -> Lifecycle:
        if not self.new_days < self.at_risk_days < self.lost_days:
            raise ValueError(
                f"need new_days ({self.new_days}) < at_risk_days ({self.at_risk_days}) < lost_days "
                f"({self.lost_days})"
            )
        return self


class AbcXyz(_Section):
    """ABC by cumulative revenue share, XYZ by the variation of monthly revenue, over `window_months`."""

    window_months: Annotated[int, Field(ge=1, le=120)] = 12
    a_share: Share = 0.80
    b_share: Share = 0.95
    x_max_cv: Annotated[float, Field(gt=0)] = 0.5
    y_max_cv: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> AbcXyz:
        if not self.a_share < self.b_share:
            raise ValueError(f"a_share ({self.a_share}) must be below b_share ({self.b_share})")
        if not self.x_max_cv < self.y_max_cv:
            raise ValueError(f"x_max_cv ({self.x_max_cv}) must be below y_max_cv ({self.y_max_cv})")
        return self


class Segments(_Section):
    lifecycle: Lifecycle = Lifecycle()
    abc_xyz: AbcXyz = AbcXyz()
    # a customer is active at a month boundary when they ordered in this many calendar months before it
    retention_active_months: Annotated[int, Field(ge=1, le=120)] = 12


class Quality(_Section):
    """A load whose quarantined share of rows is above `max_quarantine_share` fails its blocking check."""

    max_quarantine_share: Annotated[float, Field(ge=0, le=1)] = 0.02


class Identity(_Section):
    """How identifiers are read before they are hashed: a phone number written without a country code is
    in `phone_country_code` (1 for North America, 49 for Germany, ...), so `030 1234567` and
    `+49 30 1234567` are one person. Changing it changes the hashes of such numbers: reload raw after it."""

    phone_country_code: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}$")] = "1"


class Ingestion(_Section):
    """Days before a run's window read again for late data: the shop database's late commits in raw, and
    the facts rebuilt from them. One number, so the facts always cover what a raw load replaced."""

    late_data_lookback_days: Annotated[int, Field(ge=0, le=365)] = 3


ColumnRef = str | Annotated[int, Field(ge=1)]


class TransactionColumns(_Section):
    """Where each order field is in a flat transactions file: a column name, or a 1-based position when
    the file has no header. `order_id` and `currency` are optional: without an order id, one is derived
    from the customer key and the timestamp; without a currency, orders are in `currency.default`."""

    customer_key: ColumnRef
    ordered_at: ColumnRef
    amount: ColumnRef
    order_id: ColumnRef | None = None
    currency: ColumnRef | None = None


class TransactionsFile(_Section):
    """How to read a flat transactions file (`python -m sources.transactions`): one row per order.

    `delimiter` is one character, or `whitespace` for fields separated by runs of spaces and tabs.
    `timestamp_format` is a strptime format (`%Y%m%d` for 19970101); without it, ISO 8601 dates and
    times. A timestamp with an offset is converted to the calendar's time zone; one without is taken to
    be local time already.
    """

    format: Literal["csv", "parquet"] = "csv"
    delimiter: str = ","
    header: bool = True
    encoding: str = "utf-8"
    columns: TransactionColumns
    timestamp_format: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError("not a text encoding Python knows (such as utf-8, latin-1 or cp1252)") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value != "whitespace" and len(value) != 1:
            raise ValueError("must be one character, or 'whitespace'")
        return value

    @model_validator(mode="after")
    def _positions_without_header(self) -> TransactionsFile:
        refs = {k: v for k, v in self.columns.model_dump().items() if v is not None}
        wrong = [k for k, v in refs.items() if isinstance(v, int) is self.header]
        if self.format == "csv" and wrong:
            kind = "names (the file has a header)" if self.header else "1-based positions (header: false)"
            raise ValueError(f"columns {', '.join(wrong)} must be {kind}")
        return self


class ClienteleConfig(_Section):
    """A whole deployment. `docs/configuration.md` describes every key."""

    calendar: Calendar
    currency: Currency
    paths: Paths = Paths()
    sources: Sources = Sources()
    vocabulary: Vocabularies = Vocabularies()
    models: Models = Models()
    segments: Segments = Segments()
    quality: Quality = Quality()
    identity: Identity = Identity()
    ingestion: Ingestion = Ingestion()
    transactions: TransactionsFile | None = None

    def enabled(self, name: str) -> bool:
        return name in self.sources.enabled

    @property
    def enabled_contracts(self) -> tuple[SourceContract, ...]:
        """The source contracts this deployment loads, in the contracts' order."""
        return tuple(c for c in ALL_SOURCES if self.enabled(c.name))

    @property
    def shop_database_contracts(self) -> tuple[SourceContract, ...]:
        """The enabled sales sources extracted from the shop database (none when sales come from files)."""
        if not self.sources.sales_from_shop_database:
            return ()
        return tuple(c for c in SALES_SOURCES if self.enabled(c.name))

    def with_data_dir(self, data_dir: Path) -> ClienteleConfig:
        """The same deployment with its data in another folder (tests and benchmarks use temporary ones)."""
        paths = Paths(
            data_dir=data_dir,
            landing_dir=Path("landing"),
            warehouse_path=Path("warehouse/clientele.duckdb"),
            truth_dir=Path("truth") if self.paths.truth_dir is not None else None,
        )
        return self.model_copy(update={"paths": paths.resolved(Path.cwd())})

    def with_overrides(self, overrides: Mapping[str, Any]) -> ClienteleConfig:
        """A validated copy with the nested `overrides` ({"models": {"churn": {"horizon_days": 91}}})."""
        raw = _merge(self.model_dump(mode="json", exclude_none=True), overrides)
        return _validated(raw, origin="overrides", base=Path.cwd())


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> ClienteleConfig:
    """The deployment's configuration: the YAML file at `path` (default: $CLIENTELE_CONFIG), then the
    environment's overrides. Raises ConfigError naming every bad key, its value and what is allowed."""
    env = os.environ if environ is None else environ
    file = Path(path) if path is not None else (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    raw: dict[str, Any] = {}
    origin = f"no file: {CONFIG_ENV} is not set"
    if file is not None:
        raw, origin = _read_file(file), str(file)
    for env_name, keys in _env_overrides(env).items():
        value = _parse_env_value(env[env_name])
        if keys[0] == "paths" and value is not None:
            value = str(
                Path(str(value)).resolve()
            )  # a path given in the environment is from the current folder
        _set(raw, keys, value)
        origin += f" + {env_name}"
    return _validated(raw, origin=origin, base=file.parent.resolve() if file is not None else Path.cwd())


def _read_file(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration file {file} ({CONFIG_ENV}): {exc.strerror}"
        ) from exc
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{file}: must be a mapping of sections (calendar, currency, ...)")
    return loaded


def _env_overrides(env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Env var name -> config key path, for every override present in `env`."""
    found = {name: keys for name, keys in ENV_KEYS.items() if name in env}
    for name in env:
        if name.startswith(GENERIC_ENV_PREFIX):
            found[name] = tuple(part.lower() for part in name[len(GENERIC_ENV_PREFIX) :].split("__"))
    return found


def _parse_env_value(text: str) -> Any:
    """An environment value as YAML reads it (`91`, `[USD, EUR]`, `true`); an empty value is null."""
    if text.strip() == "":
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _set(raw: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    node = raw
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validated(raw: dict[str, Any], origin: str, base: Path) -> ClienteleConfig:
    try:
        config = ClienteleConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(f"  - {_describe(error)}" for error in exc.errors())
        raise ConfigError(f"invalid Clientele configuration ({origin}):\n{problems}") from None
    return config.model_copy(update={"paths": config.paths.resolved(base)})


def _describe(error: Mapping[str, Any]) -> str:
    """`key: problem (got value)` for one pydantic error, in the configuration's own words."""
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"{key}: required, but not given"
    if error["type"] == "extra_forbidden":
        return f"{key}: not a known key (a typo?); see docs/configuration.md"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    # a rule over a whole section names its values itself; a single value is shown as given
    return f"{key}: {message}" if isinstance(given, dict) else f"{key}: {message} (got {given!r})"


def main(argv: list[str] | None = None) -> int:
    """`python -m sources.config`: validate the configuration and print it resolved, as YAML."""
    del argv
    try:
        config = load_config()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
