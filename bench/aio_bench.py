#!/usr/bin/env python3
"""All-in-one converge benchmark: a cold `make aio` and the idempotent rerun, each with its
time by play and its 15 slowest tasks.

Run as root from the repository root: `.venv/bin/python bench/aio_bench.py`. It needs the lab
and the aio's host names (nothing else may run an aio meanwhile): it removes any aio first
(`make aio-down`), converges a new one (cold: fresh host, packages from the lab's apt proxy, warm
when an earlier run filled it), runs `strata-ansible setup-everything.yml` again (nothing to
change), and removes the aio at the end unless `--keep`. Prints figures only; nothing here
passes or fails on time.

`--logs RUN_DIR [RUN_DIR ...]` prints the same report for runs already made (strata-ansible's
run directories, `$STRATA_CONFIG_DIR/logs/<run>`), without touching the lab.

`--strategies linear,mitogen_linear` reruns once per strategy (ANSIBLE_STRATEGY), `--rounds N`
times in turn, and prints each rerun's wall time, the controller's CPU time and the load, so
that the strategies are compared under the same conditions. `--existing` uses the aio that is up
(no cold converge, and it stays up).

The figures come from ansible-runner's events in each run directory (job_events/*.json):
  play        wall time from the play's start to the next play's (or the run's end)
  task        wall time from the task's start to the next task's: all hosts together, handlers
              and includes counted where they run
  overhead    wall time of the run divided by its tasks (what each task costs on average)
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import load_note  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parent.parent
AIO_CONFIG_DIR = Path(os.environ.get("AIO_CONFIG_DIR", "/etc/strata-aio"))
SLOWEST = 15


def read_events(run_dir):
    """The run's events, in order."""
    events = []
    for path in Path(run_dir, "job_events").glob("*.json"):
        try:
            events.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # a file being written when the run was killed
    return sorted(events, key=lambda e: e.get("counter", 0))


def _at(event):
    return datetime.fromisoformat(event["created"]).timestamp()


def report(events):
    """{'wall', 'plays': [(name, s)], 'tasks': [(s, play, task)], 'count', 'changed', 'failed'}
    from a run's events (pure: unit-tested)."""
    marks = [
        e
        for e in events
        if e.get("event")
        in ("playbook_on_play_start", "playbook_on_task_start", "playbook_on_stats")
    ]
    if not events:
        return {"wall": 0.0, "plays": [], "tasks": [], "count": 0, "changed": {}, "failed": {}}
    end = _at(events[-1])
    plays, tasks = [], []
    for i, mark in enumerate(marks):
        following = marks[i + 1 :]
        if mark["event"] == "playbook_on_play_start":
            nxt = next((m for m in following if m["event"] != "playbook_on_task_start"), None)
            plays.append(
                (mark["event_data"].get("play", ""), (_at(nxt) if nxt else end) - _at(mark))
            )
        elif mark["event"] == "playbook_on_task_start":
            nxt = following[0] if following else None
            data = mark["event_data"]
            role = data.get("role")
            name = f"{role} : {data.get('task', '')}" if role else data.get("task", "")
            tasks.append(((_at(nxt) if nxt else end) - _at(mark), data.get("play", ""), name))
    stats = next((e["event_data"] for e in events if e.get("event") == "playbook_on_stats"), {})
    return {
        "wall": end - _at(events[0]),
        "plays": plays,
        "tasks": sorted(tasks, key=lambda t: -t[0]),  # ties: in run order
        "count": len(tasks),
        "changed": stats.get("changed", {}),
        "failed": {**stats.get("failures", {}), **stats.get("dark", {})},
    }


