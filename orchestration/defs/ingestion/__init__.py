"""Landing files -> the warehouse's raw schema, one asset per source, partitioned by export day."""
