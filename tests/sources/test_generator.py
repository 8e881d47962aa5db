"""The demo generator: determinism, file layout, contract shape, injected mess and the latent truth.

Most checks read the files of one small run back with plain `csv` and `json`, independently of the
generator's own rendering, and compare what they find with `truth/summary.json`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sources.contracts import ALL_SOURCES, ORDER_LINES, ORDERS, FileFormat, SourceContract
from sources.demo import DemoConfig, generate, population, text
from sources.demo.__main__ import main
from sources.demo.crm import simulate_tickets
from sources.demo.generator import phase_rng
from sources.demo.identities import assign_identities
from sources.demo.timeline import Timeline
from sources.demo.truth import TruthFiles
from sources.demo.writers import parquet_type

SMALL = DemoConfig(customers=200, seed=11, start=date(2024, 1, 1), end=date(2024, 5, 1))
AMOUNT = re.compile(r"^\d+\.\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _silent(_: str) -> None:
    pass


def _export_dates(config: DemoConfig) -> list[date]:
    return [config.start + timedelta(days=d) for d in range((config.end - config.start).days)]


@dataclass
class Landed:
    """What a plain reader finds in one source's files: valid rows, and each kind of damage."""

    contract: SourceContract
    rows: list[tuple[date, dict[str, Any]]] = field(default_factory=list)
    damage: Counter[str] = field(default_factory=Counter)
    exact_duplicates: int = 0
    not_canonical: int = 0  # lines that Python's csv writer or json.dumps would have written differently


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _value_damage(contract: SourceContract, row: dict[str, Any]) -> str | None:
    """The kind of damage a parsed row carries, judged from the contract alone."""
    if any(row.get(name) in (None, "") for name in contract.required_columns):
        return "missing_required_value"
    for column in contract.columns:
        value = row.get(column.name)
        if value is None or value == "":
            continue
        if column.type == "TIMESTAMP" and not TIMESTAMP.match(value):
            return "unparseable_timestamp"
        if column.type.startswith("DECIMAL") and not AMOUNT.match(value):
            return "unparseable_amount"
        if column.type == "INTEGER" and contract.format is FileFormat.JSONL and not isinstance(value, int):
            return "wrong_type"
        if column.type == "BOOLEAN" and not isinstance(value, bool):
            return "wrong_type"
    return None


def _parquet_lines(path: Path, contract: SourceContract) -> list[str]:
    """A typed Parquet export's rows as JSON lines, timestamps in the text files' ISO spelling."""
    table = pq.read_table(path)
    typed = pa.schema([(c.name, parquet_type(c.type)) for c in contract.columns])
    assert table.schema.equals(typed), path
    rows = table.to_pylist()
    return [
        json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()}) for r in rows
    ]


def _read_source(landing: Path, contract: SourceContract, dates: list[date]) -> Landed:
    landed = Landed(contract)
    for export_date in dates:
        path = contract.file_for(landing, export_date)
        if contract.format is FileFormat.PARQUET:
            lines = _parquet_lines(path, contract)
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
        if contract.format is FileFormat.CSV:
            assert lines[0] == ",".join(contract.column_names)
            lines = lines[1:]
        seen: set[str] = set()
        for line in lines:
            landed.exact_duplicates += line in seen
            seen.add(line)
            if contract.format is FileFormat.CSV:
                fields = next(csv.reader(io.StringIO(line)))
                landed.not_canonical += line != _csv_line(fields)
                if len(fields) != len(contract.column_names):
                    landed.damage["extra_field" if len(fields) > len(contract.column_names) else "short"] += 1
                    continue
                row: dict[str, Any] = dict(zip(contract.column_names, fields, strict=True))
            else:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    landed.damage["invalid_json"] += 1
                    continue
                landed.not_canonical += line != json.dumps(row)
                assert tuple(row) == contract.column_names
            if kind := _value_damage(contract, row):
                landed.damage[kind] += 1
                continue
            landed.rows.append((export_date, row))
    return landed


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    summary = generate(SMALL, out, report=_silent)
    return out, summary


