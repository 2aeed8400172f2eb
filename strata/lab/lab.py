"""`strata lab up|down|status`: the steps, in order, with the state that makes `down` exact."""

import concurrent.futures
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import netaddr

from strata import ROOT
from strata.errors import StrataError, ValidationError
from strata.lab import machine, model, render

STATE_DIR = Path(os.environ.get("STRATA_LAB_STATE_DIR", "/var/lib/strata/lab"))
CACHE_DIR = Path(os.environ.get("STRATA_LAB_CACHE_DIR", "/var/cache/strata/lab"))
LXC_DIR = Path("/var/lib/lxc")
SSH_KEY = STATE_DIR / "ssh" / "id_ed25519"
KNOWN_HOSTS = STATE_DIR / "known_hosts"


def log(message):
    print(f"lab: {message}", flush=True)


# ---- state -------------------------------------------------------------------------------


def empty_state():
    return {"networks": {}, "bridges": [], "rules": [], "apt_proxy": None, "hosts": {}}


def load_state():
    path = STATE_DIR / "state.json"
    if not path.exists():
        return empty_state()
    return {**empty_state(), **json.loads(path.read_text())}


def save_state(state):
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = STATE_DIR / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.rename(path)


@contextmanager
def locked():
    """One lab command at a time on this machine."""
    # 0700: the lab's state dir holds its ssh key and the hosts' disks.
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# ---- reading the inventory ---------------------------------------------------------------


def read_inventory(inventory):
    """`ansible-inventory --list` of `inventory` (static file, directory or dynamic script)."""
    binary = Path(sys.executable).with_name("ansible-inventory")
    argv = [str(binary if binary.exists() else "ansible-inventory"), "-i", str(inventory), "--list"]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0 or "Unable to parse" in proc.stderr:
        detail = proc.stderr.strip().splitlines()
        raise StrataError(f"{inventory}: cannot read the inventory: {' '.join(detail[-3:])}")
    return json.loads(proc.stdout)


def load_spec(inventory):
    spec, problems = model.spec_from_inventory(str(inventory), read_inventory(inventory))
    return spec, problems


# ---- checks before any change ------------------------------------------------------------


def host_record(host, spec):
    return {
        "addresses": host.addresses,
        "loop_devices": host.loop_devices,
        "loop_size": host.loop_size,
        "inventory": spec.source,
    }


def conflicts_with_state(spec, state):
    """Problems between what `spec` asks for and the lab already running."""
    problems = []
    for net in spec.networks:
        running = state["networks"].get(net.name)
        if running and running["cidr"] != net.cidr:
            problems.append(
                f"{spec.source}: {net.name}_cidr is {net.cidr} but the lab's {net.bridge} runs "
                f"{running['cidr']} (expected the same network; `strata lab down` first)"
            )
    taken = {}
    for name, record in state["hosts"].items():
        for address in record["addresses"].values():
            taken[address] = name
    for host in spec.hosts:
        record = state["hosts"].get(host.name)
        if record is not None:
            wanted = host_record(host, spec)
            diff = [k for k in ("addresses", "loop_devices", "loop_size") if record[k] != wanted[k]]
            if diff:
                problems.append(
                    f"{spec.source}: host {host.name} already exists in the lab (from "
                    f"{record['inventory']}) with other {', '.join(diff)} (expected the same "
                    f"settings; `strata lab down` that host first)"
                )
        for net_name, address in host.addresses.items():
            owner = taken.get(address)
            if owner is not None and owner != host.name:
                problems.append(
                    f"{spec.source}: host {host.name}: {net_name}_address {address} is already "
                    f"used by lab host {owner} (expected a unique address)"
                )
    return problems


def check(spec, spec_problems, state):
    problems = list(spec_problems)
    if os.geteuid() != 0:
        problems.append("the lab needs root (privileged LXC containers, bridges, iptables)")
    problems += model.missing_requirements(shutil.which, os.path.exists)
    others = sum(
        len(r.get("loops", []))
        for n, r in state["hosts"].items()
        if n not in {h.name for h in spec.hosts}
    )
    problems += model.validate(spec, loop_budget=model.LOOP_MAX - others)
    problems += conflicts_with_state(spec, state)
    problems += model.inotify_problems(
        sum(h.name not in state["hosts"] for h in spec.hosts), *machine.inotify_instances()
    )
    problems += model.foreign_resources(
        spec, state, machine.link_exists, lambda name: machine.container_state(name) is not None
    )
    if problems:
        raise ValidationError(problems)


# ---- up ----------------------------------------------------------------------------------


def rootfs_path():
    return CACHE_DIR / f"rootfs-bookworm-{render.rootfs_digest()}"


def ensure_rootfs(state, rebuild):
    path = rootfs_path()
    if rebuild and path.exists():
        if state["hosts"]:
            raise StrataError(
                f"--rebuild-rootfs: {len(state['hosts'])} lab hosts use the base rootfs; "
                "`strata lab down` first"
            )
        shutil.rmtree(path)
    if not path.exists():
        log(f"building the Debian 12 base rootfs in {path} (about a minute, once per machine)")
        machine.build_rootfs(path)
    return path


