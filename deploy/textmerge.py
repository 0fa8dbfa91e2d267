"""Edit text files the project shares with their owners, touching only what it manages.

Two edits: a marked block (``# BEGIN rackpanel`` … ``# END rackpanel``) inserted or replaced in
files such as /etc/hosts or cassandra-env.sh, and top-level keys of a YAML file (cassandra.yaml)
replaced in place, so every other line — keys, comments, blank lines — stays byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

BEGIN = "# BEGIN rackpanel managed block (do not edit by hand)"
END = "# END rackpanel managed block"


class MergeError(ValueError):
    """The installed file cannot be merged safely (e.g. it is not valid YAML)."""


def with_block(current: str | None, body: str, *, at_top: bool = False) -> str:
    """``current`` with the managed block holding ``body`` (replaced if present, else added).

    ``at_top`` puts a new block after a leading ``#!`` line instead of at the end (shell files
    whose later lines read the variables the block sets).
    """
    block = f"{BEGIN}\n{body.rstrip()}\n{END}\n"
    text = current or ""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == END]
    if starts and ends and ends[0] > starts[0]:
        return "".join(lines[: starts[0]]) + block + "".join(lines[ends[0] + 1 :])
    if starts or ends:
        raise MergeError("a rackpanel managed block marker is unmatched")
    if at_top:
        head = 1 if lines and lines[0].startswith("#!") else 0
        return "".join(lines[:head]) + block + "".join(lines[head:])
    if text and not text.endswith("\n"):
        text += "\n"
    return text + block


def _top_level_spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """For each top-level ``key:`` line, the line range of its value (to the next top-level line).

    Trailing blank and comment lines are left out of a span, so the comments that introduce the
    next key stay where they are.
    """
    starts: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        if line[:1] in ("", " ", "\t", "#", "\n", "-") or ":" not in line:
            continue
        starts.append((line.split(":", 1)[0].strip(), index))
    spans: dict[str, tuple[int, int]] = {}
    for position, (key, start) in enumerate(starts):
        end = starts[position + 1][1] if position + 1 < len(starts) else len(lines)
        while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        spans[key] = (start, end)
    return spans


def _dump_key(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False)


def merge_yaml_keys(current: str, owned: Mapping[str, Any], source: str) -> str:
    """``current`` YAML with each key of ``owned`` set at top level; every other line untouched.

    The result is parsed back and compared with the intent: owned keys equal, every other key
    equal to what the installed file had. ``source`` names the file in errors.
    """
    try:
        before = yaml.safe_load(current) or {}
    except yaml.YAMLError as exc:
        raise MergeError(f"{source}: the installed file is not valid YAML: {exc}") from None
    if not isinstance(before, dict):
        raise MergeError(f"{source}: the installed file is not a YAML mapping")
    lines = current.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    spans = _top_level_spans(lines)
    replacements: dict[int, tuple[int, str]] = {}
    appended: list[str] = []
    for key, value in owned.items():
        if key in spans:
            start, end = spans[key]
            replacements[start] = (end, _dump_key(key, value))
        else:
            appended.append(_dump_key(key, value))
    out: list[str] = []
    index = 0
    while index < len(lines):
        if index in replacements:
            end, text = replacements[index]
            out.append(text)
            index = end
        else:
            out.append(lines[index])
            index += 1
    if appended:
        out.append("\n# rackpanel: keys the inventory sets that the installed file lacked\n")
        out.extend(appended)
    merged = "".join(out)
    after = yaml.safe_load(merged)
    expected = {**before, **owned}
    if after != expected:
        wrong = sorted(k for k in set(after) | set(expected) if after.get(k) != expected.get(k))
        raise MergeError(f"{source}: merging would change unexpected keys: {', '.join(wrong)}")
    return merged
