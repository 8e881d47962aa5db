"""Clientele's Dagster code location: it wires sources, dbt, checks and models together; it computes nothing."""
