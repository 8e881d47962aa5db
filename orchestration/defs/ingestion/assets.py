"""One raw asset per enabled source: a window of export days replaced in the raw schema in one transaction.

Each asset carries a blocking check on the share of quarantined rows, so a broken export stops the
warehouse from building on it while the rows stay inspectable in `raw.quarantine`. Only the sources the
deployment enables (`sources.enabled`) have an asset; the others have an empty raw table (see
`orchestration/defs/warehouse`).
"""

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from orchestration.defs.partitions import daily_partitions, days_in, single_run_backfill, window_dates
from orchestration.lib.dbt import RAW_LAYER_KEY
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.landing import LandingResource
from orchestration.lib.shop_database import ShopDatabaseResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.contracts import ALL_SOURCES, SourceContract
from sources.landing import export_day_of
from sources.pii import pii_key
from sources.raw_tables import EXPORT_DAYS_TABLE, LoadResult, Replace, ensure_raw_schema, load_window

QUARANTINE_CHECK = "quarantined_share_within_threshold"
# the country of phone numbers written without one, before they are hashed (identity.phone_country_code)
PHONES = DEPLOYMENT.identity.phone_country_code


class QuarantineGateResource(dg.ConfigurableResource):
    """The most a load may quarantine before its blocking check stops the warehouse from building on it.

    Bound to the deployment's `quality.max_quarantine_share`; a run can raise it from the launchpad
    (resources.quarantine_gate.config.max_share) to load an export whose bad rows were reviewed.
    """

    max_share: float = Field(
        description="The largest share of a load's rows that may be quarantined before its blocking check "
        "fails, 0 to 1 (default: the configuration's quality.max_quarantine_share).",
    )


def raw_asset_key(contract: SourceContract) -> dg.AssetKey:
    """Matches the dbt source `raw.<system>_<name>`, so dbt models hang off these assets."""
    return dg.AssetKey(["raw", contract.raw_table])


def _raw_asset(contract: SourceContract, origin: str, kind: str) -> Callable[[Any], dg.AssetsDefinition]:
    """The decorator every raw asset shares: key, partitions, pool and the blocking quarantine check."""
    key = raw_asset_key(contract)
    return dg.asset(
        key=key,
        description=f"{contract.description} {origin}",
        group_name=f"raw_{contract.system}",
        owners=["team:data-engineering"],
        kinds={"duckdb", kind},
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=key,
                blocking=True,
                description="Fails the load when the quarantined share of rows passes the threshold "
                "(quality.max_quarantine_share in the configuration).",
            )
        ],
    )


def _load_output(
    context: dg.AssetExecutionContext,
    result: LoadResult,
    gate: QuarantineGateResource,
    **extra_metadata: str | int | dg.MetadataValue | None,
) -> dg.MaterializeResult:
    """Row accounting as metadata, and the quarantine check's verdict."""
    threshold = gate.max_share
    start, end = result.window_start, result.window_end
    context.log.info(
        f"{result.table} [{start}, {end}): read {result.rows_read}, loaded {result.rows_loaded}, "
        f"quarantined {result.rows_quarantined}"
    )
    return dg.MaterializeResult(
        metadata={
            "window": f"[{start}, {end})",
            "export_days": result.files,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            "quarantine_reasons": dg.MetadataValue.json(result.quarantine_reasons),
            "schema_changes": dg.MetadataValue.json(result.schema_changes),
            "reader_notes": dg.MetadataValue.json(result.notes),
            **extra_metadata,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK,
                passed=result.quarantined_share <= threshold,
                metadata={
                    "quarantined_share": result.quarantined_share,
                    "threshold": threshold,
                    "rows_quarantined": result.rows_quarantined,
                    "reasons": json.dumps(result.quarantine_reasons, sort_keys=True),
                },
            )
        ],
    )


_NAMES_LISTED = 20  # per kind of ignored file: enough to see the pattern, never a wall of names


def ignored_landing_files(
    contract: SourceContract, landing_dir: Path, first_day: date, end_day: date | None
) -> dict[str, list[str]]:
    """Files of the source's landing folder that no partition of the calendar [first_day, end_day) reads.

    A name that is not an export day (`2024-1-5.csv`, `2024-01-05.csv.bak`, `20240105.csv`) would
    otherwise be skipped in silence while its day fails for a missing file or loads another one; a day
    outside the calendar loads once the calendar is widened. Hidden files and folders are not exports.
    """
    folder = contract.file_for(landing_dir, first_day).parent
    if not folder.is_dir():
        return {}
    not_days: list[str] = []
    outside: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        day = export_day_of(contract, landing_dir, path)
        if day is None:
            not_days.append(path.name)
        elif day < first_day or (end_day is not None and day >= end_day):
            outside.append(path.name)
    listed = {"not an export day": not_days, "outside the calendar": outside}
    return {
        kind: names[:_NAMES_LISTED]
        + ([f"... and {len(names) - _NAMES_LISTED} more"] if len(names) > _NAMES_LISTED else [])
        for kind, names in listed.items()
        if names
    }


