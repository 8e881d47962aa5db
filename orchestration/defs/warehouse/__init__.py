"""The dbt warehouse: staging views, partitioned incremental facts, and marts rebuilt whole."""
