"""`--config FILE` layering for long-running services."""

from __future__ import annotations

import argparse

import pytest
from rackpanel.settings import ConfigError, add_config_argument, apply_config, env_default


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_config_argument(p)
    p.add_argument("--port", type=int, default=env_default("port", 9500))
    p.add_argument("--mode", choices=["a", "b"], default="a")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--hosts", nargs="+", default=["127.0.0.1"])
    return p


def test_file_fills_defaults_and_flags_win(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text("port: 9600\nmode: b\nverbose: true\nhosts: [127.0.0.2, 127.0.0.3]\n")
    argv = ["--config", str(cfg), "--port", "9700"]
    args = apply_config(parser(), parser().parse_args(argv), argv)
    assert (args.port, args.mode, args.verbose) == (9700, "b", True)
    assert args.hosts == ["127.0.0.2", "127.0.0.3"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot: 1\n", "unknown key 'prot'"),
        ("port: eleven\n", "port: invalid value 'eleven'"),
        ("mode: c\n", "mode: 'c' is not one of a, b"),
        ("verbose: 3\n", "verbose: expected true or false"),
        ("- 1\n", "must be a mapping"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, message):
    cfg = tmp_path / "bad.yml"
    cfg.write_text(text)
    argv = ["--config", str(cfg)]
    with pytest.raises(ConfigError, match=message) as info:
        apply_config(parser(), parser().parse_args(argv), argv)
    assert str(info.value).startswith(str(cfg))


def test_environment_beats_the_config_file_and_flags_beat_both(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yml"
    cfg.write_text("port: 9600\nmode: b\n")
    monkeypatch.setenv("RACKPANEL_PORT", "9800")
    argv = ["--config", str(cfg)]
    args = apply_config(parser(), parser().parse_args(argv), argv)
    assert (int(args.port), args.mode) == (9800, "b")
    argv = ["--config", str(cfg), "--port", "9700"]
    assert apply_config(parser(), parser().parse_args(argv), argv).port == 9700
