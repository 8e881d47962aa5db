"""Integration glue shared by the asset definitions: settings, the warehouse resource, dbt wiring."""
