"""`python -m orchestration.dbt_vars [--scoring-date D] [--window MIN MAX]`: the `--vars` Dagster passes dbt.

For running dbt by hand (dbt_project/README.md): the deployment's vars (CLIENTELE_CONFIG), the scoring
date (the one given, or the run default: the day after the last loaded export day of orders in the live
warehouse) and, for the facts, a half-open window of export days with the configured lookback.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from orchestration.lib.dbt import deployment_vars, window_vars
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WarehouseResource


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.dbt_vars", description=__doc__)
    parser.add_argument("--scoring-date", default="", help="YYYY-MM-DD (default: the run default)")
    parser.add_argument("--window", nargs=2, type=date.fromisoformat, metavar=("MIN_DATE", "MAX_DATE"))
    args = parser.parse_args(argv)
    warehouse = WarehouseResource(path=str(DEPLOYMENT.paths.warehouse_path))
    scoring_date = ScoringResource(scoring_date=args.scoring_date).resolve(warehouse)
    run_vars = {"scoring_date": scoring_date.isoformat()}
    if args.window:
        first, end = args.window
        run_vars |= window_vars(first, end, DEPLOYMENT.ingestion.late_data_lookback_days)
    print(json.dumps({**deployment_vars(DEPLOYMENT), **run_vars}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
