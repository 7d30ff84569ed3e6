from pathlib import Path

import pytest

from csintel.config import STARTER_CONFIG, ConfigError, load_settings, settings_from_dict, with_overrides


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


def test_each_bound_is_reported_with_its_range_meaning_and_value():
    cases = {
        ("sources", "zendesk", "page_size", 5000): "sources.zendesk.page_size must be from 1 to 1000, got 5000",
        ("models", "category_poor_fit_share", 0): "models.category_poor_fit_share must be in (0, 1] "
                                                   "(1 = warn only when every ticket is uncertain; e.g. 0.25), got 0",
        ("themes", "window_weeks", 1): "themes.window_weeks must be at least 2 (trends need a baseline), got 1",
        ("warehouse", "lock_timeout_s", -1): "warehouse.lock_timeout_s must be 0 or more (0 = do not wait), got -1",
        ("support", "first_response_low", 0): "support.first_response_low must be positive (minutes), got 0",
        ("themes", "min_cluster_size", 1): "themes.min_cluster_size must be 0 (automatic) or at least 2, got 1",
    }
    for (section, *path, value), message in cases.items():
        data: dict = {section: {}}
        table = data[section]
        for key in path[:-1]:
            table = table.setdefault(key, {})
        table[path[-1]] = value
        with pytest.raises(ConfigError) as caught:
            settings_from_dict(data)
        assert str(caught.value) == f"settings: {message}"


def test_base_url_is_checked_alike_for_every_api():
    for data, key in [({"sources": {"zendesk": {"base_url": "acme"}}}, "sources.zendesk.base_url"),
                      ({"sources": {"freshdesk": {"base_url": "acme"}}}, "sources.freshdesk.base_url"),
                      ({"sources": {"intercom": {"base_url": "acme"}}}, "sources.intercom.base_url"),
                      ({"sources": {"hubspot": {"base_url": ""}}}, "sources.hubspot.base_url"),
                      ({"slack": {"base_url": "https://slack.com/api"}}, "slack.base_url")]:
        with pytest.raises(ConfigError, match=rf"settings: {key} must be an http\(s\) address"):
            settings_from_dict(data)
    assert settings_from_dict({"sources": {"zendesk": {"base_url": "http://localhost:1/"}}}).sources.zendesk.enabled


def test_type_errors_name_the_toml_key_and_every_problem_is_listed(tmp_path):
    p = write(tmp_path, '[sources.zendesk]\nstart = 2026-01-31\n\n[sources.hubspot.slack_ids]\n"ana@acme.com" = 5\n'
                        '\n[[competitors]]\naliases = ["x"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(p)
    assert str(caught.value).splitlines() == [
        "csintel.toml: 'sources.zendesk.start' must be str (quote it: \"2026-01-31\"), got datetime.date(2026, 1, 31)",
        "csintel.toml: 'sources.hubspot.slack_ids.\"ana@acme.com\"' must be str "
        "(e.g. \"ana@acme.com\" = \"U024BE7LH\"), got 5",
        "csintel.toml: 'competitors[0].name' is required",
    ]
    with pytest.raises(ConfigError, match="'themes.spike_z' must be float"):
        settings_from_dict({"themes": {"spike_z": True}})     # a bool is not a number, a str not an int
    with pytest.raises(ConfigError, match=r"unknown key 'sources\.zendesk\.subdomian'\. Did you mean 'sources\.zendesk\.subdomain'"):
        settings_from_dict({"sources": {"zendesk": {"subdomian": "acme"}}})


def test_one_path_where_a_list_is_expected_and_ints_for_floats():
    s = settings_from_dict({"sources": {"tickets": "t.csv"}, "support": {"first_response_high": 120}})
    assert s.sources.tickets == ["t.csv"]
    assert s.support.first_response_targets["high"] == 120.0 and isinstance(s.support.first_response_high, float)


def test_settings_are_frozen_and_overrides_build_new_checked_settings(tmp_path):
    s = load_settings(write(tmp_path, '[models]\nbatch_size = 16\n'))
    with pytest.raises(ValueError, match="frozen"):
        s.models.embedding = "other"        # type: ignore[misc]
    t = with_overrides(s, {"models": {"embedding": "other"}})
    assert (t.models.embedding, t.models.batch_size, t.base_dir) == ("other", 16, s.base_dir)
    assert s.models.embedding == ""
    with pytest.raises(ConfigError, match=r"override: models\.batch_size must be at least 1, got 0"):
        with_overrides(s, {"models": {"batch_size": 0}})
    with pytest.raises(ConfigError, match="Did you mean 'models.embedding'"):
        with_overrides(s, {"models": {"embeding": "x"}})


def test_the_flow_model_parameter_gives_new_settings(tmp_path):
    from flows.params import settings_for

    p = write(tmp_path, '[models]\nbatch_size = 16\n')
    assert settings_for(str(p), "some/model").models.embedding == "some/model"
    assert settings_for(str(p)).models.embedding == ""


def test_the_slack_token_is_a_secret_from_the_environment(monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert settings_from_dict({}).slack_token is None
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    token = settings_from_dict({}).slack_token
    assert token is not None and token.get_secret_value() == "xoxb-secret"
    assert "xoxb-secret" not in repr(token) and "xoxb-secret" not in str(token)
