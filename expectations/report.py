"""What one validation found, as plain typed values: outcomes per expectation, counts, never data values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OutcomeStatus(StrEnum):
    """How one expectation ended; only FAILED says something about the data's values."""

    PASSED = "passed"
    FAILED = "failed"  # GX evaluated it and the data violates it (a missing column fails its existence check)
    ERROR = "error"  # GX raised while evaluating it: the data was not judged
    NOT_RUN = "not_run"  # it reads a column the frame lacks; that column's existence check says which


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: its type, the column(s) it reads, and counts or GX's error text."""

    expectation_type: str
    columns: tuple[str, ...]
    status: OutcomeStatus
    unexpected_count: int | None = None  # None for table-level expectations, errors and NOT_RUN
    unexpected_percent: float | None = None  # of the non-null values the expectation looked at
    error: str | None = None  # GX's exception message, values redacted; set only for ERROR

    @property
    def success(self) -> bool:
        return self.status is OutcomeStatus.PASSED

    @property
    def label(self) -> str:
        """`expectation_type(column, ...)`: how logs and metadata name this expectation."""
        return f"{self.expectation_type}({', '.join(self.columns)})"


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one table's frame against its suite.

    `success` needs every expectation to pass: a GX error or a rule not run is not a pass. Callers
    tell the two kinds of trouble apart with `failed` (the data breaks a rule: fix the data) and
    `has_errors` (GX raised: fix the check; the data was not judged).
    """

    suite: str
    evaluated_rows: int
    expectations: tuple[ExpectationOutcome, ...]
    missing_columns: tuple[str, ...] = ()

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.expectations)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        """Data failures: expectations GX evaluated and the data violated."""
        return self._with_status(OutcomeStatus.FAILED)

    @property
    def errored(self) -> tuple[ExpectationOutcome, ...]:
        return self._with_status(OutcomeStatus.ERROR)

    @property
    def not_run(self) -> tuple[ExpectationOutcome, ...]:
        return self._with_status(OutcomeStatus.NOT_RUN)

    @property
    def errors(self) -> tuple[str, ...]:
        """GX's own exceptions, one line per expectation that raised."""
        return tuple(f"{outcome.label}: {outcome.error}" for outcome in self.errored)

    @property
    def has_errors(self) -> bool:
        return bool(self.errored)

    def to_metadata(self) -> dict[str, Any]:
        """A small JSON-able summary for Dagster check metadata: counts and expectation names only."""
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated_rows": self.evaluated_rows,
            "expectation_count": len(self.expectations),
            "passed_count": sum(outcome.success for outcome in self.expectations),
            "failed": [
                {
                    "expectation": outcome.label,
                    "unexpected_count": outcome.unexpected_count,
                    "unexpected_percent": _rounded(outcome.unexpected_percent),
                }
                for outcome in self.failed
            ],
            "errors": list(self.errors),
            "not_run": [outcome.label for outcome in self.not_run],
            "missing_columns": list(self.missing_columns),
        }

    def _with_status(self, status: OutcomeStatus) -> tuple[ExpectationOutcome, ...]:
        return tuple(outcome for outcome in self.expectations if outcome.status is status)


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, 3)
