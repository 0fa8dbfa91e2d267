"""YAML text for humans: keys in the order written, multi-line strings (PromQL) as blocks."""

from __future__ import annotations

import json

import yaml


class _BlockDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def to_yaml(document: object, header: str = "") -> str:
    body = yaml.dump(
        document, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=4096
    )
    return header + body


def to_json(document: object) -> str:
    return json.dumps(document, indent=2) + "\n"