def ensure_ssh_key():
    if not SSH_KEY.exists():
        SSH_KEY.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        machine.run(
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "strata-lab", "-f", str(SSH_KEY)
        )
    return SSH_KEY.with_suffix(".pub").read_text()


def ensure_networks(spec, state):
    for net in spec.networks:
        # check() refused a bridge the lab did not make: this one is new or the lab's own.
        if machine.ensure_bridge(net.bridge, net.gateway):
            log(f"created bridge {net.bridge} with {net.gateway}")
            if net.bridge not in state["bridges"]:
                state["bridges"].append(net.bridge)
        state["networks"][net.name] = {"cidr": net.cidr, "bridge": net.bridge}
        for rule in machine.isolation_rules(net.bridge):
            if machine.ensure_rule(rule) and rule not in state["rules"]:
                state["rules"].append(rule)
        save_state(state)


def ensure_apt_proxy(spec, state):
    mgmt = next(n for n in spec.networks if n.name == "management")
    address = mgmt.gateway.split("/")[0]
    proxy = state["apt_proxy"]
    if proxy and machine.process_alive(proxy["pid"], "apt-cacher-ng"):
        return address
    pid = machine.start_apt_proxy(STATE_DIR, CACHE_DIR, address)
    state["apt_proxy"] = {"pid": pid, "address": address}
    save_state(state)
    log(f"apt-cacher-ng runs on {address}:{render.APT_PROXY_PORT} (pid {pid})")
    return address


def allocate_loops(host, state):
    record = state["hosts"].get(host.name, {})
    if record.get("loops"):
        return record["loops"]
    used = {n for r in state["hosts"].values() for n in r.get("loops", [])}
    free = (
        n
        for n in range(model.LOOP_FIRST, model.LOOP_FIRST + 1000)
        if n not in used and not machine.loop_in_use(n)
    )
    return [next(free) for _ in range(host.loop_devices)]


def ensure_host(host, spec, state, rootfs, proxy_address, pubkey):
    """Create (if missing) and start (if stopped) one lab host. Returns 'created'/'started'/None."""
    loops = allocate_loops(host, state)
    record = {**state["hosts"].get(host.name, {}), **host_record(host, spec), "loops": loops}
    state["hosts"][host.name] = record
    save_state(state)  # before creating anything, so `down` can clean up a half-made host
    for number in loops:
        machine.ensure_loop(
            number, STATE_DIR / "disks" / f"{host.name}-loop{number}.img", host.loop_size
        )
    status = machine.container_state(host.name)
    outcome = None
    if status is None:
        lxc_path = LXC_DIR / host.name
        delta = lxc_path / "delta0"
        # 0700: the host's delta dir below holds the secrets the roles write on it. (delta0
        # itself keeps 0755: it is the container's / and its services are not all root.)
        lxc_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        delta.mkdir(exist_ok=True)
        machine.write_files(
            delta,
            render.container_files(host, spec, proxy_address, pubkey, loops, uuid.uuid4().hex),
        )
        record["host_key"] = machine.generate_host_key(delta)
        (lxc_path / "config").write_text(
            render.container_config(host, spec.networks, rootfs, LXC_DIR, loops)
        )
        save_state(state)
        outcome = "created"
        status = "STOPPED"
    if status != "RUNNING":
        machine.start_container(host.name)
        outcome = outcome or "started"
    return outcome


def write_known_hosts(state):
    entries = [
        (name, sorted(r["addresses"].values()), r["host_key"])
        for name, r in state["hosts"].items()
        if r.get("host_key")
    ]
    KNOWN_HOSTS.write_text(render.known_hosts_lines(entries))


def ssh_ready(address, timeout):
    argv = [
        "ssh",
        "-i",
        str(SSH_KEY),
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=2",
        "-o",
        f"UserKnownHostsFile={KNOWN_HOSTS}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ControlMaster=no",
        "-o",
        "ControlPath=none",
        f"root@{address}",
        "true",
    ]
    deadline = time.monotonic() + timeout
    while True:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return None
        if time.monotonic() > deadline:
            return proc.stderr.strip() or f"exit {proc.returncode}"
        time.sleep(0.3)


# A host restarted after a power cut boots all its services at once: on a loaded machine
# (two scenarios on two cores) that took more than 90 s.
SSH_TIMEOUT = 240


