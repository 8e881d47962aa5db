"""The deployment configuration: one file plus environment overrides, every bad value refused at load with
its key, the value and what is allowed; the demo is one configuration among others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sources.config import REPO_ROOT, ConfigError, load_config
from sources.demo.config import DEMO_CONFIG_PATH, demo_config

MINIMAL = {"calendar": {"start_date": "2024-01-01"}, "currency": {"default": "USD"}}


def config_file(tmp_path: Path, content: dict) -> Path:
    path = tmp_path / "clientele.yml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def load_error(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(path, environ or {})
    return str(error.value)


def test_a_minimal_configuration_is_orders_in_one_currency(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, MINIMAL), {})
    assert config.sources.enabled == ("orders",)
    assert [c.name for c in config.enabled_contracts] == ["orders"]
    assert config.currency.accepted_codes == ("USD",)
    assert config.calendar.end_date is None  # live, open-ended by default
    assert (config.models.churn.horizon_days, config.models.clv.horizon_days) == (90, 365)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"calendar": {"timezone": "Europe/Berln"}}, "calendar.timezone: not an IANA time zone name"),
        (
            {"calendar": {"end_date": "2023-12-31"}},
            "calendar: end_date 2023-12-31 must be after start_date 2024-01-01",
        ),
        ({"currency": {"default": "usd"}}, "currency.default: not an ISO 4217 currency code"),
        ({"currency": {"accepted": ["EUR"]}}, "default USD must be one of accepted (EUR)"),
        ({"sources": {"enabled": ["contacts"]}}, "sources.enabled: must include orders"),
        (
            {"sources": {"enabled": ["orders", "crm"]}},
            "sources.enabled.1: Input should be 'customer_accounts',",
        ),
        (
            {"sources": {"sales_origin": "ftp"}},
            "sources.sales_origin: Input should be 'landing' or 'shop_database'",
        ),
        (
            {"models": {"churn": {"horizon_days": 0}}},
            "models.churn.horizon_days: Input should be greater than",
        ),
        ({"models": {"clv": {"horizn_days": 91}}}, "models.clv.horizn_days: not a known key"),
        (
            {"models": {"churn": {"risk_bands": {"medium_from": 0.8}}}},
            "medium_from (0.8) must be below high_from",
        ),
        (
            {"models": {"churn": {"risk_bands": {"method": "rank"}}}},
            "models.churn.risk_bands.method: Input should be 'probability' or 'quantile' (got 'rank')",
        ),
        (
            {
                "models": {
                    "churn": {"risk_bands": {"method": "quantile", "high_share": 0.6, "medium_share": 0.5}}
                }
            },
            "models.churn.risk_bands: high_share (0.6) + medium_share (0.5) must be at most 1",
        ),
        (
            {"models": {"churn": {"risk_bands": {"method": "quantile", "high_from": 0.9}}}},
            "method quantile takes high_share and medium_share, not high_from (0.9) (keys of method probability)",
        ),
        (
            {"models": {"churn": {"risk_bands": {"high_share": 0.05}}}},
            "method probability takes medium_from and high_from, not high_share (0.05)",
        ),
        (
            {"models": {"churn": {"risk_bands": {"method": "quantile", "high_share": 0}}}},
            "models.churn.risk_bands.high_share: Input should be greater than 0",
        ),
        ({"vocabulary": {"default_channel": "app"}}, "must be among channels (web, store); not: app"),
        ({"segments": {"lifecycle": {"new_days": 400}}}, "need new_days (400) < at_risk_days (180)"),
        (
            {"quality": {"max_quarantine_share": 1.5}},
            "quality.max_quarantine_share: Input should be less than",
        ),
        (
            {"identity": {"phone_country_code": "049"}},
            "identity.phone_country_code: String should match pattern",
        ),
    ],
)
def test_a_bad_value_names_its_key_the_value_and_what_is_allowed(
    tmp_path: Path, overrides: dict, expected: str
) -> None:
    content = {**MINIMAL, **{k: {**MINIMAL.get(k, {}), **v} for k, v in overrides.items()}}
    message = load_error(config_file(tmp_path, content))
    assert expected in message
    assert str(tmp_path / "clientele.yml") in message  # which file


def test_risk_bands_by_probability_by_default_or_by_quantile(tmp_path: Path) -> None:
    bands = load_config(config_file(tmp_path, MINIMAL), {}).models.churn.risk_bands
    assert (bands.method, bands.medium_from, bands.high_from) == ("probability", 0.4, 0.7)
    quantile = {"risk_bands": {"method": "quantile", "high_share": 0.05, "medium_share": 0.15}}
    config = load_config(config_file(tmp_path, {**MINIMAL, "models": {"churn": quantile}}), {})
    bands = config.models.churn.risk_bands
    assert (bands.method, bands.high_share, bands.medium_share) == ("quantile", 0.05, 0.15)
    # Overrides validate the whole configuration again, the other method's defaults included.
    assert config.with_overrides({"models": {"churn": {"horizon_days": 91}}}).models.churn.risk_bands == bands
    environ = {"CLIENTELE__MODELS__CHURN__RISK_BANDS__METHOD": "quantile"}
    assert load_config(config_file(tmp_path, MINIMAL), environ).models.churn.risk_bands.method == "quantile"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = load_error(config_file(tmp_path, {"calendar": {"start_date": "someday"}}))
    assert "calendar.start_date: Input should be a valid date" in message and "'someday'" in message
    assert "currency: required, but not given" in message


def test_no_configuration_says_where_to_name_one() -> None:
    message = load_error(None)
    assert "CLIENTELE_CONFIG is not set" in message
    assert "calendar: required" in message


def test_environment_overrides_name_themselves_and_are_validated(tmp_path: Path) -> None:
    path = config_file(tmp_path, MINIMAL)
    environ = {
        "CLIENTELE_END_DATE": "2025-01-01",
        "CLIENTELE__MODELS__CHURN__HORIZON_DAYS": "91",
        "CLIENTELE__SOURCES__ENABLED": "[orders, refunds]",
    }
    config = load_config(path, environ)
    assert str(config.calendar.end_date) == "2025-01-01"
    assert config.models.churn.horizon_days == 91
    assert config.sources.enabled == ("orders", "refunds")
    message = load_error(path, {"CLIENTELE__MODELS__CLV__HORIZON_DAYS": "forever"})
    assert "CLIENTELE__MODELS__CLV__HORIZON_DAYS" in message
    assert "models.clv.horizon_days: Input should be a valid integer" in message


def test_paths_are_relative_to_the_file_then_to_the_data_folder(tmp_path: Path) -> None:
    path = config_file(tmp_path, {**MINIMAL, "paths": {"data_dir": "data", "landing_dir": "/exports"}})
    paths = load_config(path, {}).paths
    assert paths.data_dir == tmp_path / "data"
    assert paths.warehouse_path == tmp_path / "data" / "warehouse" / "clientele.duckdb"
    assert paths.landing_dir == Path("/exports")
    assert paths.serving_path == tmp_path / "data" / "serving" / "warehouse.duckdb"


def test_the_demo_and_the_cdnow_example_are_valid_configurations() -> None:
    demo = demo_config()
    assert len(demo.enabled_contracts) == 8 and demo.currency.default == "EUR"
    cdnow = load_config(REPO_ROOT / "docs" / "examples" / "cdnow.yml", {})
    assert [c.name for c in cdnow.enabled_contracts] == ["orders"]
    assert (cdnow.models.churn.horizon_days, cdnow.models.clv.horizon_days) == (91, 273)


def python_with_config(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter (a code location reads its configuration when it loads) with `config`."""
    return subprocess.run(
        [sys.executable, *args],
        env={"CLIENTELE_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )


def test_the_code_location_refuses_a_bad_configuration_before_loading(tmp_path: Path) -> None:
    bad = config_file(tmp_path, {**MINIMAL, "models": {"churn": {"horizon_days": -5}}})
    result = python_with_config(bad, "-c", "import orchestration.definitions")
    assert result.returncode != 0
    assert "models.churn.horizon_days: Input should be greater than or equal to 1 (got -5)" in result.stderr


def test_the_cli_prints_the_resolved_configuration_or_the_problems(tmp_path: Path) -> None:
    ok = python_with_config(DEMO_CONFIG_PATH, "-m", "sources.config")
    assert ok.returncode == 0 and yaml.safe_load(ok.stdout)["currency"]["default"] == "EUR"
    bad = python_with_config(tmp_path / "missing.yml", "-m", "sources.config")
    assert bad.returncode == 2 and "cannot read the configuration file" in bad.stderr
