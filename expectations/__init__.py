"""Great Expectations quality gates for the tables the pipeline publishes: suites as code and their runner.

Plain Python with no Dagster import; orchestration wraps `validate_frame` in blocking asset checks.
Importing this package does not import GX (about ten seconds); the first validation does.
"""

from expectations.report import ExpectationOutcome, OutcomeStatus, ValidationReport
from expectations.runner import validate_frame
from expectations.suites import DerivedColumn, GateVocabulary, TableSuite, table_suites

__all__ = [
    "DerivedColumn",
    "ExpectationOutcome",
    "GateVocabulary",
    "OutcomeStatus",
    "TableSuite",
    "ValidationReport",
    "table_suites",
    "validate_frame",
]
