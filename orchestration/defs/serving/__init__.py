"""Publishing BI-facing tables to a serving DuckDB file and Parquet exports."""
