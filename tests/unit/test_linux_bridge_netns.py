"""The real linux_bridge module against a real kernel, inside network namespaces made here.

Two namespaces per test: "host" (the managed machine) and "controller" (where Ansible would
be), joined by a veth pair: host eth0 172.29.236.11/22 with a default route via the
controller 172.29.236.1 and a route in table 100. While the module moves that address onto
br-mgmt (and while a rollback moves it back):
- `ip monitor` records every address and route event in the host namespace, and replaying
  them shows the address and both routes were on some link at every moment;
- a TCP connection from the controller to the host's address, exchanging a byte every 2 ms,
  stays open. Enslaving or releasing a port has a kernel window of microseconds in which
  a frame can be dropped; TCP resends it (one retransmission, about 0.2 s), so the check is
  "open, and never stalled long", and the event replay is what proves the ordering.
The second port is a vxlan device: this kernel has no VLAN, bond or dummy devices (their
handling is covered by test_linux_bridge_planner.py). Config files go to a temporary
config_root; the machine's own interfaces, files and services are never touched.
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "library" / "linux_bridge.py"
MODULE_UTILS = REPO / "module_utils" / "strata_bridge.py"
ETC = "etc/systemd/network"
LAB_ETH0 = "[Match]\nName=eth0\n\n[Network]\nAddress=172.29.236.11/22\n"
HOST_IP = "172.29.236.11"
CONTROLLER_IP = "172.29.236.1"
SSH_CONNECTION = f"{CONTROLLER_IP} 50022 {HOST_IP} 22"
WANT = {"name": "br-mgmt", "ports": ["eth0", "vx0"], "addresses": [f"{HOST_IP}/22"]}


def _why_not():
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if not shutil.which("ip"):
        return "needs the ip command (iproute2)"
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return "needs pyroute2"
    probe = f"strata-lbprobe-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "cannot create a network namespace here"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


REASON = _why_not()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

# Runs library/linux_bridge.py as Ansible would, with module_utils/strata_bridge.py in place
# of ansible.module_utils.strata_bridge (Ansible bundles it the same way through ansible.cfg).
RUNNER = textwrap.dedent(
    f"""
    import importlib.util, runpy, sys
    import ansible.module_utils
    spec = importlib.util.spec_from_file_location(
        "ansible.module_utils.strata_bridge", {str(MODULE_UTILS)!r})
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    sys.argv = [{str(LIBRARY)!r}, sys.argv[1]]
    runpy.run_path({str(LIBRARY)!r}, run_name="__main__")
    """
)

SERVER = textwrap.dedent(
    f"""
    import socket
    listener = socket.create_server(({HOST_IP!r}, 7777))
    print("listening", flush=True)
    conn, _ = listener.accept()
    while data := conn.recv(64):
        conn.sendall(data)
    """
)

# Sends a byte every 2 ms and waits for its echo until told to stop on stdin; reports the
# slowest round trip. A cut connection shows as a stall (TCP retransmits after >= 200 ms).
CLIENT = textwrap.dedent(
    f"""
    import json, select, socket, sys, time
    conn = socket.create_connection(({HOST_IP!r}, 7777), timeout=10)
    print("connected", flush=True)
    count, slowest, error = 0, 0.0, None
    while not select.select([sys.stdin], [], [], 0.002)[0]:
        start = time.monotonic()
        try:
            conn.sendall(b"x")
            if conn.recv(1) != b"x":
                error = "echo lost"
                break
        except OSError as exc:
            error = str(exc)
            break
        count += 1
        slowest = max(slowest, time.monotonic() - start)
    print(json.dumps({{"count": count, "slowest": slowest, "error": error}}), flush=True)
    """
)


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class Lab:
    def __init__(self, root):
        self.host = f"strata-lbh-{os.getpid()}"
        self.controller = f"strata-lbc-{os.getpid()}"
        self.root = root
        self.processes = []

    def create(self):
        ip("netns", "add", self.host)
        ip("netns", "add", self.controller)
        h, c = ["-n", self.host], ["-n", self.controller]
        ip(
            *h,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "ctl0",
            "netns",
            self.controller,
        )
        ip(
            *h,
            "link",
            "add",
            "vx0",
            "type",
            "vxlan",
            "id",
            "42",
            "dstport",
            "4789",
            "local",
            HOST_IP,
        )
        for name in ("lo", "eth0", "vx0"):
            ip(*h, "link", "set", name, "up")
        ip(*h, "addr", "add", f"{HOST_IP}/22", "dev", "eth0")
        ip(*h, "route", "add", "default", "via", CONTROLLER_IP, "dev", "eth0", "proto", "static")
        ip(
            *h,
            "route",
            "add",
            "10.88.0.0/16",
            "via",
            "172.29.236.254",
            "dev",
            "eth0",
            "table",
            "100",
        )
        for name in ("lo", "ctl0"):
            ip(*c, "link", "set", name, "up")
        ip(*c, "addr", "add", f"{CONTROLLER_IP}/22", "dev", "ctl0")
        network = self.root / ETC
        network.mkdir(parents=True)
        (network / "10-lab-eth0.network").write_text(LAB_ETH0)

    def destroy(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        ip("netns", "del", self.host, check=False)
        ip("netns", "del", self.controller, check=False)

    def spawn(self, namespace, code):
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def monitor(self):
        """`ip monitor` of addresses and routes in the host namespace, once it listens.

        An address is added to lo until the monitor reports that very address: the monitor
        may start listening between an address and its routes, so any other line proves
        nothing. Every wait is bounded, and what was read past the marker is kept.
        """
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.host, "ip", "-o", "monitor", "address", "route"],
            stdout=subprocess.PIPE,
        )
        self.processes.append(process)
        fd, seen = process.stdout.fileno(), b""
        for last in range(2, 50):
            ip("-n", self.host, "addr", "add", f"127.0.0.{last}/8", "dev", "lo")
            marker = f" inet 127.0.0.{last}/8 ".encode()
            deadline = time.monotonic() + 0.5
            while marker not in seen and (left := deadline - time.monotonic()) > 0:
                if select.select([fd], [], [], left)[0]:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        pytest.fail(f"ip monitor ended (status {process.wait()})")
                    seen += chunk
            if marker in seen:
                process.head = seen[seen.index(marker) :].partition(b"\n")[2]
                return process
        pytest.fail("ip monitor reported none of the addresses added to lo")

    def connect(self):
        """An open TCP connection from the controller to the host's address."""
        server = self.spawn(self.host, SERVER)
        assert server.stdout.readline().strip() == "listening"
        client = self.spawn(self.controller, CLIENT)
        assert client.stdout.readline().strip() == "connected"
        return client

    def run_module(self, ssh=True, **args):
        args = {**WANT, "config_root": str(self.root), **args}
        env = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
        if ssh:
            env["SSH_CONNECTION"] = SSH_CONNECTION
        command = ["ip", "netns", "exec", self.host, sys.executable, "-c", RUNNER]
        command.append(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert done.stdout, done.stderr
        return json.loads(done.stdout)

    def addresses(self):
        out = json.loads(ip("-n", self.host, "-j", "-4", "addr", "show").stdout)
        found = {
            i["ifname"]: [f"{a['local']}/{a['prefixlen']}" for a in i["addr_info"]] for i in out
        }
        return {name: found.get(name, []) for name in ("eth0", "vx0", "br-mgmt")}

    def routes(self):
        out = json.loads(ip("-n", self.host, "-j", "-4", "route", "show", "table", "all").stdout)
        return sorted(
            (r["dst"], r.get("gateway"), r["dev"], r.get("table", "main"))
            for r in out
            if r.get("protocol") != "kernel" and r.get("table") != "local"
        )

    def masters(self):
        out = json.loads(ip("-n", self.host, "-j", "link", "show").stdout)
        return {i["ifname"]: i.get("master") for i in out}

    def files(self):
        return sorted(p.name for p in (self.root / ETC).iterdir())


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path / "root")
    try:
        lab.create()
        yield lab
    finally:
        lab.destroy()


