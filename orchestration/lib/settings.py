"""The one place that knows where Clientele's data lives and which days it covers.

Everything is read from environment variables, so a deployment points the pipeline at its own folders
and dates without touching code; the defaults are the demo's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sources.contracts import DEMO_END, DEMO_START
from sources.shop_database import DEFAULT_TIMEZONE

SHOP_DATABASE_URL_ENV = "CLIENTELE_SHOP_DATABASE_URL"
# Days before a run's window read again for late data: the shop database's late commits in the raw
# layer, and the facts built from them. One number, so the facts always cover what a raw load replaced.
LATE_DATA_LOOKBACK_DAYS = 3

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    """Paths and calendar of one Clientele deployment."""

    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    start_date: date
    end_date: date | None  # exclusive; None means partitions run up to today
    timezone: str = DEFAULT_TIMEZONE  # where a day starts and ends, for partitions and database extracts
    sales_from_shop_database: bool = False  # sales from PostgreSQL instead of landing files

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving" / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def truth_dir(self) -> Path:
        return self.data_dir / "truth"

    @classmethod
    def for_data_dir(cls, data_dir: Path, start_date: date = DEMO_START, end_date: date | None = DEMO_END):
        return cls(
            data_dir=data_dir,
            landing_dir=data_dir / "landing",
            warehouse_path=data_dir / "warehouse" / "clientele.duckdb",
            start_date=start_date,
            end_date=end_date,
        )

    @classmethod
    def from_env(cls) -> Settings:
        """CLIENTELE_DATA_DIR, CLIENTELE_LANDING_DIR, CLIENTELE_WAREHOUSE_PATH, CLIENTELE_START_DATE,
        CLIENTELE_END_DATE (exclusive; set it empty for an open-ended calendar), CLIENTELE_TIMEZONE, and
        CLIENTELE_SHOP_DATABASE_URL (when set, sales are extracted from that PostgreSQL database)."""
        data_dir = Path(os.environ.get("CLIENTELE_DATA_DIR", REPO_ROOT / "data")).resolve()
        end = os.environ.get("CLIENTELE_END_DATE", DEMO_END.isoformat())
        base = cls.for_data_dir(
            data_dir,
            start_date=date.fromisoformat(os.environ.get("CLIENTELE_START_DATE", DEMO_START.isoformat())),
            end_date=date.fromisoformat(end) if end else None,
        )
        return cls(
            data_dir=data_dir,
            landing_dir=Path(os.environ.get("CLIENTELE_LANDING_DIR", base.landing_dir)).resolve(),
            warehouse_path=Path(os.environ.get("CLIENTELE_WAREHOUSE_PATH", base.warehouse_path)).resolve(),
            start_date=base.start_date,
            end_date=base.end_date,
            timezone=os.environ.get("CLIENTELE_TIMEZONE", DEFAULT_TIMEZONE),
            sales_from_shop_database=bool(os.environ.get(SHOP_DATABASE_URL_ENV)),
        )
