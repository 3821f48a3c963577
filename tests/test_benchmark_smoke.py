"""The sync benchmark (benchmarks/bench_sync.py) still runs end to end: a tiny calendar on a real
Radicale, the real CLI in subprocesses, the table and the targets printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sync.py"


def test_benchmark_prints_its_table_and_targets(tmp_path: Path) -> None:
    dump = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--sizes", "200", "--json", str(dump)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for label in (
        "floor: REPORT per calendar",
        "first sync",
        "no-op sync #1",
        "no-op sync #2",
        "one interview moved",
    ):
        assert any(line.split()[0] == "200" and label in line for line in lines if line.strip()), label
    assert "Targets (issue 6):" in result.stdout
    verdicts = [line for line in lines if line[:4] in ("PASS", "FAIL", "n/a ")]
    assert len(verdicts) == 7
    runs = json.loads(dump.read_text())["sizes"][0]["runs"]
    first = runs["first"]
    assert first["exit_code"] == 0
    # The first sync of 4 interviews (2 in the window) writes something, and the floor replays it.
    assert first["traffic"]["requests"].get("PUT", 0) > 0
    assert runs["floor_first"]["traffic"]["requests"]["PUT"] == first["traffic"]["requests"]["PUT"]
    assert runs["floor_first"]["failed_replays"] == 0
