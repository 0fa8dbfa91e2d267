"""ALTER KEYSPACE and ALTER TABLE through the real cqlsh 6.2.2, with Cassandra 5.0's texts
(AlterKeyspaceStatement's repair warning, AlterTableStatement's errors), and the repair that
brings existing data to the replicas a replication change added."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cqlsh import piped

RACKPANEL = Path(sys.executable).with_name("rackpanel")


def test_alter_table_adds_drops_and_sets_options(sim, tmp_path):
    out = piped(
        sim,
        tmp_path,
        "CREATE KEYSPACE IF NOT EXISTS alter_ks WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3};\n"
        "DROP TABLE IF EXISTS alter_ks.t;\n"
        "CREATE TABLE alter_ks.t (k int PRIMARY KEY, v int);\n"
        "INSERT INTO alter_ks.t (k, v) VALUES (1, 1);\n"
        "ALTER TABLE alter_ks.t ADD (w text, tags set<text>);\n"
        "ALTER TABLE alter_ks.t DROP v;\n"
        "ALTER TABLE alter_ks.t WITH comment = 'altered' AND gc_grace_seconds = 3600;\n"
        "ALTER TABLE alter_ks.t DROP k;\n"
        "ALTER TABLE alter_ks.t ADD w int;\n"
        "ALTER TABLE alter_ks.t DROP nope;\n"
        "ALTER KEYSPACE nope WITH durable_writes = false;\n"
        "UPDATE alter_ks.t SET w = 'new' WHERE k = 1;\n"
        "SELECT * FROM alter_ks.t;\n"
        "DESCRIBE TABLE alter_ks.t;\n",
    )
    assert 'message="Cannot drop PRIMARY KEY column k"' in out
    assert "message=\"Column with name 'w' already exists\"" in out
    assert 'message="Column nope was not found in table alter_ks.t"' in out
    assert "message=\"Keyspace 'nope' doesn't exist\"" in out
    assert " k | tags | w" in out and " 1 | null | new" in out
    assert "    k int PRIMARY KEY,\n    w text,\n    tags set<text>\n)" in out
    assert "AND comment = 'altered'" in out and "AND gc_grace_seconds = 3600" in out


def test_raising_the_replication_factor_warns_to_repair(sim, tmp_path):
    out = piped(
        sim,
        tmp_path,
        "DROP KEYSPACE IF EXISTS grow_ks;\n"
        "CREATE KEYSPACE grow_ks WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC1': 1};\n"
        "ALTER KEYSPACE grow_ks WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3};\n"
        "DESCRIBE KEYSPACE grow_ks;\n",
    )
    assert "When increasing replication factor you need to run a full (-full) repair" in out
    assert "'DC1': '3', 'DC2': '3'}  AND durable_writes = true;" in out


def count_in_dc2(sim, tmp_path, keyspace: str) -> int:
    out = piped(
        sim, tmp_path, f"CONSISTENCY LOCAL_ONE;\nSELECT count(*) FROM {keyspace}.kv;\n", node=-1
    )
    lines = [line.strip() for line in out.splitlines()]
    return int(lines[lines.index("count") + 2])


def test_data_reaches_new_replicas_only_after_a_repair(sim, tmp_path):
    """RF DC1:1 → DC1:3, DC2:3: DC2's replicas are empty (Cassandra streams nothing on ALTER)
    until `rackpanel repair` merges every partition onto all of its current replicas."""
    inserts = "".join(f"INSERT INTO repair_ks.kv (k, v) VALUES ({i}, {i});\n" for i in range(20))
    piped(
        sim,
        tmp_path,
        "DROP KEYSPACE IF EXISTS repair_ks;\n"
        "CREATE KEYSPACE repair_ks WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC1': 1};\n"
        "CREATE TABLE repair_ks.kv (k int PRIMARY KEY, v int);\n" + inserts + "ALTER KEYSPACE "
        "repair_ks WITH replication = {'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3};\n",
    )
    assert count_in_dc2(sim, tmp_path, "repair_ks") == 0
    admin = sim.admin_url.removeprefix("http://")
    result = subprocess.run(
        [str(RACKPANEL), "repair", "repair_ks", "--admin", admin],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "repaired repair_ks: 20 partitions, 100 replica copies streamed" in result.stdout
    assert count_in_dc2(sim, tmp_path, "repair_ks") == 20
