from pathlib import Path

import pytest

from csintel.config import STARTER_CONFIG, ConfigError, load_settings, settings_from_dict


def write(tmp_path: Path, text: str, name: str = "csintel.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_and_partial_file(tmp_path):
    s = load_settings(write(tmp_path, '[risk]\nrenewal_window_days = 90\n'))
    assert s.risk.renewal_window_days == 90
    assert s.risk.lookback_days == 90            # untouched default
    assert s.warehouse_path == tmp_path / ".csintel" / "warehouse.duckdb"   # relative to the file


def test_unknown_key_names_key_and_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'risk.renewal_window_dayz'.*Did you mean 'risk.renewal_window_days'"):
        load_settings(write(tmp_path, '[risk]\nrenewal_window_dayz = 90\n'))


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'slak'"):
        load_settings(write(tmp_path, '[slak]\noutbox = "x"\n'))


def test_secret_in_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings(write(tmp_path, '[slack]\ntoken = "xoxb-123"\n'))


def test_wrong_type_and_bad_value(tmp_path):
    with pytest.raises(ConfigError, match="'themes.window_weeks' must be int"):
        load_settings(write(tmp_path, '[themes]\nwindow_weeks = "twelve"\n'))
    with pytest.raises(ConfigError, match="digest.ticket_url must contain {id}"):
        load_settings(write(tmp_path, '[digest]\nticket_url = "https://x/tickets"\n'))
    with pytest.raises(ConfigError, match="routing.disabled: unknown audience 'marketing'"):
        load_settings(write(tmp_path, '[routing]\ndisabled = ["marketing"]\n'))


def test_missing_file_and_bad_syntax(tmp_path):
    with pytest.raises(ConfigError, match="not found.*csintel init"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[risk\n"))


def test_yaml_with_only_competitors(tmp_path):
    p = write(tmp_path, "competitors:\n  - name: HubSpot\n    aliases: [Hubspot]\n    integration_partner: true\n",
              "csintel.yaml")
    s = load_settings(p)
    assert s.competitors[0].name == "HubSpot" and s.competitors[0].integration_partner


def test_starter_config_is_valid(tmp_path):
    s = load_settings(write(tmp_path, STARTER_CONFIG.format(tickets="t.jsonl", accounts="a.csv")))
    assert s.routing.product == "#product"


def test_settings_from_dict_checks_too():
    with pytest.raises(ConfigError):
        settings_from_dict({"models": {"batch_size": 0}})
