"""Great Expectations suites run as Dagster asset checks on the marts and the model outputs."""
