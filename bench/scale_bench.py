#!/usr/bin/env python3
"""Scale of one Ansible run: the controller's cost of a no-op `setup-hosts.yml` on 5 to 40 hosts.

Creates 40 small lab hosts (scale-01 ... scale-40: management 172.29.238.1-40, storage
172.29.246.1-40, replication 172.29.250.1-40), converges `playbooks/setup-hosts.yml` on all of
them once (cold: printed, not judged) and once more (it must change nothing), then measures the
no-op converge with `--limit` on the first 5, 10, 20 and 40 hosts, with the forks of ansible.cfg,
and on 40 hosts once more with forks = 40 (does the forks limit cost wall time?) and once through
`strata-ansible --plain` (what ansible-runner's event log adds) and once gathering facts (what
a cold fact cache costs: `gathering = implicit`). For each run:
  controller CPU-s  user + system CPU of ansible-playbook and everything it ran (RUSAGE_CHILDREN),
                    plus the CPU the ssh ControlPersist masters spent meanwhile (they detach from
                    the process tree, so they are read from /proc)
  host-tasks        tasks run on one host, summed over the hosts (ok + skipped + failed +
                    unreachable of the recap; a loop counts once)
  hosts CPU-s       CPU the lab hosts' containers spent meanwhile (their cpuacct cgroups): it
                    runs on the same cores, so it is part of the wall time here
  wall              seconds from start to end of ansible-playbook
and prints a table, the growth from 10 to 40 hosts and a fit of controller CPU as a fixed part
plus a part per host-task.

Targets (issue 17): controller CPU per host-task roughly flat, at 40 hosts at most 1.25x the
figure at 10 hosts; the 40-host no-op run under 2x the wall time of the 10-host one (with the
forks of ansible.cfg); every no-op run changed=0, failed=0.

The machine may be shared, so each size is sampled in turn (all sizes see the same load) and the
best of the samples counts; CPU time is judged rather than wall time where the target allows (time
spent waiting for a CPU is not Ansible's cost). Wall time is printed with the load average; it only
means what it says when the load is below the number of cores. The fact cache is warm (gathering
= smart, as a rerun within the cache's timeout sees it) and the ssh masters persist between runs.

`--containers N` runs the 40 inventory hosts on N lab hosts instead (host K is another name of
lab host (K - 1) % N + 1, with its addresses): Ansible still sees, connects to (one ssh master per
lab host, its sessions multiplexed) and runs every task on 40 hosts, so the controller's cost is
the same; the lab hosts' work is the same too, on fewer containers. For machines that cannot boot
40 containers: systemd in each takes ~8 inotify instances, and fs.inotify.max_user_instances
(128 by default) is shared by every root process of the machine, so about 15 lab hosts fit.

The hosts are always removed at the end (`strata lab down -i` of this benchmark's inventory), on
Ctrl-C too; `--down` removes them after a run that was killed outright.
Exit status 1 when a target is missed. Run as root: .venv/bin/python bench/scale_bench.py
"""

import argparse
import configparser
import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import load_note, report  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
STRATA = VENV_BIN / "strata"
PLAYBOOK = ROOT / "playbooks" / "setup-hosts.yml"
# How to reach lab hosts, the lab's networks, its apt proxy and clock (shared with molecule).
LAB_VARS_FILE = ROOT / "molecule" / "_shared" / "group_vars" / "all.yml"
LAB_VARS = (
    "management_cidr",
    "storage_cidr",
    "replication_cidr",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "ansible_ssh_common_args",
    "common_apt_proxy",
    "common_time_sync_adjust_clock",
    "common_ntp_servers",
)
# The addresses this benchmark may use: 172.29.238.1-40 and the same last octet on the other
# networks; nothing else on the lab uses them.
MAX_HOSTS = 40
SIZES = (5, 10, 20, 40)
BASE = 10  # the size growth is judged against
LIMIT_PER_HOST_TASK = 1.25  # CPU per host-task at 40 hosts vs 10
LIMIT_WALL = 2.0  # wall time at 40 hosts vs 10
SAMPLES = 2
ANSIBLE_PLAYBOOK = "ansible-playbook"
STRATA_ANSIBLE = "strata-ansible"
FACTS_GATHERED = "facts gathered"  # ansible-playbook, gathering = implicit
CGROUP = Path("/sys/fs/cgroup/cpuacct")
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def host_name(number):
    return f"scale-{number:02d}"


