"""Command line for the demo generator: `python -m sources.demo --customers 5000 --seed 7 [--out data]`.

Without `--out` it writes into the data folder of the deployment's configuration (CLIENTELE_CONFIG).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from sources.config import load_config
from sources.demo.generator import DEMO_END, DEMO_START, DemoConfig, generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sources.demo",
        description="Write deterministic demo landing files and their latent truth.",
    )
    parser.add_argument("--customers", type=int, default=DemoConfig.customers, help="people to simulate")
    parser.add_argument(
        "--seed", type=int, default=DemoConfig.seed, help="random seed (same seed, same bytes)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="data folder; landing/ and truth/ are replaced (default: the configuration's paths.data_dir)",
    )
    parser.add_argument("--start", type=date.fromisoformat, default=DEMO_START, help="first export day")
    parser.add_argument("--end", type=date.fromisoformat, default=DEMO_END, help="day after the last export")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = DemoConfig(customers=args.customers, seed=args.seed, start=args.start, end=args.end)
    generate(config, args.out or load_config().paths.data_dir)


if __name__ == "__main__":
    main()