def stop(client):
    out, _ = client.communicate("stop\n", timeout=30)
    return json.loads(out)


def gaps(monitor):
    """Replay the monitor's events: every moment the address or a route was on no link."""
    monitor.kill()
    lines = (monitor.head + monitor.communicate()[0]).decode().splitlines()
    holders = {"eth0"}
    routes = {("default", "main"): "eth0", ("10.88.0.0/16", "100"): "eth0"}
    found = []
    for line in lines:
        deleted = line.startswith("Deleted ")
        body = line.removeprefix("Deleted ")
        address = re.match(r"\d+: (\S+)\s+inet (\S+) ", body)
        route = re.match(r"(default|10\.88\.0\.0/16) via \S+ dev (\S+)(?:.* table (\S+))?", body)
        if address and address.group(2) == f"{HOST_IP}/22":
            if deleted:
                holders.discard(address.group(1))
            else:
                holders.add(address.group(1))
        elif route:
            key = (route.group(1), route.group(3) or "main")
            if not deleted:
                routes[key] = route.group(2)
            elif routes[key] == route.group(2):
                routes[key] = None
        else:
            continue
        if not holders or None in routes.values():
            found.append(f"{line!r}: address on {sorted(holders)}, routes {routes}")
    assert any("br-mgmt" in line for line in lines), "the monitor saw nothing"
    return found


ROUTES_ON_ETH0 = [
    ("10.88.0.0/16", "172.29.236.254", "eth0", "100"),
    ("default", CONTROLLER_IP, "eth0", "main"),
]


