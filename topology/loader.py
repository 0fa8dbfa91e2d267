"""Load an inventory file: YAML → typed :class:`Inventory`, or one error listing every problem.

Loading never half-succeeds: either the whole file is valid and a frozen model comes back, or
:class:`InventoryError` is raised with one line per problem, each naming the file and the field.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rackpanel.topology.model import Inventory
from rackpanel.topology.validate import problems

DEFAULT_INVENTORY = "inventory.yml"
ENV_INVENTORY = "RACKPANEL_INVENTORY"
# Limits checked before the YAML is parsed, so a careless or hostile file fails at once with a
# one-screen message instead of minutes of parsing, a RecursionError or a MemoryError. The
# demo inventory is 2 KiB and 6 levels deep; a 1,000-node inventory is about 100 KiB.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 20
MAX_SHOWN_PROBLEMS = 20


class InventoryError(ValueError):
    """The inventory file is unreadable or invalid; ``problems`` lists every fault found."""

    def __init__(self, path: str | os.PathLike[str], problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        shown = [f"  - {p}" for p in problems[:MAX_SHOWN_PROBLEMS]]
        if len(problems) > MAX_SHOWN_PROBLEMS:
            shown.append(f"  … and {len(problems) - MAX_SHOWN_PROBLEMS} more")
        lines = "\n".join(shown)
        super().__init__(f"{self.path}: invalid inventory ({len(problems)} problem(s)):\n{lines}")


# libyaml's C parser when PyYAML was built with it (events only; no objects are built)
_ParseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_ParseLoader):  # type: ignore[misc,valid-type]
    """A SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a mapping key must be a plain value, not a list or mapping",
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _field_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """``('datacenters', 0, 'racks', 1)`` → ``datacenters.DC1.racks.RAC2`` (names, not indexes)."""
    parts: list[str] = []
    cursor = raw
    for item in loc:
        if isinstance(item, int) and isinstance(cursor, list) and 0 <= item < len(cursor):
            cursor = cursor[item]
            name = cursor.get("name") if isinstance(cursor, dict) else None
            parts.append(str(name) if isinstance(name, str) else f"[{item}]")
            continue
        parts.append(str(item))
        cursor = cursor.get(item) if isinstance(cursor, dict) else None
    return ".".join(parts) or "(top level)"


def _describe(raw: Any, error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        where = _field_path(raw, loc[:-1])
        return f"{where}: unknown key {loc[-1]!r}"
    if error["type"] == "missing":
        return f"{_field_path(raw, loc)}: required field is missing"
    value = error.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
    return f"{_field_path(raw, loc)}: {error['msg']}{shown}"


def parse_inventory(raw: Any, source: str = "<inventory>") -> Inventory:
    """Validate already-parsed YAML data; raises :class:`InventoryError` naming ``source``."""
    if not isinstance(raw, dict):
        raise InventoryError(source, ["(top level): the inventory must be a mapping"])
    try:
        inv = Inventory.model_validate(raw, strict=False)
    except ValidationError as exc:
        raise InventoryError(source, [_describe(raw, e) for e in exc.errors()]) from None
    found = problems(inv)
    if found:
        raise InventoryError(source, found)
    return inv


def load_inventory(path: str | os.PathLike[str] | None = None) -> Inventory:
    """Load and validate an inventory file (default: ``$RACKPANEL_INVENTORY`` or inventory.yml)."""
    target = Path(path or os.environ.get(ENV_INVENTORY) or DEFAULT_INVENTORY)
    text = _read_text(target)
    try:
        _check_shape(text)
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, yaml.reader.ReaderError):  # a control character: no mark of its own
            where = f"line {text[: exc.position].count(chr(10)) + 1}: "
            problem = f"the control character {chr(exc.character)!r} is not allowed"
        raise InventoryError(target, [f"{where}not valid YAML: {problem}"]) from None
    return parse_inventory(raw, str(target))


def _read_text(target: Path) -> str:
    """The file as text, refused before reading when it is not a regular file or too big."""
    try:
        with open(target, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InventoryError(target, ["not a regular file (a device, a pipe or a folder)"])
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InventoryError(target, [f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise InventoryError(
            target, [f"the file is over {MAX_FILE_BYTES // 1024} KiB; an inventory is far smaller"]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InventoryError(
            target, [f"line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); save it as UTF-8"]
        ) from None


def _marked(event: yaml.Event, problem: str) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=problem, problem_mark=event.start_mark)


def _check_shape(text: str) -> None:
    """Refuse, from the parser's events alone, nesting deeper than MAX_DEPTH and aliases.

    Aliases (``*name``) are refused because a few of them, nested, expand into billions of
    values (the "billion laughs"); an inventory has no use for them."""
    depth = 0
    for event in yaml.parse(text, Loader=_ParseLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _marked(event, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            raise _marked(event, "aliases (*name) are not accepted in an inventory")


def dump_inventory(inv: Inventory) -> str:
    """The inventory as YAML with every default filled in (round-trips through the loader)."""
    data = inv.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