def ssh_failures(addresses, timeout):
    """{name: error} of the hosts (name -> address) that do not answer ssh within timeout."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda address: ssh_ready(address, timeout), addresses.values())
        results = dict(zip(addresses, answers, strict=True))
    return {name: err for name, err in results.items() if err}


def wait_for_ssh(spec, timeout=SSH_TIMEOUT):
    """Every host answers ssh; a host whose container stopped while booting (seen once after
    `lxc-stop -k`) is started once more."""
    addresses = {h.name: h.addresses["management"] for h in spec.hosts}
    failed = ssh_failures(addresses, timeout)
    stopped = sorted(n for n in failed if machine.container_state(n) != "RUNNING")
    for name in stopped:
        log(f"{name}: its container stopped while booting; starting it once more")
        machine.start_container(name)
    if stopped:
        retried = ssh_failures({n: addresses[n] for n in stopped}, timeout)
        failed = {n: e for n, e in failed.items() if n not in stopped} | retried
    if failed:
        detail = "; ".join(
            f"{n} ({addresses[n]}, container {machine.container_state(n) or 'missing'}): {e}"
            for n, e in sorted(failed.items())
        )
        raise StrataError(f"hosts do not answer ssh after {timeout}s: {detail}")


def up(inventory, rebuild_rootfs=False):
    started = time.monotonic()
    spec, spec_problems = load_spec(inventory)
    with locked():
        state = load_state()
        check(spec, spec_problems, state)
        rootfs = ensure_rootfs(state, rebuild_rootfs)
        pubkey = ensure_ssh_key()
        ensure_networks(spec, state)
        proxy_address = ensure_apt_proxy(spec, state)
        outcomes = {
            h.name: ensure_host(h, spec, state, rootfs, proxy_address, pubkey) for h in spec.hosts
        }
        save_state(state)
        write_known_hosts(state)
        wait_for_ssh(spec)
    created = sorted(n for n, o in outcomes.items() if o == "created")
    restarted = sorted(n for n, o in outcomes.items() if o == "started")
    log(
        f"{len(spec.hosts)} hosts up ({len(created)} created, {len(restarted)} started, "
        f"{len(spec.hosts) - len(created) - len(restarted)} unchanged) "
        f"in {time.monotonic() - started:.1f}s"
    )
    return 0


# ---- down --------------------------------------------------------------------------------


def remove_host(name, state):
    record = state["hosts"][name]
    machine.destroy_container(name)
    for number in record.get("loops", []):
        machine.remove_loop(number, STATE_DIR / "disks" / f"{name}-loop{number}.img")
    del state["hosts"][name]
    save_state(state)


def teardown_machine(state):
    """Remove what the lab put on the machine itself once no host is left."""
    proxy = state["apt_proxy"]
    if proxy:
        machine.stop_process(proxy["pid"], "apt-cacher-ng")
        state["apt_proxy"] = None
    for rule in state["rules"]:
        machine.delete_rule(rule)
    state["rules"] = []
    for bridge in state["bridges"]:
        machine.delete_bridge(bridge)
    state["bridges"] = []
    state["networks"] = {}
    save_state(state)


def purge_caches():
    """Delete the caches the lab made (base rootfs builds, apt's downloads), nothing else of
    CACHE_DIR, which STRATA_LAB_CACHE_DIR may point at a shared directory."""
    for path in [*CACHE_DIR.glob("rootfs-bookworm-*"), *CACHE_DIR.glob(".rootfs-*")]:
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(CACHE_DIR / "apt-cacher-ng", ignore_errors=True)
    with contextlib.suppress(OSError):
        CACHE_DIR.rmdir()  # only when empty


def down(inventory=None, purge=False):
    started = time.monotonic()
    names = None
    if inventory is not None:
        spec, _ = load_spec(inventory)
        names = {h.name for h in spec.hosts}
    with locked():
        state = load_state()
        targets = sorted(state["hosts"] if names is None else names & set(state["hosts"]))
        for name in targets:
            remove_host(name, state)
        if not state["hosts"]:
            teardown_machine(state)
            (STATE_DIR / "state.json").unlink(missing_ok=True)
            if KNOWN_HOSTS.exists():
                KNOWN_HOSTS.unlink()
        else:
            write_known_hosts(state)
        if purge and not state["hosts"]:
            purge_caches()
    left = len(state["hosts"])
    log(
        f"removed {len(targets)} hosts in {time.monotonic() - started:.1f}s"
        + (f"; {left} hosts of other inventories remain" if left else "; lab is down")
    )
    return 0


# ---- status ------------------------------------------------------------------------------


def status():
    state = load_state()
    if not state["hosts"] and not state["bridges"]:
        print("lab is down")
        return 0
    for name, net in sorted(state["networks"].items()):
        gw = netaddr.IPNetwork(net["cidr"])
        print(f"network {name:<12} {net['bridge']:<11} {net['cidr']} (machine: {gw.ip + 1})")
    proxy = state["apt_proxy"]
    if proxy:
        alive = machine.process_alive(proxy["pid"], "apt-cacher-ng")
        print(
            f"apt proxy   {proxy['address']}:{render.APT_PROXY_PORT} pid {proxy['pid']} "
            f"{'running' if alive else 'NOT RUNNING'}"
        )
    print(f"{'HOST':<20} {'STATE':<9} {'MANAGEMENT':<16} {'STORAGE':<16} {'REPLICATION':<16} LOOPS")
    for name, record in sorted(state["hosts"].items()):
        a = record["addresses"]
        loops = ",".join(f"loop{n}" for n in record.get("loops", [])) or "-"
        print(
            f"{name:<20} {machine.container_state(name) or 'MISSING':<9} "
            f"{a.get('management', '-'):<16} {a.get('storage', '-'):<16} "
            f"{a.get('replication', '-'):<16} {loops}"
        )
    return 0
