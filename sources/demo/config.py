"""The demo's own deployment configuration (`clientele.yml` beside this module).

Its vocabularies are the generator's: people are drawn from the regions, age bands, acquisition
channels and loyalty tiers listed there, and the quality gates accept exactly those, so the two can never
disagree. Its calendar is the generator's default export period.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sources.config import ClienteleConfig, load_config

DEMO_CONFIG_PATH = Path(__file__).with_name("clientele.yml")


def demo_config() -> ClienteleConfig:
    """The shipped demo configuration, without environment overrides (the generator's data never changes
    with the environment)."""
    return load_config(DEMO_CONFIG_PATH, environ={})


def vocabulary(name: str) -> tuple[str, ...]:
    """One of the demo's vocabularies; each is set in its configuration."""
    values = getattr(demo_config().vocabulary, name)
    if not values:
        raise ValueError(f"{DEMO_CONFIG_PATH}: vocabulary.{name} must list the demo's values")
    return tuple(values)


def demo_period() -> tuple[date, date]:
    """The demo's export period [start, end) from its configuration's (closed) calendar."""
    calendar = demo_config().calendar
    if calendar.end_date is None:
        raise ValueError(f"{DEMO_CONFIG_PATH}: calendar.end_date must close the demo's export period")
    return calendar.start_date, calendar.end_date
