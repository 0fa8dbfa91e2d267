"""The consistency levels the keypad offers, per operation.

Only levels that make sense for the operation are offered: ANY is a write-only level, and
SERIAL / LOCAL_SERIAL apply to conditional (Paxos) statements only, so a plain INSERT or
SELECT never offers them. With ``--conditional`` the writes are ``INSERT ... IF NOT EXISTS``
and the write menu offers exactly SERIAL and LOCAL_SERIAL: the Paxos round's level, with the
commit at QUORUM or LOCAL_QUORUM to match (:data:`COMMIT_FOR_SERIAL`). Names are
Cassandra's (``LOCAL_QUORUM``); the driver's numeric codes come from
``cassandra.ConsistencyLevel`` at request time.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

Operation = Literal["write", "read"]
OPERATIONS: tuple[Operation, ...] = ("write", "read")

READ_LEVELS: tuple[str, ...] = (
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_ONE",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
)
# Writes take every read level, and ANY (a hint counts as the write) before them.
WRITE_LEVELS: tuple[str, ...] = ("ANY", *READ_LEVELS)
SERIAL_LEVELS: tuple[str, ...] = ("SERIAL", "LOCAL_SERIAL")

OFFERED: dict[Operation, tuple[str, ...]] = {"write": WRITE_LEVELS, "read": READ_LEVELS}
CONDITIONAL_OFFERED: dict[Operation, tuple[str, ...]] = {
    "write": SERIAL_LEVELS,
    "read": READ_LEVELS,
}
COMMIT_FOR_SERIAL = {"SERIAL": "QUORUM", "LOCAL_SERIAL": "LOCAL_QUORUM"}


def offered(operation: Operation, conditional: bool = False) -> tuple[str, ...]:
    return (CONDITIONAL_OFFERED if conditional else OFFERED)[operation]


def check_level(operation: Operation, name: str, conditional: bool = False) -> str:
    """``name`` upper-cased if the keypad offers it for ``operation``, else a ValueError."""
    level = name.strip().upper()
    levels = offered(operation, conditional)
    if level not in levels:
        why = ""
        if operation == "write" and conditional:
            why = " (--conditional writes take SERIAL or LOCAL_SERIAL)"
        elif level in SERIAL_LEVELS:
            why = " (SERIAL levels apply to conditional statements only)"
        elif level == "ANY":
            why = " (ANY is a write-only level)"
        choices = ", ".join(levels)
        raise ValueError(f"{name!r} is not a {operation} consistency level{why}; use {choices}")
    return level


@cache
def driver_level(name: str) -> int:
    """The cassandra-driver's code for a level name (imports the driver lazily)."""
    from cassandra import ConsistencyLevel

    return int(ConsistencyLevel.name_to_value[name])