@pytest.fixture(scope="module")
def landed(small_run: tuple[Path, dict[str, Any]]) -> dict[str, Landed]:
    out, _ = small_run
    dates = _export_dates(SMALL)
    return {c.raw_table: _read_source(out / "landing", c, dates) for c in ALL_SOURCES}


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    config = DemoConfig(customers=150, seed=3, start=date(2024, 1, 1), end=date(2024, 3, 1))
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(config, first, report=_silent)
    generate(config, second, report=_silent)
    generate(DemoConfig(customers=150, seed=4, start=config.start, end=config.end), other, report=_silent)
    first_bytes, other_bytes = _all_bytes(first), _all_bytes(other)
    assert first_bytes == _all_bytes(second)
    assert first_bytes.keys() == other_bytes.keys()
    differing = [name for name, content in first_bytes.items() if other_bytes[name] != content]
    assert "truth/persons.parquet" in differing
    assert len(differing) > 100  # most daily files differ, not just the truth


def test_a_rerun_replaces_the_previous_output_and_leaves_other_files(tmp_path: Path) -> None:
    keep = tmp_path / "warehouse.duckdb"
    keep.write_text("not ours")
    generate(
        DemoConfig(customers=50, seed=1, start=date(2024, 1, 1), end=date(2024, 2, 1)), tmp_path, _silent
    )
    shorter = DemoConfig(customers=40, seed=2, start=date(2024, 1, 1), end=date(2024, 1, 11))
    summary = generate(shorter, tmp_path, _silent)
    files = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    assert len(files) == len(ALL_SOURCES) * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing", "truth", "warehouse.duckdb"]
    assert keep.read_text() == "not ours"
    assert json.loads((tmp_path / "truth" / "summary.json").read_text()) == summary


