"""Publishing BI-facing tables where BI tools can read them without ever touching the live warehouse.

A BI tool holding the live DuckDB file open would block the pipeline's writer, and one reading while a
table is rebuilt would see it half-written. So tables are copied into a new DuckDB file and Parquet
files beside their final names, and each is renamed into place (an atomic replace on POSIX): a reader
sees the previous complete version or the new complete version, never a mixture, and never holds a
lock the pipeline needs.

The copy also carries what dbt knows about each table, because a BI tool shows the catalog, not the
YAML: descriptions as `COMMENT ON TABLE/COLUMN`, `NOT NULL` on the columns a check guarantees, and the
business time zone on every timestamp (they are naive local times, which nothing else in the file says).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

# DuckDB's timestamps without a zone: the warehouse stores business times as local wall-clock times.
# TIMESTAMP WITH TIME ZONE is an instant, shown in the reader's session zone, so it gets no zone note.
_LOCAL_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})


@dataclass(frozen=True)
class ColumnDocs:
    description: str = ""  # "" when dbt documents none
    not_null: bool = False  # a check guarantees the column is never null


@dataclass(frozen=True)
class TableDocs:
    description: str = ""
    columns: Mapping[str, ColumnDocs] = field(default_factory=dict)  # by lower-case column name


@dataclass(frozen=True)
class PublishedTable:
    name: str  # schema.table, the same in the warehouse and the published copy
    rows: int
    parquet_path: Path
    described: bool = False  # the table has a description in the copy
    not_null: tuple[str, ...] = ()  # columns published with a NOT NULL constraint
    # Columns a check declares never null that hold nulls all the same: published nullable (the check
    # has failed and says so; the copy never claims what its data contradicts).
    not_null_contradicted: tuple[str, ...] = ()


def table_docs_from_manifest(manifest: Mapping[str, Any]) -> dict[str, TableDocs]:
    """Descriptions and never-null columns of every dbt model and source, by `schema.table` as built.

    A column is never null when dbt would fail otherwise: an enabled `not_null` test of severity error
    without a `where` (a conditional test says nothing about the other rows), or a `not_null` constraint
    of an enforced contract (dbt ignores constraints without one). Sources count too: their YAML is
    where the tables dbt does not build (the `ml` scores) are documented.
    """
    not_null = _not_null_by_node(manifest)
    docs: dict[str, TableDocs] = {}
    for node in [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]:
        if node["resource_type"] not in ("model", "source"):
            continue
        required = not_null.get(node["unique_id"], set())
        columns = {
            name.lower(): ColumnDocs(_one_line(column.get("description")), name.lower() in required)
            for name, column in node.get("columns", {}).items()
        }
        columns.update({name: ColumnDocs(not_null=True) for name in required if name not in columns})
        relation = f"{node['schema']}.{node.get('alias') or node['identifier']}".lower()
        docs[relation] = TableDocs(_one_line(node.get("description")), columns)
    return docs


def with_not_null(
    docs: Mapping[str, TableDocs], columns: Mapping[str, Iterable[str]]
) -> dict[str, TableDocs]:
    """`docs` with `columns` (by `schema.table`) also marked never null: for guarantees dbt does not
    hold, such as the Great Expectations gates on the model scores."""
    merged = dict(docs)
    for table, names in columns.items():
        current = merged.get(table, TableDocs())
        updated = dict(current.columns)
        for name in (n.lower() for n in names):
            updated[name] = replace(updated.get(name, ColumnDocs()), not_null=True)
        merged[table] = replace(current, columns=updated)
    return merged


def column_comment(description: str, data_type: str, timezone: str) -> str:
    """The published comment of a column: its description, and for a timestamp the zone it is in."""
    if data_type.upper() in _LOCAL_TIMESTAMP_TYPES:
        return f"{description} (local time, {timezone})".lstrip()
    return description


def _not_null_by_node(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    """unique_id -> lower-case columns that a dbt test or an enforced contract keeps free of nulls."""
    required: dict[str, set[str]] = {}
    for node in manifest.get("nodes", {}).values():
        if node["resource_type"] == "test":
            config = node.get("config", {})
            if (
                (node.get("test_metadata") or {}).get("name") == "not_null"
                and node.get("attached_node")
                and node.get("column_name")
                and config.get("enabled", True)
                and str(config.get("severity", "error")).lower() == "error"
                and not config.get("where")
            ):
                required.setdefault(node["attached_node"], set()).add(node["column_name"].lower())
        elif node["resource_type"] == "model" and node.get("config", {}).get("contract", {}).get("enforced"):
            columns = {
                name.lower()
                for name, column in node.get("columns", {}).items()
                if any(c.get("type") == "not_null" for c in column.get("constraints", []))
            }
            columns |= {
                name.lower()
                for constraint in node.get("constraints", [])
                if constraint.get("type") == "not_null"
                for name in constraint.get("columns", [])
            }
            if columns:
                required.setdefault(node["unique_id"], set()).update(columns)
    return required


def _one_line(text: str | None) -> str:
    """YAML block descriptions keep their line breaks; a catalog comment reads better on one line."""
    return " ".join((text or "").split())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish_tables(
    warehouse_path: Path,
    serving_path: Path,
    exports_dir: Path,
    tables: list[str],
    *,
    docs: Mapping[str, TableDocs],
    timezone: str,
) -> list[PublishedTable]:
    """Copy `tables` (schema.table) from the warehouse into a fresh serving file and Parquet exports.

    The serving file's tables carry `docs` (comments, NOT NULL) and `timezone` on their timestamps; a
    table or column `docs` does not know is published without a comment, never refused.
    """
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
                table_docs = docs.get(table.lower(), TableDocs())
                entry, tmp_parquet = _publish_table(con, table, table_docs, timezone, exports_dir)
                published.append(entry)
                staged_parquet.append((tmp_parquet, entry.parquet_path))
            con.execute("detach live")
        os.replace(staged_file, serving_path)
        for tmp_parquet, final_parquet in staged_parquet:
            os.replace(tmp_parquet, final_parquet)
    finally:
        staged_file.unlink(missing_ok=True)
        for tmp_parquet, _ in staged_parquet:
            tmp_parquet.unlink(missing_ok=True)
    return published


def _publish_table(
    con: duckdb.DuckDBPyConnection, table: str, docs: TableDocs, timezone: str, exports_dir: Path
) -> tuple[PublishedTable, Path]:
    """Copy one table from `live` into the staged file with its docs, and export it to a staged
    Parquet file (whose key-value metadata carries the same descriptions); returns where that is."""
    schema, _, name = table.partition(".")
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {table} as select * from live.{table}")
    comments = _comment(con, table, docs, timezone)
    not_null, contradicted = _require_not_null(con, table, docs)
    final_parquet = exports_dir / f"{schema}__{name}.parquet"
    tmp_parquet = _temporary_sibling(final_parquet)
    kv_metadata = f"{{description: {_literal(docs.description)}, columns: {_literal(json.dumps(comments))}}}"
    con.execute(f"copy {table} to '{tmp_parquet}' (format parquet, kv_metadata {kv_metadata})")
    count = con.execute(f"select count(*) from {table}").fetchone()
    entry = PublishedTable(
        table,
        count[0] if count else 0,
        final_parquet,
        described=bool(docs.description),
        not_null=not_null,
        not_null_contradicted=contradicted,
    )
    return entry, tmp_parquet


def _comment(con: duckdb.DuckDBPyConnection, table: str, docs: TableDocs, timezone: str) -> dict[str, str]:
    """Write the table's and its columns' comments; returns the column comments written, by column."""
    if docs.description:
        con.execute(f"comment on table {table} is {_literal(docs.description)}")
    comments: dict[str, str] = {}
    for column, data_type, *_ in con.execute(f"describe {table}").fetchall():
        comment = column_comment(
            docs.columns.get(column.lower(), ColumnDocs()).description, data_type, timezone
        )
        if comment:
            con.execute(f"comment on column {table}.{_identifier(column)} is {_literal(comment)}")
            comments[column] = comment
    return comments


def _require_not_null(
    con: duckdb.DuckDBPyConnection, table: str, docs: TableDocs
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Set NOT NULL on the columns `docs` says are never null; DuckDB checks the rows as it does.

    Returns (columns constrained, columns whose rows contradict the declaration). A declared column the
    table lacks is ignored: the docs may be newer or older than the table.
    """
    constrained: list[str] = []
    contradicted: list[str] = []
    for column, *_ in con.execute(f"describe {table}").fetchall():
        if not docs.columns.get(column.lower(), ColumnDocs()).not_null:
            continue
        try:
            con.execute(f"alter table {table} alter column {_identifier(column)} set not null")
            constrained.append(column)
        except duckdb.ConstraintException:
            contradicted.append(column)
    return tuple(constrained), tuple(contradicted)


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
