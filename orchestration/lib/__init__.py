"""Integration glue shared by the asset definitions: the deployment, the run's scoring date, the warehouse resource, dbt wiring."""
