"""bench/aio_bench.py's report: plays and tasks timed from ansible-runner's events."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "aio_bench.py"
spec = importlib.util.spec_from_file_location("aio_bench", BENCH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def event(counter, second, kind, **data):
    return {
        "counter": counter,
        "created": f"2026-12-01T10:00:{second:02d}.000000+00:00",
        "event": kind,
        "event_data": data,
    }


EVENTS = [
    event(1, 0, "playbook_on_start"),
    event(2, 1, "playbook_on_play_start", play="hosts"),
    event(3, 1, "playbook_on_task_start", play="hosts", task="Gathering Facts"),
    event(4, 4, "playbook_on_task_start", play="hosts", task="Install", role="common"),
    event(5, 5, "runner_on_ok", play="hosts", task="Install", host="h1"),
    event(6, 11, "playbook_on_play_start", play="db"),
    event(7, 12, "playbook_on_task_start", play="db", task="Start", role="galera_server"),
    event(8, 20, "playbook_on_stats", changed={"h1": 2}, failures={}, dark={"h2": 1}),
]


def test_plays_and_tasks_are_timed_to_the_next_mark():
    figures = bench.report(EVENTS)
    assert figures["wall"] == 20.0
    assert figures["plays"] == [("hosts", 10.0), ("db", 9.0)]
    # A task lasts until the next task or play starts, or the run ends.
    assert figures["tasks"] == [
        (8.0, "db", "galera_server : Start"),
        (7.0, "hosts", "common : Install"),
        (3.0, "hosts", "Gathering Facts"),
    ]
    assert figures["count"] == 3
    assert figures["changed"] == {"h1": 2} and figures["failed"] == {"h2": 1}


def test_an_empty_run_reports_nothing():
    assert bench.report([])["count"] == 0


def test_run_dirs_are_read_in_event_order(tmp_path):
    (tmp_path / "job_events").mkdir()
    for e in reversed(EVENTS):
        (tmp_path / "job_events" / f"{e['counter']}-x.json").write_text(bench.json.dumps(e))
    (tmp_path / "job_events" / "9-partial.json").write_text("{")
    assert [e["counter"] for e in bench.read_events(tmp_path)] == [1, 2, 3, 4, 5, 6, 7, 8]