def container_of(number, containers):
    """The lab host (container) that inventory host ``number`` runs on."""
    return (number - 1) % containers + 1


def inventory_text(count, containers=None):
    """The benchmark's inventory: ``count`` hosts and the lab's vars (pure). With fewer
    ``containers`` than hosts, host N is another name of container (N - 1) % containers + 1:
    same addresses, so the same settings, one more host to Ansible."""
    containers = containers or count
    shared = yaml.safe_load(LAB_VARS_FILE.read_text())
    variables = {key: shared[key] for key in LAB_VARS}
    # The hosts' plain interfaces become the bridges' ports (as in the hosts scenario).
    variables["host_networking_ports"] = {
        "br-mgmt": ["eth0"],
        "br-storage": ["eth1"],
        "br-repl": ["eth2"],
    }
    hosts = {}
    for n in range(1, count + 1):
        c = container_of(n, containers)
        hosts[host_name(n)] = {
            "ansible_host": f"172.29.238.{c}",
            "management_address": f"172.29.238.{c}",
            "storage_address": f"172.29.246.{c}",
            "replication_address": f"172.29.250.{c}",
        }
    return "---\n" + yaml.safe_dump({"all": {"vars": variables, "hosts": hosts}}, sort_keys=False)


# --- running children -----------------------------------------------------------------------


def run(argv, log=None, env=None):
    """Run ``argv`` to its end; returns its exit status. On an interrupt (Ctrl-C reaches the child
    too) the child is given time to stop on its own before it is terminated."""
    out = open(log, "a") if log else None  # noqa: SIM115 (closed below)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if out else None,
        )
        try:
            return proc.wait()
        except BaseException:
            stop(proc)
            raise
    finally:
        if out:
            out.close()


def stop(proc):
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)


def lab(action, inventory):
    status = run([str(STRATA), "lab", action, "-i", str(inventory)])
    if status != 0:
        raise SystemExit(f"scale_bench: strata lab {action} failed (exit {status})")


# --- what a run costs --------------------------------------------------------------------------


def ssh_master_cpu(control_dir):
    """{pid: CPU-s} of the ssh processes using ``control_dir`` (the ControlPersist masters)."""
    marker = str(control_dir).encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "cmdline").read_bytes():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command name: state is field 3; utime and stime are fields 14 and 15.
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return found


