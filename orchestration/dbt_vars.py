"""`python -m orchestration.dbt_vars [YYYY-MM-DD]`: the `--vars` Dagster passes dbt, for running dbt by hand.

The deployment's vars (CLIENTELE_CONFIG) and a scoring date: the one given, or the run default (the day
after the last loaded export day of orders in the live warehouse).
"""

from __future__ import annotations

import json
import sys

from orchestration.lib.dbt import deployment_vars
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WarehouseResource


def main(argv: list[str]) -> int:
    scoring = ScoringResource(scoring_date=argv[0] if argv else "")
    warehouse = WarehouseResource(path=str(DEPLOYMENT.paths.warehouse_path))
    scoring_date = scoring.resolve(warehouse).isoformat()
    print(json.dumps({**deployment_vars(DEPLOYMENT), "scoring_date": scoring_date}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
