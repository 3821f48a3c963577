"""The sync benchmark (benchmarks/bench_sync.py) still runs end to end: two tiny calendars on a real
Radicale, the real CLI in subprocesses, the latency proxy, the table and the targets printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from counting_proxy import union_seconds  # noqa: E402

LATENCY_MS = 5


def test_union_of_busy_intervals_counts_overlaps_once() -> None:
    assert union_seconds([]) == 0
    assert union_seconds([(5.0, 6.0), (0.0, 2.0), (1.0, 3.0), (1.5, 2.5)]) == 4.0
    assert union_seconds([(0.0, 10.0), (2.0, 3.0)]) == 10.0


def test_benchmark_prints_its_table_and_targets(tmp_path: Path) -> None:
    dump = tmp_path / "bench.json"
    command = [sys.executable, str(BENCHMARKS / "bench_sync.py"), "--sizes", "60,120"]
    command += ["--separate-reminders", "--latency", str(LATENCY_MS), "--connections", "2"]
    command += ["--json", str(dump)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)  # a hang guard only
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for label in (
        "floor: sync-collection per calendar",
        "floor: window REPORT per calendar",
        "first sync, connections = 2",
        "no-op sync #1",
        "no-op sync #2 (median of 3)",
        "one interview moved",
        "first sync, connections = 1",
        f"first sync, {LATENCY_MS} ms latency",
        f"first sync, connections = 1, {LATENCY_MS} ms latency",
    ):
        for size in ("60", "120"):
            assert any(line.split()[0] == size and label in line for line in lines if line.strip()), label
    assert "Targets (issues 6 and 12):" in result.stdout
    verdicts = [line for line in lines if line[:4] in ("PASS", "FAIL", "n/a ")]
    assert len(verdicts) == 14
    # The no-op's imports are probed at each size, and nothing heavy is among them.
    for size in ("60", "120"):
        assert any(line.startswith(f"PASS  no-op sync at {size} imports") for line in verdicts), size
    assert any(line.startswith("PASS  the run right after a writing sync") for line in verdicts)
    # Two sizes and a latency run: every target is judged, none is n/a.
    assert not [line for line in verdicts if line.startswith("n/a")]
    assert any("wall time" in line for line in verdicts)
    assert any("client time" in line for line in verdicts)
    assert any(f"{LATENCY_MS} ms latency" in line for line in verdicts)

    assert "connections: 2" in result.stdout
    runs = json.loads(dump.read_text())["sizes"][0]["runs"]
    first = runs["first"]
    assert first["exit_code"] == 0
    # The first sync of 4 interviews writes something, and the floor replays it.
    assert first["traffic"]["requests"].get("PUT", 0) > 0
    assert runs["floor_first"]["traffic"]["requests"]["PUT"] == first["traffic"]["requests"]["PUT"]
    assert runs["floor_first"]["failed_replays"] == 0
    # The no-op floor: one sync-collection REPORT per calendar, accepted, answering almost nothing.
    floor_sync = runs["floor_sync"]
    assert floor_sync["traffic"]["requests"] == {"REPORT": 2}
    assert floor_sync["failed_replays"] == 0
    assert (
        floor_sync["traffic"]["bytes_received"]["REPORT"]
        < runs["floor_noop"]["traffic"]["bytes_received"]["REPORT"]
    )
    # Server time is part of the wall time, and the rest is the client's.
    for run in runs.values():
        assert 0 < run["traffic"]["server_seconds"] <= run["traffic"]["wait_seconds"] < run["seconds"]
        assert run["client_seconds"] > 0
    # Over one connection, requests never overlap: each one waited the whole simulated latency.
    sequential = runs["sequential_latency"]["traffic"]
    assert sequential["wait_seconds"] >= sum(sequential["requests"].values()) * LATENCY_MS / 1000
    assert sequential["wait_seconds"] - sequential["server_seconds"] >= 0.9 * (
        sum(sequential["requests"].values()) * LATENCY_MS / 1000
    )


def test_google_benchmark_prints_its_table_and_targets(tmp_path: Path) -> None:
    dump = tmp_path / "bench.json"
    command = [sys.executable, str(BENCHMARKS / "bench_sync.py"), "--backend", "google", "--sizes", "100"]
    command += ["--latency", str(LATENCY_MS), "--json", str(dump)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)  # a hang guard only
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for label in (
        "floor: change query (syncToken)",
        "floor: window listing",
        "floor: listing + first sync's batches",
        "first sync",
        "no-op sync #1 (right after it)",
        "no-op sync #2 (median of 3)",
        "one interview moved",
        "first sync, batch = false",
        f"first sync, {LATENCY_MS} ms latency",
        f"first sync, batch = false, {LATENCY_MS} ms latency",
        f"floor: listing + batches, {LATENCY_MS} ms latency",
    ):
        assert any(line.split()[:1] == ["100"] and label in line for line in lines), label
    assert "Targets (issue 12, Google):" in result.stdout
    verdicts = [line for line in lines if line[:4] in ("PASS", "FAIL", "n/a ")]
    assert len(verdicts) == 8 and not [line for line in verdicts if line.startswith("n/a")]
    # Request counts do not depend on the machine's load: these targets must hold.
    for target in ("right after a writing sync is 1 request", "a no-op sync is 1 request", "write requests"):
        passed = any(line.startswith("PASS") and target in line for line in verdicts)
        assert passed, f"{target}\n{result.stdout}"
    runs = json.loads(dump.read_text())["sizes"][0]["runs"]
    assert runs["first"]["exit_code"] == 0 and runs["sequential"]["exit_code"] == 0
    # Batched: the writes went as POSTs to the batch endpoint; unbatched: one request per write.
    assert runs["first"]["traffic"]["requests"]["POST"] < runs["sequential"]["traffic"]["requests"]["POST"]
    assert runs["floor_first"]["failed_replays"] == 0
    assert runs["noop2"]["traffic"]["requests"] == {"GET": 1}


def test_microsoft_benchmark_prints_its_table_and_targets(tmp_path: Path) -> None:
    dump = tmp_path / "bench.json"
    command = [sys.executable, str(BENCHMARKS / "bench_sync.py"), "--backend", "microsoft", "--sizes", "100"]
    command += ["--latency", str(LATENCY_MS), "--json", str(dump)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)  # a hang guard only
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for label in (
        "floor: delta check (deltatoken)",
        "floor: window listing",
        "floor: listing + writes in $batch of 20",
        "first sync",
        "no-op sync #1 (right after it)",
        "no-op sync #2 (median of 3)",
        "one interview moved",
        f"first sync, {LATENCY_MS} ms latency",
        f"floor: listing + $batch writes, {LATENCY_MS} ms latency",
    ):
        assert any(line.split()[:1] == ["100"] and label in line for line in lines), label
    assert "Targets (issue 12, Microsoft):" in result.stdout
    verdicts = [line for line in lines if line[:4] in ("PASS", "FAIL", "n/a ")]
    assert len(verdicts) == 8 and not [line for line in verdicts if line.startswith("n/a")]
    # These counts do not depend on the machine's load (how many writes share a $batch does: Graph's
    # batches gather the writes that threads submit within a few milliseconds). A no-op loads no msal.
    for target in ("right after a writing sync is 1 request", "a no-op sync is 1 request", "imports"):
        passed = any(line.startswith("PASS") and target in line for line in verdicts)
        assert passed, f"{target}\n{result.stdout}"
    runs = json.loads(dump.read_text())["sizes"][0]["runs"]
    assert all(run["exit_code"] == 0 for run in runs.values())
    assert runs["floor_first"]["failed_replays"] == 0
    # The floor's writes went as $batch POSTs; a no-op is the one delta GET.
    assert runs["floor_first"]["traffic"]["requests"]["POST"] >= 1
    assert runs["noop2"]["traffic"]["requests"] == {"GET": 1}