def hosts_cpu(names):
    """CPU-s the containers of ``names`` have spent (None where the cgroup cannot be read)."""
    total = 0.0
    for name in names:
        try:
            total += int((CGROUP / f"lxc.payload.{name}" / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return None
    return total


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


RECAP_LINE = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")


def parse_recap(text):
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from the PLAY RECAP
    of ansible-playbook's default output (pure)."""
    recap = {}
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.startswith("PLAY RECAP"):
            recap = {}
            for entry in lines[start + 1 :]:
                match = RECAP_LINE.match(entry.strip())
                if not match:
                    break
                counts = dict(pair.split("=") for pair in match.group(2).split())
                recap[match.group(1)] = {key: int(value) for key, value in counts.items()}
    return recap


def host_tasks(recap):
    """Tasks run, summed over the hosts (``ok`` includes the changed ones)."""
    return sum(
        counts.get(key, 0)
        for counts in recap.values()
        for key in ("ok", "skipped", "failed", "unreachable")
    )


def converge(inventory, names, workdir, label, forks=None, via=ANSIBLE_PLAYBOOK, containers=None):
    """Run setup-hosts.yml on ``names`` with ansible-playbook or strata-ansible; returns the
    run's figures."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # The benchmark's own fact cache and ssh masters (removed with its hosts).
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(workdir / "facts"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
        "ANSIBLE_NOCOLOR": "1",
    }
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    if via == FACTS_GATHERED:
        env["ANSIBLE_GATHERING"] = "implicit"
    log = workdir / f"{label}.log"
    log.unlink(missing_ok=True)
    wrapper = [str(VENV_BIN / "strata-ansible"), "--config-dir", str(workdir / "config"), "--plain"]
    argv = [
        *(wrapper if via == STRATA_ANSIBLE else [str(VENV_BIN / "ansible-playbook")]),
        "-i",
        str(inventory),
        "--limit",
        ",".join(names),
        str(PLAYBOOK),
    ]
    lab_hosts = sorted(
        {host_name(container_of(int(n.split("-")[1]), containers or MAX_HOSTS)) for n in names}
    )
    masters_before = ssh_master_cpu(workdir / "cp")
    hosts_before = hosts_cpu(lab_hosts)
    cpu_before = children_cpu()
    start = time.monotonic()
    status = run(argv, log=log, env=env)
    wall = time.monotonic() - start
    cpu = children_cpu() - cpu_before
    masters_after = ssh_master_cpu(workdir / "cp")
    cpu += sum(spent - masters_before.get(pid, 0.0) for pid, spent in masters_after.items())
    hosts_after = hosts_cpu(lab_hosts)
    text = log.read_text()
    recap = parse_recap(text)
    return {
        "label": label,
        "hosts": len(names),
        "forks": forks,
        "via": via,
        "status": status,
        "wall": wall,
        "cpu": cpu,
        "hosts_cpu": None if None in (hosts_before, hosts_after) else hosts_after - hosts_before,
        "host_tasks": host_tasks(recap),
        "changed": sum(c.get("changed", 0) for c in recap.values()),
        "failed": sum(c.get("failed", 0) + c.get("unreachable", 0) for c in recap.values()),
        "recapped": len(recap),
        "load": os.getloadavg()[0],
        "log": log,
    }


def best(samples):
    """One row from several samples of the same run: the smallest CPU and wall time of each
    measure (each sample's counts must agree)."""
    row = dict(samples[0])
    for key in ("wall", "cpu", "hosts_cpu"):
        values = [s[key] for s in samples if s[key] is not None]
        row[key] = min(values) if values else None
    for key in ("changed", "failed"):
        row[key] = max(s[key] for s in samples)
    row["host_tasks"] = max(s["host_tasks"] for s in samples)
    row["load"] = max(s["load"] for s in samples)
    return row


def growth(rows, base, top):
    """Figures of how cost grows from ``base`` to ``top`` hosts (pure): ratios of CPU per
    host-task and of wall time, and the fit cpu = fixed + per_host_task * host_tasks."""
    low, high = rows[base], rows[top]
    per_low = low["cpu"] / low["host_tasks"]
    per_high = high["cpu"] / high["host_tasks"]
    marginal = (high["cpu"] - low["cpu"]) / (high["host_tasks"] - low["host_tasks"])
    return {
        "per_host_task_ratio": per_high / per_low,
        "wall_ratio": high["wall"] / low["wall"],
        "marginal": marginal,
        "fixed": low["cpu"] - marginal * low["host_tasks"],
    }


# --- reporting ---------------------------------------------------------------------------------


def print_settings(forks):
    """The Ansible settings the runs use: ansible.cfg's changes and its ssh connection."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    dump = subprocess.run(
        [str(VENV_BIN / "ansible-config"), "dump", "--only-changed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    wanted = ("FORKS", "GATHERING", "CACHE_PLUGIN", "STRATEGY", "CALLBACK", "INJECT_FACTS")
    print("Ansible settings (ansible-config dump --only-changed, the ones that bear on speed):")
    for line in dump.splitlines():
        if any(word in line.split("(")[0] for word in wanted):
            print(f"  {line}")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "ansible.cfg")
    if parser.has_section("ssh_connection"):
        for key, value in parser.items("ssh_connection"):
            print(f"  [ssh_connection] {key} = {value}")
    print(
        "  strategy linear (the default), no Mitogen; this benchmark's own fact cache and ssh "
        f"control path dir; forks as configured ({forks}) unless a row says otherwise"
    )


def configured_forks():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "ansible.cfg")
    return parser.getint("defaults", "forks", fallback=5)


def describe(run_figures):
    hosts_cpu_text = (
        f"{run_figures['hosts_cpu']:.1f}" if run_figures["hosts_cpu"] is not None else "?"
    )
    return (
        f"{run_figures['hosts']} hosts: rc={run_figures['status']}, {run_figures['wall']:.1f} s "
        f"wall, controller {run_figures['cpu']:.1f} CPU-s, hosts {hosts_cpu_text} CPU-s, "
        f"{run_figures['host_tasks']} host-tasks, changed={run_figures['changed']}, "
        f"failed={run_figures['failed']}"
    )


def print_table(rows):
    print(
        f"{'hosts':>5} {'forks':>5} {'run by':<16} {'host-tasks':>10} {'ctl CPU-s':>9} "
        f"{'CPU-s/host':>10} {'CPU-ms/host-task':>16} {'hosts CPU-s':>11} {'wall s':>7} "
        f"{'wall s/host':>11} {'load':>5}"
    )
    for row in rows:
        hosts_cpu_text = f"{row['hosts_cpu']:.1f}" if row["hosts_cpu"] is not None else "?"
        print(
            f"{row['hosts']:>5} {row['forks']:>5} {row['via']:<16} {row['host_tasks']:>10} "
            f"{row['cpu']:>9.2f} {row['cpu'] / row['hosts']:>10.3f} "
            f"{1000 * row['cpu'] / row['host_tasks']:>16.1f} {hosts_cpu_text:>11} "
            f"{row['wall']:>7.1f} {row['wall'] / row['hosts']:>11.2f} {row['load']:>5.2f}"
        )


# --- the benchmark -----------------------------------------------------------------------------


def interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def measure(inventory, workdir, sizes, samples, forks, extras=True, containers=None):
    names = [host_name(n) for n in range(1, max(sizes) + 1)]
    containers = min(containers or len(names), len(names))
    print(f"start: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load_note()}")
    started = time.monotonic()
    lab("up", workdir / "lab.yml")
    print(
        f"lab up ({containers} lab hosts for {len(names)} inventory hosts): "
        f"{time.monotonic() - started:.1f} s"
    )
    cold = converge(inventory, names[:containers], workdir, "cold", containers=containers)
    print(f"cold converge of the lab hosts (not judged), {describe(cold)}")
    again = converge(inventory, names, workdir, "second", containers=containers)
    print(f"second converge (warms the caches), {describe(again)}")
    if cold["status"] != 0 or again["status"] != 0 or again["recapped"] != len(names):
        print(f"scale_bench: the converge failed; see {cold['log']} and {again['log']}")
        return None
    top = max(sizes)
    runs = [(size, forks, ANSIBLE_PLAYBOOK) for size in sizes]
    if extras and forks < top:  # the forks limit the largest run: measure it without them too
        runs.append((top, top, ANSIBLE_PLAYBOOK))
    if extras:
        runs.append((top, forks, STRATA_ANSIBLE))
        runs.append((top, forks, FACTS_GATHERED))
    collected = {run_key: [] for run_key in runs}
    for sample in range(samples):
        for size, run_forks, via in runs:
            figures = converge(
                inventory,
                names[:size],
                workdir,
                f"noop-{size}-forks{run_forks}-{via}-{sample}",
                forks=run_forks,
                via=via,
                containers=containers,
            )
            print(f"  sample {sample + 1}, forks {run_forks}, {via}: {describe(figures)}")
            collected[(size, run_forks, via)].append(figures)
    rows = []
    for (size, run_forks, via), figures in collected.items():
        row = best(figures)
        row["forks"], row["via"] = run_forks, via
        row["ok"] = all(f["status"] == 0 and f["recapped"] == size for f in figures)
        rows.append(row)
    facts = list((workdir / "facts").glob("*"))
    if facts:
        size = sum(f.stat().st_size for f in facts)
        print(f"fact cache: {len(facts)} hosts, {size / len(facts) / 1024:.0f} KiB per host")
    print(f"end: {load_note()}")
    return rows


def judge(rows, sizes, forks):
    configured = {
        row["hosts"]: row
        for row in rows
        if row["forks"] == forks and row["via"] == ANSIBLE_PLAYBOOK
    }
    top = max(sizes)
    results = [
        (
            all(r["ok"] and r["changed"] == 0 and r["failed"] == 0 for r in rows),
            "every no-op run: rc=0, changed=0, failed=0 on every host",
        )
    ]
    if BASE in configured and top in configured and top != BASE:
        figures = growth(configured, BASE, top)
        print(
            f"growth {BASE} -> {top} hosts (forks {forks}): CPU per host-task "
            f"x{figures['per_host_task_ratio']:.2f}, wall x{figures['wall_ratio']:.2f}; "
            f"controller CPU = {figures['fixed']:.2f} s fixed + "
            f"{1000 * figures['marginal']:.1f} ms per host-task"
        )
        results += [
            (
                figures["per_host_task_ratio"] <= LIMIT_PER_HOST_TASK,
                f"CPU per host-task at {top} hosts <= {LIMIT_PER_HOST_TASK}x at {BASE}: "
                f"{figures['per_host_task_ratio']:.2f}x",
            ),
            (
                figures["wall_ratio"] < LIMIT_WALL,
                f"wall at {top} hosts < {LIMIT_WALL}x at {BASE}: {figures['wall_ratio']:.2f}x",
            ),
        ]
    for row in rows:
        same = configured.get(row["hosts"])
        if same and row is not same:
            how = {
                STRATA_ANSIBLE: "through strata-ansible (ansible-runner)",
                FACTS_GATHERED: "gathering facts (no fact cache)",
            }.get(row["via"], f"forks {row['forks']} instead of {forks}")
            print(
                f"{row['hosts']} hosts, {how}: wall {row['wall']:.1f} s vs {same['wall']:.1f} s, "
                f"controller CPU {row['cpu']:.1f} s vs {same['cpu']:.1f} s"
            )
    return report(results)


def close_masters(control_dir):
    """Stop the ssh ControlPersist masters of this benchmark (before their hosts go)."""
    for socket_path in control_dir.glob("*") if control_dir.is_dir() else []:
        subprocess.run(
            ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "scale-bench"],
            capture_output=True,
            check=False,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help=f"host counts to measure, comma-separated, at most {MAX_HOSTS} (default %(default)s)",
    )
    parser.add_argument("--samples", type=int, default=SAMPLES, help="samples of each size")
    parser.add_argument(
        "--containers",
        type=int,
        help="lab hosts to run the inventory hosts on (default: one per host); fewer when the "
        "machine cannot boot that many (each host's systemd takes ~8 of the 128 inotify "
        "instances fs.inotify.max_user_instances allows by default)",
    )
    parser.add_argument(
        "--no-extras",
        action="store_true",
        help="only the sizes: no run with more forks, through strata-ansible or gathering facts",
    )
    parser.add_argument(
        "--down", action="store_true", help="only remove this benchmark's hosts and exit"
    )
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",")})
    except ValueError:
        parser.error(f"--sizes {args.sizes}: expected host counts such as 5,10,20,40")
    if (
        not sizes
        or sizes[0] < 1
        or sizes[-1] > MAX_HOSTS
        or args.samples < 1
        or (args.containers is not None and not 1 <= args.containers <= MAX_HOSTS)
    ):
        parser.error(
            f"--sizes {args.sizes} --samples {args.samples} --containers {args.containers}: "
            f"expected sizes and containers from 1 to {MAX_HOSTS}, at least one sample"
        )
    if os.geteuid() != 0:
        print("scale_bench: run as root (it drives the lab)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="strata-scale-"))
    inventory = workdir / "inventory.yml"
    (workdir / "config").mkdir()  # strata-ansible's config dir: its run logs only
    containers = min(args.containers or max(sizes), max(sizes))
    inventory.write_text(inventory_text(max(sizes), containers))
    # The lab hosts; for --down every name the benchmark may have made.
    lab_inventory = workdir / "lab.yml"
    lab_inventory.write_text(inventory_text(MAX_HOSTS if args.down else containers))
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    status = 1
    try:
        if args.down:
            status = 0
            return status
        forks = configured_forks()
        print_settings(forks)
        rows = measure(
            inventory, workdir, sizes, args.samples, forks, not args.no_extras, containers
        )
        if rows is not None:
            print_table(rows)
            status = judge(rows, sizes, forks)
    except KeyboardInterrupt:
        print("scale_bench: interrupted; removing the hosts", file=sys.stderr)
        status = 130
    finally:
        # The cleanup must finish: a second Ctrl-C does not stop it (nor `strata lab down`,
        # which inherits the ignored signal).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        close_masters(workdir / "cp")
        down = run([str(STRATA), "lab", "down", "-i", str(lab_inventory)])
        if down != 0:
            print(
                f"scale_bench: strata lab down failed (exit {down}); remove the hosts with "
                f"`.venv/bin/python bench/scale_bench.py --down`",
                file=sys.stderr,
            )
            status = status or 1
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