def test_every_source_has_exactly_one_file_per_export_day(small_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = small_run
    landing = out / "landing"
    expected = {c.file_for(landing, d) for c in ALL_SOURCES for d in _export_dates(SMALL)}
    assert {p for p in landing.rglob("*") if p.is_file()} == expected
    text_files = [p for p in expected if p.suffix != ".parquet"]
    empty_days = [p for p in text_files if p.stat().st_size == 0 or p.read_text().count("\n") == 1]
    assert empty_days, "a tiny run has days without refunds; they still get a (header-only or empty) file"
    # Campaigns go out on Tuesdays: most marketing days are schema-only Parquet files.
    parquet_rows = [pq.read_metadata(p).num_rows for p in expected if p.suffix == ".parquet"]
    assert 0 in parquet_rows and max(parquet_rows) > 0


def test_lines_are_what_pythons_csv_writer_and_json_dumps_write(landed: dict[str, Landed]) -> None:
    assert {name: source.not_canonical for name, source in landed.items()} == dict.fromkeys(landed, 0)


def test_valid_csv_rows_have_the_contract_columns_and_quote_minimally(
    small_run: tuple[Path, dict[str, Any]], landed: dict[str, Landed]
) -> None:
    out, _ = small_run
    for source in landed.values():
        if source.contract.format is FileFormat.CSV:
            assert source.rows
            assert source.damage["short"] == 0
            assert all(len(row) == len(source.contract.column_names) for _, row in source.rows)
    # Valid values never hold a delimiter, quote or line break, so the only quoted fields are the
    # damaged amounts like "12,5O", which QUOTE_MINIMAL must quote.
    quoted = [
        line
        for contract in ALL_SOURCES
        if contract.format is FileFormat.CSV
        for export_date in _export_dates(SMALL)
        for line in contract.file_for(out / "landing", export_date).read_text().splitlines()
        if '"' in line
    ]
    assert quoted
    assert all(re.fullmatch(r'[^"]*,"\d+,\dO",[^"]*', line) for line in quoted)


def test_injected_mess_matches_what_a_parser_finds(
    small_run: tuple[Path, dict[str, Any]], landed: dict[str, Landed]
) -> None:
    _, summary = small_run
    mess = summary["mess"]
    for name, source in landed.items():
        assert dict(source.damage) == {k: v for k, v in mess["malformed"][name].items() if v}, name
        assert source.exact_duplicates == mess["exact_duplicates"][name], name
        written = len(source.rows) + sum(source.damage.values())
        assert written == summary["rows_per_source"][name], name
    assert mess["malformed_total"] >= 20  # a handful of every kind even in a tiny run
    kinds = {kind for by_kind in mess["malformed"].values() for kind, n in by_kind.items() if n}
    assert kinds == {
        "extra_field",
        "unparseable_amount",
        "unparseable_timestamp",
        "missing_required_value",
        "invalid_json",
        "wrong_type",
    }
    assert sum(mess["exact_duplicates"].values()) > 0


def test_updates_are_counted_by_reason_and_match_the_versions_found(
    small_run: tuple[Path, dict[str, Any]], landed: dict[str, Landed]
) -> None:
    _, summary = small_run
    mess = summary["mess"]
    for name, source in landed.items():
        assert sum(mess["update_reasons"][name].values()) == mess["updates"][name], name
        contract = source.contract
        versions = {
            (tuple(row[k] for k in contract.key), row[contract.version_column]) for _, row in source.rows
        }
        records = {key for key, _ in versions}
        # A damaged row can hide one version, nothing else can.
        assert abs(len(versions) - len(records) - mess["updates"][name]) <= sum(source.damage.values()), name
    assert mess["updates"]["sales_orders"] > 0
    assert mess["update_reasons"]["crm_contacts"]["consent_withdrawn"] > 0
    assert mess["update_reasons"]["crm_loyalty_members"]["tier_upgraded"] > 0


def test_order_totals_equal_the_sum_of_their_lines(landed: dict[str, Landed]) -> None:
    lines: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for _, row in landed[ORDER_LINES.raw_table].rows:
        assert Decimal(row["line_amount"]) == int(row["quantity"]) * Decimal(row["unit_price"])
        lines[row["order_id"], row["updated_at"]][row["line_number"]] = Decimal(row["line_amount"])
    checked = 0
    for _, order in landed[ORDERS.raw_table].rows:
        version = lines.get((order["order_id"], order["updated_at"]))
        if version is None:
            continue  # every line of this version was damaged
        if len(version) == max(int(n) for n in version):  # no damaged line in this version
            assert sum(version.values()) == Decimal(order["order_total"]), order["order_id"]
            checked += 1
        assert order["currency"] == "EUR"
    assert checked > 0.95 * len(landed[ORDERS.raw_table].rows)


def test_re_exported_orders_bring_their_lines_with_the_same_updated_at(landed: dict[str, Landed]) -> None:
    line_versions = {(row["order_id"], row["updated_at"]) for _, row in landed[ORDER_LINES.raw_table].rows}
    re_exports = [row for _, row in landed[ORDERS.raw_table].rows if row["updated_at"] != row["ordered_at"]]
    assert re_exports
    missing = [row for row in re_exports if (row["order_id"], row["updated_at"]) not in line_versions]
    assert len(missing) <= 1  # at most a re-export whose every line was damaged


def test_nothing_is_exported_before_it_exists_or_after_the_period(landed: dict[str, Landed]) -> None:
    late = 0
    for source in landed.values():
        timestamps = [c.name for c in source.contract.columns if c.type == "TIMESTAMP"]
        for export_date, row in source.rows:
            for name in timestamps:
                when = datetime.fromisoformat(row[name]).date()
                assert when <= export_date, (source.contract.raw_table, name, row)
            if source.contract is ORDERS:
                assert datetime.fromisoformat(row["ordered_at"]).date() < SMALL.end
                late += (
                    row["updated_at"] == row["ordered_at"]
                    and row["ordered_at"][:10] < export_date.isoformat()
                )
    assert late > 0


def test_identities_map_every_landed_order_account_contact_and_card_to_a_person(
    small_run: tuple[Path, dict[str, Any]], landed: dict[str, Landed]
) -> None:
    out, summary = small_run
    truth = TruthFiles(out / "truth")
    identities = pq.read_table(truth.identities).to_pylist()
    persons = {row["person_id"] for row in pq.read_table(truth.persons).to_pylist()}
    by_source: dict[str, set[str]] = defaultdict(set)
    for row in identities:
        assert row["person_id"] in persons
        by_source[row["source"]].add(row["source_id"])
    assert len(by_source["orders"]) == summary["orders"]["in_landing"]
    keys = {
        "sales_orders": ("orders", "order_id"),
        "sales_customer_accounts": ("customer_accounts", "account_id"),
        "crm_contacts": ("contacts", "contact_id"),
        "crm_loyalty_members": ("loyalty_members", "card_number"),
    }
    for raw_table, (source, key) in keys.items():
        landed_ids = {row[key] for _, row in landed[raw_table].rows}
        assert landed_ids <= by_source[source], raw_table
    guests = [row for _, row in landed["sales_orders"].rows if row["guest_email"]]
    anonymous = [
        row for _, row in landed["sales_orders"].rows if row["channel"] == "store" and not row["loyalty_card"]
    ]
    assert guests and anonymous
    assert {row["order_id"] for row in guests + anonymous} <= by_source["orders"]


def test_outcomes_agree_with_the_latent_persons(small_run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = small_run
    truth = TruthFiles(out / "truth")
    persons = pq.read_table(truth.persons).to_pandas().set_index("person_id")
    outcomes = pq.read_table(truth.outcomes).to_pandas().set_index("person_id")
    end = np.datetime64(SMALL.end.isoformat())
    assert (outcomes["alive_at_end"] == (persons["dropout_at"] > end)).all()
    assert (outcomes.loc[~outcomes["alive_at_end"], "purchases_next_365d"] == 0).all()
    assert (outcomes["purchases_next_365d"] >= outcomes["purchases_next_90d"]).all()
    assert (outcomes["revenue_next_365d"] >= outcomes["revenue_next_90d"]).all()
    assert outcomes["purchases_next_365d"].sum() == summary["orders"]["hidden_future"]
    assert (outcomes["expected_purchases_next_365d"] > 0).all()
    # Expectation and simulation agree in aggregate (a few hundred people, so loosely).
    ratio = outcomes["purchases_next_365d"].sum() / outcomes["expected_purchases_next_365d"].sum()
    assert 0.75 < ratio < 1.25
    assert persons["mean_order_value"].between(20, 300).all()


def test_cli_writes_files_and_reports_each_phase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "--customers",
            "30",
            "--seed",
            "2",
            "--out",
            str(tmp_path),
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-08",
        ]
    )
    printed = capsys.readouterr().out
    for phase in ("population:", "identities:", "orders:", "crm:", "landing sales_orders:", "truth:"):
        assert phase in printed
    assert (tmp_path / "truth" / "summary.json").is_file()
    assert len(list((tmp_path / "landing").rglob("*.csv"))) == 4 * 7


