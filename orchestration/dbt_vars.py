"""`python -m orchestration.dbt_vars [--scoring-date D]`: the `--vars` Dagster passes dbt.

For running dbt by hand (dbt_project/README.md): the deployment's vars (CLIENTELE_CONFIG) and the scoring
date (the one given, or the run default: the day after the last loaded export day of orders in the live
warehouse).
"""

from __future__ import annotations

import argparse
import json
import sys

from orchestration.lib.dbt import deployment_vars
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WarehouseResource


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.dbt_vars", description=__doc__)
    parser.add_argument("--scoring-date", default="", help="YYYY-MM-DD (default: the run default)")
    args = parser.parse_args(argv)
    warehouse = WarehouseResource(path=str(DEPLOYMENT.paths.warehouse_path))
    scoring_date = ScoringResource(scoring_date=args.scoring_date).resolve(warehouse)
    print(json.dumps({**deployment_vars(DEPLOYMENT), "scoring_date": scoring_date.isoformat()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