def print_report(title, run_dir):
    figures = report(read_events(run_dir))
    count = figures["count"]
    print(f"== {title}: {run_dir}")
    print(
        f"  wall {figures['wall']:7.1f} s   tasks {count}   overhead "
        f"{(figures['wall'] / count if count else 0):.2f} s/task   changed "
        f"{sum(figures['changed'].values())}   failed {sum(figures['failed'].values())}"
    )
    print("  by play:")
    for name, seconds in figures["plays"]:
        print(f"    {seconds:7.1f} s  {name}")
    print(f"  the {SLOWEST} slowest tasks:")
    for seconds, play, task in figures["tasks"][:SLOWEST]:
        print(f"    {seconds:7.1f} s  {task}  ({play})")


def make(target):
    started = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, check=False)
    return proc.returncode, time.monotonic() - started


def rerun(strategy=None):
    """strata-ansible setup-everything.yml on the aio: (rc, wall s, controller CPU s)."""
    env = {**os.environ, "STRATA_CONFIG_DIR": str(AIO_CONFIG_DIR)}
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/strata-ansible"), "setup-everything.yml"],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, time.monotonic() - started, cpu


def compare_strategies(strategies, rounds):
    """Reruns with each strategy in turn; 0 when every one succeeded with nothing changed."""
    status = 0
    rows = []
    for round_ in range(1, rounds + 1):
        for strategy in strategies:
            note = load_note()
            rc, wall, cpu = rerun(strategy)
            figures = report(read_events(newest_run()))
            changed = sum(figures["changed"].values())
            status |= rc != 0 or changed != 0
            rows.append((round_, strategy, rc, wall, cpu, figures["count"], changed, note))
            print(
                f"round {round_} {strategy}: rc={rc} wall {wall:.1f} s, controller CPU "
                f"{cpu:.1f} s, {figures['count']} tasks ({wall / max(figures['count'], 1):.2f}"
                f" s/task), changed {changed}; at the start: {note}",
                flush=True,
            )
    for strategy in strategies:
        walls = [r[3] for r in rows if r[1] == strategy]
        cpus = [r[4] for r in rows if r[1] == strategy]
        print(
            f"{strategy}: wall {min(walls):.1f}-{max(walls):.1f} s, controller CPU "
            f"{min(cpus):.1f}-{max(cpus):.1f} s over {len(walls)} reruns"
        )
    return 1 if status else 0


def newest_run():
    runs = [p for p in (AIO_CONFIG_DIR / "logs").glob("*-setup-everything") if p.is_dir()]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", nargs="+", metavar="RUN_DIR", help="report runs already made")
    parser.add_argument("--keep", action="store_true", help="leave the aio up at the end")
    parser.add_argument("--existing", action="store_true", help="use the aio that is up")
    parser.add_argument(
        "--strategies", help="comma-separated ANSIBLE_STRATEGY values to rerun with, in turn"
    )
    parser.add_argument("--rounds", type=int, default=1, help="reruns per strategy")
    args = parser.parse_args(argv)
    if args.logs:
        for run_dir in args.logs:
            print_report("run", run_dir)
        return 0
    if os.geteuid() != 0:
        print("aio_bench: run as root (it drives the lab)", file=sys.stderr)
        return 2
    strategies = [s for s in (args.strategies or "").split(",") if s]
    if args.existing:
        if not strategies:
            print("aio_bench: --existing needs --strategies", file=sys.stderr)
            return 2
        return compare_strategies(strategies, args.rounds)
    status = 0
    try:
        rc, _ = make("aio-down")
        if rc != 0:
            return 1
        rc, seconds = make("aio")
        print(f"make aio (cold): rc={rc}, {seconds:.1f} s (config, lab up, converge)")
        cold = newest_run()
        if rc != 0 or cold is None:
            return 1
        rc, seconds, cpu = rerun()
        print(f"rerun: rc={rc}, {seconds:.1f} s, controller CPU {cpu:.1f} s")
        again = newest_run()
        print_report("cold converge", cold)
        if again != cold:
            print_report("idempotent rerun", again)
        status = 0 if rc == 0 else 1
        if strategies:
            status |= compare_strategies(strategies, args.rounds)
    finally:
        if not args.keep:
            make("aio-down")
    return status


if __name__ == "__main__":
    sys.exit(main())