TIMELINE = Timeline(date(2024, 1, 1), date(2026, 1, 1))


@pytest.fixture(scope="module")
def people() -> population.Population:
    return population.simulate_population(40_000, TIMELINE, phase_rng(5, "population"))


def _alive(people: population.Population) -> np.ndarray:
    return people.dropout > TIMELINE.n_days


def test_people_with_higher_dropout_rates_churn_more(people: population.Population) -> None:
    quartile = np.searchsorted(np.quantile(people.dropout_rate, [0.25, 0.5, 0.75]), people.dropout_rate)
    alive_share = [_alive(people)[quartile == q].mean() for q in range(4)]
    assert alive_share == sorted(alive_share, reverse=True)
    assert alive_share[0] - alive_share[3] > 0.3
    assert 0.35 < 1 - _alive(people).mean() < 0.6  # a good share churns within the two years


def test_complaints_lower_the_alive_share(people: population.Population) -> None:
    alive = _alive(people)
    contacts = people.has_contact
    none, some, many = (
        alive[contacts & (people.complaints == 0)].mean(),
        alive[contacts & (people.complaints == 1)].mean(),
        alive[contacts & (people.complaints >= 2)].mean(),
    )
    assert none > some + 0.05 > many + 0.1


def test_loyalty_and_engagement_raise_the_purchase_rate(people: population.Population) -> None:
    rate_by_tier = [people.purchase_rate[people.loyalty_tier == t].mean() for t in range(4)]
    assert rate_by_tier == sorted(rate_by_tier)
    high, low = (people.purchase_rate[people.email_engagement == e].mean() for e in (3, 1))
    assert high > 1.2 * low


