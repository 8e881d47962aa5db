"""A load killed with SIGKILL just before its commit leaves the raw table as it was; a re-run converges."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from pathlib import Path

    import duckdb

    from sources.contracts import ORDERS
    from sources.landing import read_landing_file
    from sources.raw_tables import load_window

    landing, warehouse, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]


    class DiesAtCommit:
        # Everything of the load has run (old rows deleted, new rows inserted) when it is killed.
        def __init__(self, con):
            self.con = con

        def __getattr__(self, name):
            return getattr(self.con, name)

        def execute(self, sql, *args):
            if sql.strip() == "commit":
                os.kill(os.getpid(), signal.SIGKILL)
            return self.con.execute(sql, *args)


    day = date(2024, 3, 1)
    files = [read_landing_file(ORDERS, ORDERS.file_for(landing, day), day)]
    con = duckdb.connect(warehouse)
    load_window(DiesAtCommit(con) if mode == "kill" else con, ORDERS, files, day, date(2024, 3, 2), b"k")
    con.close()
    """
)

HEADER = (
    "order_id,account_id,guest_email,loyalty_card,channel,store_id,ordered_at,currency,order_total,updated_at"
)


def write_day(landing: Path, order_ids: list[str]) -> None:
    path = landing / "sales" / "orders" / "2024-03-01.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{o},A1,,,web,,2024-03-01T10:00:00,EUR,5.00,2024-03-01T10:00:00" for o in order_ids]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


def run_child(landing: Path, warehouse: Path, mode: str) -> int:
    return subprocess.run([sys.executable, "-c", CHILD, str(landing), str(warehouse), mode]).returncode


def loaded_orders(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [o for (o,) in con.execute("select order_id from raw.sales_orders order by 1").fetchall()]


def test_kill_during_a_load_keeps_the_previous_version(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_day(landing, ["OLD1", "OLD2"])
    assert run_child(landing, warehouse, "load") == 0
    write_day(landing, [f"NEW{i}" for i in range(5000)])
    assert run_child(landing, warehouse, "kill") == -9
    assert loaded_orders(warehouse) == ["OLD1", "OLD2"]
    assert run_child(landing, warehouse, "load") == 0
    assert loaded_orders(warehouse) == sorted(f"NEW{i}" for i in range(5000))