def build_landing_asset(contract: SourceContract) -> dg.AssetsDefinition:
    """A source read from its daily landing files."""

    @_raw_asset(
        contract, f"Loaded from {contract.format.value.upper()} landing files.", contract.format.value
    )
    def raw_source(
        context: dg.AssetExecutionContext,
        landing: LandingResource,
        warehouse: WarehouseResource,
        quarantine_gate: QuarantineGateResource,
    ) -> dg.MaterializeResult:
        start, end = window_dates(context)
        files = [landing.read(contract, day) for day in days_in(start, end)]
        calendar = DEPLOYMENT.calendar
        ignored = ignored_landing_files(contract, Path(landing.path), calendar.start_date, calendar.end_date)
        if ignored:
            context.log.warning(f"{contract.raw_table}: landing files no partition reads: {ignored}")
        with warehouse.connect() as con:
            result = load_window(
                con,
                contract,
                files,
                start,
                end,
                pii_key(),
                timezone=calendar.timezone,
                phone_country_code=PHONES,
            )
        return _load_output(
            context, result, quarantine_gate, landing_files_ignored=dg.MetadataValue.json(ignored)
        )

    return raw_source


def build_shop_database_asset(contract: SourceContract, calendar_start: date) -> dg.AssetsDefinition:
    """A sales source extracted from the shop's PostgreSQL database by `updated_at`.

    The run's window is widened by the resource's lookback (never before the calendar's first day, which
    takes the shop's whole history before it), and the whole widened window is extracted before anything
    is written. The load replaces the keys it extracted, not whole days: a row updated again after the
    window is missing from the extract, and its earlier version must stay until its new day is loaded.
    """

    @_raw_asset(contract, "Extracted from the shop's PostgreSQL database by updated_at.", "postgres")
    def raw_source(
        context: dg.AssetExecutionContext,
        shop_database: ShopDatabaseResource,
        warehouse: WarehouseResource,
        quarantine_gate: QuarantineGateResource,
    ) -> dg.MaterializeResult:
        start, end = window_dates(context)
        first = max(start - timedelta(days=shop_database.lookback_days), calendar_start)
        batches = shop_database.read_window(contract, first, end, initial=first == calendar_start)
        zone = shop_database.timezone  # the extract's local times are in it: the deployment's calendar zone
        with warehouse.connect() as con:
            result = load_window(
                con,
                contract,
                batches,
                first,
                end,
                pii_key(),
                Replace.KEYS,
                timezone=zone,
                phone_country_code=PHONES,
            )
        versions = (v for b in batches for v in b.columns[contract.version_column] if v is not None)
        return _load_output(
            context,
            result,
            quarantine_gate,
            watermark=max(versions, default=None),
            lookback_days=shop_database.lookback_days,
        )

    return raw_source


# Sales come from the shop database when the deployment says so (`sources.sales_origin`), from landing
# files otherwise; either way the asset keys, and so everything downstream, are the same.
_from_database = DEPLOYMENT.shop_database_contracts
landing_contracts = tuple(c for c in DEPLOYMENT.enabled_contracts if c not in _from_database)
landing_assets = [build_landing_asset(c) for c in landing_contracts]
shop_database_assets = [build_shop_database_asset(c, DEPLOYMENT.calendar.start_date) for c in _from_database]
raw_assets = [*landing_assets, *shop_database_assets]


@dg.asset(
    key=RAW_LAYER_KEY,
    description="The raw layer as the warehouse reads it, once every enabled source's loads are done: a "
    "table per source contract (empty for a source the deployment does not enable), the quarantine and "
    "the export-day log; its metadata says the last export day loaded per source.",
    group_name="raw",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    deps=[a.key for a in raw_assets],
    pool=WAREHOUSE_POOL,
)
def raw_layer(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        ensure_raw_schema(con, ALL_SOURCES)
        loaded = con.execute(
            f"select source, max(export_date), count(*) from {EXPORT_DAYS_TABLE} group by source order by source"
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "sources_enabled": [c.raw_table for c in DEPLOYMENT.enabled_contracts],
            "last_export_day": dg.MetadataValue.json({source: str(day) for source, day, _ in loaded}),
            "export_days_loaded": dg.MetadataValue.json({source: days for source, _, days in loaded}),
        }
    )