def test_complaints_come_shortly_before_dropout(people: population.Population) -> None:
    identities = assign_identities(people, TIMELINE, phase_rng(5, "identities"))
    tickets = simulate_tickets(people, identities, TIMELINE, phase_rng(5, "tickets"))
    person = identities.contacts.person[tickets.contact]
    dropout = people.dropout[person]
    churned = dropout < TIMELINE.horizon_days
    days_before = dropout - tickets.opened / 86_400
    soon = churned & (days_before < 60)
    complaint = tickets.category == 0
    assert soon[complaint].mean() > 2 * soon[~complaint].mean()
    # Tickets of people whose contact existed before they left are never opened after leaving.
    contact_before_dropout = identities.contacts.created[tickets.contact] / 86_400 < dropout
    assert (days_before[churned & contact_before_dropout] >= 0).all()


def test_effects_table_in_the_docstring_is_the_one_the_code_uses() -> None:
    rows = re.findall(
        r"^\| (\w+)\s+\| (\S+)\s+\| ([\d.]+)\s+\| ([\d.]+)\s+\| ([\d.]+)\s+\|$",
        population.__doc__ or "",
        re.M,
    )
    documented = {(a, level): population.Effect(float(r), float(d), float(s)) for a, level, r, d, s in rows}
    used = {
        (a, level): effect for a, levels in population.EFFECTS.items() for level, effect in levels.items()
    }
    assert documented == used


def test_vectorised_formatters_agree_with_python_formatting() -> None:
    rng = np.random.default_rng(0)
    numbers = np.concatenate([[0, 9, 10, 999_999, 1_000_000], rng.integers(0, 10**8, 500)])
    assert text.ids("A", numbers, 6).to_pylist() == [f"A{n:06d}" for n in numbers]
    assert text.integers(numbers).to_pylist() == [str(n) for n in numbers]
    assert text.amounts(numbers).to_pylist() == [f"{n // 100}.{n % 100:02d}" for n in numbers]
    seconds = np.concatenate([[0, 86_399, 951_868_799], rng.integers(0, 4 * 10**9, 500)])
    expected = [(datetime(1970, 1, 1) + timedelta(seconds=int(s))).isoformat() for s in seconds]
    assert text.timestamps(seconds).to_pylist() == expected
    valid = rng.random(numbers.size) < 0.5
    assert text.integers(numbers, valid).to_pylist() == [
        str(n) if v else None for n, v in zip(numbers, valid, strict=True)
    ]


def test_parquet_exports_have_a_type_for_every_contract_type() -> None:
    # Any source may move to Parquet; its export must not fail on a type the demo sources lack.
    samples = {"TIMESTAMP": "2024-03-01T10:00:00", "INTEGER": "7", "BOOLEAN": "true", "VARCHAR": "x"}
    for column in (c for contract in ALL_SOURCES for c in contract.columns):
        sample = samples.get(column.type, "12.50")
        typed = pa.array([sample, None], text.TEXT).cast(parquet_type(column.type))
        assert typed.null_count == 1 and typed[0].is_valid, column.type
