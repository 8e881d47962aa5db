"""Validate a pandas copy of a gated table against its suite and say what happened, without data values.

GX validates through its pandas data source because its SQL data source gives wrong results on
DuckDB: the caller reads the table into a DataFrame and passes it in. The GX context is ephemeral,
built on first use (importing GX takes about ten seconds) and reused for the life of the process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations.report import ExpectationOutcome, OutcomeStatus, ValidationReport
from expectations.suites import TableSuite, expectation_columns

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.datasource.fluent import PandasDatasource
    from great_expectations.expectations import Expectation

# Counts and percentages only: no partial unexpected values, no unexpected rows. Outcomes are built
# from an allow-list of numeric fields as well, so a value GX still returned could not get through.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
}

_DATA_SOURCE = "clientele_frames"
_BATCH_DEFINITION = "whole_frame"
_EXISTENCE = "expect_column_to_exist"
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_REDACTED = "<value>"


class _GxSession:
    """The process's GX pandas data source, with one dataframe asset per suite, made on first use.

    GX contexts are not documented as thread-safe and Dagster may run checks in threads of one
    process, so every use of the session holds its lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._source: PandasDatasource | None = None
        self._batch_definitions: dict[str, BatchDefinition] = {}

    def batch_definition(self, table: str) -> BatchDefinition:
        if table not in self._batch_definitions:
            if self._source is None:
                self._source = _ephemeral_pandas_source()
            asset = self._source.add_dataframe_asset(name=table)
            self._batch_definitions[table] = asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
        return self._batch_definitions[table]


def _ephemeral_pandas_source() -> PandasDatasource:
    """A pandas data source in a new ephemeral context, with GX's tqdm progress bars switched off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_pandas(name=_DATA_SOURCE)


_session = _GxSession()


def validate_frame(frame: pd.DataFrame, spec: TableSuite) -> ValidationReport:
    """Validate `frame` (one gated table, read whole) against its suite (`table_suites(...)[table]`).

    A column the suite reads but the frame lacks fails that column's `expect_column_to_exist`, and
    the rules needing it are reported NOT_RUN: a missing column is the table breaking its contract,
    to be fixed upstream like bad data, while GX itself worked. Only an exception inside GX is an
    ERROR. The caller's frame is not modified.
    """
    import great_expectations as gx

    expectations = spec.expectations()
    read = spec.columns_read(expectations)
    missing = tuple(column for column in read if column not in frame.columns)
    runnable: list[Expectation] = []
    blocked: list[Expectation] = []
    for expectation in expectations:
        config = expectation.configuration
        needs = () if config.type == _EXISTENCE else spec.source_columns(config.kwargs)
        (blocked if set(needs).intersection(missing) else runnable).append(expectation)

    subject = _validation_frame(frame, spec, read)
    with _session.lock:
        batch = _session.batch_definition(spec.table).get_batch(batch_parameters={"dataframe": subject})
        suite = gx.ExpectationSuite(name=spec.table, expectations=runnable)
        results = batch.validate(suite, result_format=RESULT_FORMAT).results

    outcomes = [_outcome(result, subject) for result in results]
    outcomes.extend(
        ExpectationOutcome(
            expectation_type=expectation.configuration.type,
            columns=expectation_columns(expectation.configuration.kwargs),
            status=OutcomeStatus.NOT_RUN,
        )
        for expectation in blocked
    )
    return ValidationReport(
        suite=spec.table, evaluated_rows=len(frame), expectations=tuple(outcomes), missing_columns=missing
    )


def _validation_frame(frame: pd.DataFrame, spec: TableSuite, read: tuple[str, ...]) -> pd.DataFrame:
    """A copy of the columns the suite reads, plus its derived columns where their inputs exist.

    Handing GX only what it checks keeps columns no rule needs (personal data among them) out of
    the validation altogether, and keeps GX's whole-frame fingerprint cheap on wide tables.
    """
    subject = frame.loc[:, [column for column in read if column in frame.columns]].copy()
    for derived in spec.derived_columns:
        if set(derived.inputs).issubset(subject.columns):
            subject[derived.name] = derived.compute(subject)
    return subject


def _outcome(result: ExpectationValidationResult, subject: pd.DataFrame) -> ExpectationOutcome:
    config = result.expectation_config
    if config is None:
        raise ValueError("GX returned a validation result without the expectation it evaluated")
    columns = expectation_columns(config.kwargs)
    messages = _raised_messages(result.exception_info or {})
    if messages:
        return ExpectationOutcome(
            expectation_type=config.type,
            columns=columns,
            status=OutcomeStatus.ERROR,
            error=_without_values("; ".join(messages), subject),
        )
    counts = result.result or {}
    return ExpectationOutcome(
        expectation_type=config.type,
        columns=columns,
        status=OutcomeStatus.PASSED if result.success else OutcomeStatus.FAILED,
        unexpected_count=_optional_int(counts.get("unexpected_count")),
        unexpected_percent=_optional_float(counts.get("unexpected_percent")),
    )


def _raised_messages(exception_info: Mapping[str, Any]) -> list[str]:
    """GX's exception messages for one result, distinct and in order; empty when nothing raised.

    GX reports either one flat record or, when resolving a metric failed, one record per metric
    keyed by the metric's id.
    """
    records = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    messages = [
        str(record.get("exception_message") or "GX raised an exception without a message")
        for record in records
        if isinstance(record, Mapping) and record.get("raised_exception")
    ]
    return list(dict.fromkeys(messages))


def _without_values(message: str, subject: pd.DataFrame) -> str:
    """`message` with every quoted literal or word that is a value of the validated frame redacted.

    GX passes pandas' exception messages through, and some quote the offending value (for example
    "could not convert string to float: '...'"), so an error text could otherwise carry data.
    """
    candidates = {match.group(1) or match.group(2) for match in _QUOTED.finditer(message)}
    candidates |= {word.strip("'\",.:;()[]{}") for word in message.split()}
    candidates.discard("")
    found: set[str] = set()
    for column in subject.columns:
        found |= candidates.intersection(subject[column].dropna().astype(str).unique())
    for value in sorted(found, key=len, reverse=True):
        message = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", _REDACTED, message)
    return message


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
