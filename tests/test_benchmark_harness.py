"""The benchmarks' shared results writer: stamped, and never half-written."""

from __future__ import annotations

import json

import pytest

from benchmarks import harness


def test_results_are_stamped_with_time_and_machine_and_keep_their_own(tmp_path, capsys):
    path = harness.write_results(tmp_path / "deep" / "bench.json", {"runs": [1], "machine": "x"})
    written = json.loads(path.read_text())
    assert written["runs"] == [1] and written["machine"] == "x"  # a benchmark's own wins
    assert written["measured_at"].endswith("+00:00")
    assert f"written {path}" in capsys.readouterr().out
    assert set(harness.machine()) >= {"cpus", "python", "load_average_1m_at_write"}


def test_a_failed_write_leaves_the_previous_results(tmp_path):
    path = harness.write_results(tmp_path / "bench.json", {"runs": [1]})
    with pytest.raises(TypeError):
        harness.write_results(path, {"runs": [object()]})  # not JSON: fails half-way
    assert json.loads(path.read_text())["runs"] == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # no debris either
