"""Service options: flag > environment (declared options only) > --config file > default.

The three bugs of the old hand-rolled layering, each held by a test: it read ``sys.argv`` to
guess which flags were typed (wrong for an in-process ``main(argv)``), an abbreviated flag
(``--interv 2``) was not seen as given so the file overrode it, and any ``RACKPANEL_<KEY>``
beat the file even for options that never read the environment.
"""

from __future__ import annotations

import sys

import pytest
from rackpanel.exporter.options import ExporterSettings
from rackpanel.lcd_writer.options import WriterSettings
from rackpanel.settings import ConfigError, load_args

from rackpanel.cli import build_parser


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


@pytest.fixture
def config(tmp_path):
    def write(text: str):
        path = tmp_path / "service.yml"
        path.write_text(text)
        return str(path)

    return write


def test_the_file_fills_what_no_flag_gives_and_flags_win(config):
    path = config("interval: 3\njolokia: none\nlisten: 127.0.0.1:9600\n")
    settings = load_args(ExporterSettings, parse("exporter", "--config", path, "--interval", "2"))
    assert (settings.interval, settings.jolokia, settings.listen) == (2.0, "none", "127.0.0.1:9600")
    assert settings.cassandra == "127.0.0.1:9042"  # the default


def test_an_in_process_main_argv_is_what_counts_not_sys_argv(config, monkeypatch):
    path = config("interval: 3\n")
    monkeypatch.setattr(sys, "argv", ["rackpanel", "exporter", "--config", path])
    settings = load_args(ExporterSettings, parse("exporter", "--config", path, "--interval", "2"))
    assert settings.interval == 2.0
    monkeypatch.setattr(sys, "argv", ["rackpanel", "exporter", "--interval", "7"])
    assert load_args(ExporterSettings, parse("exporter", "--config", path)).interval == 3.0


def test_an_abbreviated_flag_is_given(config):
    path = config("interval: 3\n")
    exporter = load_args(ExporterSettings, parse("exporter", "--config", path, "--interv", "2"))
    assert exporter.interval == 2.0
    path = config("interval: 3\nrequest-timeout: 1.5\n")
    writer = parse("writer", "--config", path, "--request-t", "0.25", "--interv", "9")
    settings = load_args(WriterSettings, writer)
    assert (settings.request_timeout, settings.interval) == (0.25, 9.0)


def test_only_options_that_declare_it_read_the_environment(config, monkeypatch):
    path = config("interval: 3\n")
    monkeypatch.setenv("RACKPANEL_INTERVAL", "9")
    assert "interval" in ExporterSettings.env_options()
    assert load_args(ExporterSettings, parse("exporter", "--config", path)).interval == 9.0
    flagged = parse("exporter", "--config", path, "--interval", "2")
    assert load_args(ExporterSettings, flagged).interval == 2.0
    # the writer declares no environment variable: RACKPANEL_INTERVAL is not its option
    assert WriterSettings.env_options() == []
    assert load_args(WriterSettings, parse("writer", "--config", path)).interval == 3.0
    assert load_args(WriterSettings, parse("writer")).interval == 5.0


def test_a_list_option_takes_a_yaml_list_or_one_string(config):
    path = config("contact_points: [127.0.0.2, 127.0.0.3]\nreplication: DC1:1\n")
    settings = load_args(WriterSettings, parse("writer", "--config", path))
    assert settings.contact_points == ["127.0.0.2", "127.0.0.3"]
    assert settings.replication == ["DC1:1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("intreval: 1\n", "unknown key 'intreval'"),
        ("interval: eleven\n", "interval: Input should be a valid number"),
        ("log-level: LOUD\n", "log_level: Input should be 'DEBUG'"),
        ("- 1\n", "must be a mapping"),
        ("interval: [1\n", "not valid YAML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(config, text, message):
    path = config(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_args(ExporterSettings, parse("exporter", "--config", path))
    assert str(info.value).startswith(path)


def test_bad_values_name_their_variable_or_file(config, monkeypatch):
    monkeypatch.setenv("RACKPANEL_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match=r"^\$RACKPANEL_TIMEOUT: .*valid number"):
        load_args(ExporterSettings, parse("exporter"))
    with pytest.raises(ConfigError, match=r"token_aware: .*valid boolean"):
        load_args(WriterSettings, parse("writer", "--config", config("token-aware: 3\n")))


def test_help_shows_the_models_defaults_and_variables(capsys):
    with pytest.raises(SystemExit):
        parse("exporter", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "(default 5.0) [$RACKPANEL_INTERVAL]" in text
    assert "==SUPPRESS==" not in text