def test_address_moves_onto_the_bridge_without_cutting_the_connection(lab):
    monitor = lab.monitor()
    client = lab.connect()
    result = lab.run_module()
    report = stop(client)
    assert result.get("failed") is not True, result.get("msg")
    assert gaps(monitor) == []
    assert report["error"] is None and report["count"] > 0
    assert report["slowest"] < 1, report
    assert [s["action"] for s in result["steps"]][:8] == [
        "create_bridge",
        "set_master",
        "set_master",
        "add_address",
        "move_route",
        "move_route",
        "del_address",
        "write",
    ]
    assert lab.addresses()["br-mgmt"] == [f"{HOST_IP}/22"]
    assert lab.addresses()["eth0"] == []
    assert lab.routes() == [
        ("10.88.0.0/16", "172.29.236.254", "br-mgmt", "100"),
        ("default", CONTROLLER_IP, "br-mgmt", "main"),
    ]
    assert lab.masters()["eth0"] == "br-mgmt" and lab.masters()["vx0"] == "br-mgmt"
    assert lab.files() == [
        "05-strata-bridge-br-mgmt.netdev",
        "05-strata-bridge-br-mgmt.network",
        "05-strata-port-eth0.network",
        "05-strata-port-vx0.network",
        "10-lab-eth0.network.disabled-by-strata",
    ]
    assert result["superseded"][0]["path"] == "/etc/systemd/network/10-lab-eth0.network"
    assert result["after"]["links"]["br-mgmt"]["addresses"] == [f"{HOST_IP}/22"]

    again = lab.run_module()
    assert again["changed"] is False and again["steps"] == []

    refused = lab.run_module(state="absent")
    assert refused["failed"] and "deleting the bridge would cut it" in refused["msg"]
    removed = lab.run_module(ssh=False, state="absent")
    assert removed["changed"] and "br-mgmt" not in lab.masters()
    assert lab.files() == ["10-lab-eth0.network.disabled-by-strata"]


def test_mtu_stp_and_forward_delay_stick(lab):
    # An MTU given when the bridge is created is replaced by the port's as it joins; the
    # module sets it afterwards, so this checks the kernel keeps it.
    result = lab.run_module(ssh=False, mtu=1400, stp=True, forward_delay=4, persist=False)
    assert result.get("failed") is not True, result.get("msg")
    bridge = result["after"]["links"]["br-mgmt"]
    assert (bridge["mtu"], bridge["stp"], bridge["forward_delay"]) == (1400, True, 4)
    assert (
        lab.run_module(ssh=False, mtu=1400, stp=True, forward_delay=4, persist=False)["changed"]
        is False
    )
    assert lab.files() == ["10-lab-eth0.network"]


def test_a_failure_after_the_move_restores_everything(lab):
    # A directory where the bridge's .network file goes: writing it fails after the
    # netlink steps and the first file are done.
    (lab.root / ETC / "05-strata-bridge-br-mgmt.network").mkdir()
    monitor = lab.monitor()
    client = lab.connect()
    result = lab.run_module()
    report = stop(client)
    assert result["failed"] is True
    assert "create /etc/systemd/network/05-strata-bridge-br-mgmt.network' failed" in result["msg"]
    assert "the previous state is restored" in result["msg"]
    assert gaps(monitor) == []
    assert report["error"] is None and report["slowest"] < 1, report
    assert "br-mgmt" not in lab.masters()
    assert lab.addresses()["eth0"] == [f"{HOST_IP}/22"]
    assert lab.routes() == ROUTES_ON_ETH0
    assert lab.files() == ["05-strata-bridge-br-mgmt.network", "10-lab-eth0.network"]


def test_problems_fail_before_anything_changes(lab):
    result = lab.run_module(ports=["eth0", "bond0.20"], mtu=9000)
    assert result["failed"] is True
    assert result["problems"] == [
        "mtu: 9000 is larger than the MTU 1500 of port eth0; raise the port's MTU first or "
        "lower mtu",
        "ports[1]: interface bond0.20 does not exist (VLAN and bond ports must be created "
        "before the bridge)",
    ]
    assert "br-mgmt" not in lab.masters() and lab.routes() == ROUTES_ON_ETH0
    assert lab.files() == ["10-lab-eth0.network"]


def test_check_mode_reports_the_change_and_makes_none(lab):
    result = lab.run_module(_ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert "br-mgmt" in result["after"]["links"] and "br-mgmt" not in lab.masters()
    headers = [d["after_header"] for d in result["diff"]]
    assert headers[0] == "links"
    assert "/etc/systemd/network/05-strata-bridge-br-mgmt.network" in headers
    assert lab.files() == ["10-lab-eth0.network"] and lab.routes() == ROUTES_ON_ETH0
    # A VLAN that an earlier task would create: check mode warns instead of failing.
    result = lab.run_module(ports=["eth0", "bond0.20"], _ansible_check_mode=True)
    assert result["changed"] is True and "bond0.20 do not exist now" in json.dumps(result)
