"""Publishing BI-facing tables where BI tools can read them without ever touching the live warehouse.

A BI tool holding the live DuckDB file open would block the pipeline's writer, and one reading while a
table is rebuilt would see it half-written. So tables are copied into a new DuckDB file and Parquet
files beside their final names, and each is renamed into place (an atomic replace on POSIX): a reader
sees the previous complete version or the new complete version, never a mixture, and never holds a
lock the pipeline needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class PublishedTable:
    name: str  # schema.table, the same in the warehouse and the published copy
    rows: int
    parquet_path: Path


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish_tables(
    warehouse_path: Path, serving_path: Path, exports_dir: Path, tables: list[str]
) -> list[PublishedTable]:
    """Copy `tables` (schema.table) from the warehouse into a fresh serving file and Parquet exports."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    exports_dir.mkdir(parents=True, exist_ok=True)
    staged_file = _temporary_sibling(serving_path)
    staged_file.unlink(missing_ok=True)
    published: list[PublishedTable] = []
    staged_parquet: list[tuple[Path, Path]] = []
    try:
        with duckdb.connect(str(staged_file)) as con:
            con.execute(f"attach '{warehouse_path}' as live (read_only)")
            for table in tables:
                schema, _, name = table.partition(".")
                con.execute(f"create schema if not exists {schema}")
                con.execute(f"create table {table} as select * from live.{table}")
                final_parquet = exports_dir / f"{schema}__{name}.parquet"
                tmp_parquet = _temporary_sibling(final_parquet)
                con.execute(f"copy {table} to '{tmp_parquet}' (format parquet)")
                staged_parquet.append((tmp_parquet, final_parquet))
                count = con.execute(f"select count(*) from {table}").fetchone()
                published.append(PublishedTable(table, count[0] if count else 0, final_parquet))
            con.execute("detach live")
        os.replace(staged_file, serving_path)
        for tmp_parquet, final_parquet in staged_parquet:
            os.replace(tmp_parquet, final_parquet)
    finally:
        staged_file.unlink(missing_ok=True)
        for tmp_parquet, _ in staged_parquet:
            tmp_parquet.unlink(missing_ok=True)
    return published


def headline_figures(serving_path: Path) -> dict[str, float | int | str]:
    """The few numbers a person wants after a run, read from the published copy; a model that has
    never scored leaves its figures out."""
    with duckdb.connect(str(serving_path), read_only=True) as con:
        published = {
            row[0]
            for row in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        customers, revenue = con.execute(
            "select (select count(*) from bi.customer_360), (select sum(net_amount) from marts.fct_orders)"
        ).fetchone() or (0, 0)
        figures: dict[str, float | int | str] = {
            "customers": int(customers or 0),
            "net_revenue": round(float(revenue or 0), 2),
        }
        if "ml.customer_churn_scores" in published:
            scoring_date, horizon, high_risk_share = con.execute(
                "select max(scoring_date), max(horizon_days), avg((risk_band = 'high')::int) "
                "from ml.customer_churn_scores "
                "where scoring_date = (select max(scoring_date) from ml.customer_churn_scores)"
            ).fetchone() or (None, None, 0)
            figures["churn_scoring_date"] = str(scoring_date)
            figures[f"high_churn_risk_share_{horizon}d"] = round(float(high_risk_share or 0), 4)
        if "ml.customer_clv" in published:
            horizon, top_decile = con.execute(
                "select max(horizon_days), sum(predicted_revenue) from ml.customer_clv "
                "where clv_decile = 1 and scoring_date = (select max(scoring_date) from ml.customer_clv)"
            ).fetchone() or (None, 0)
            figures[f"top_clv_decile_predicted_revenue_{horizon}d"] = round(float(top_decile or 0), 2)
    return figures
