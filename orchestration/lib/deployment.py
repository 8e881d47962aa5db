"""The deployment this code location serves: its configuration, read once when the code location loads.

Everything that shapes the graph comes from it (the calendar of partitions, which sources have assets,
the dbt vars, the quality gates' vocabularies, the models' horizons); `CLIENTELE_CONFIG` names the file
(`sources.config`). Resources carry only where data lives, so tests bind them to temporary folders.
"""

from __future__ import annotations

from pathlib import Path

from sources.config import REPO_ROOT, ClienteleConfig, load_config

DEPLOYMENT: ClienteleConfig = load_config()

DBT_PROJECT_DIR: Path = REPO_ROOT / "dbt_project"
