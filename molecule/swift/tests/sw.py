"""Helpers of the swift scenario's tests: lab hosts, the object client, rings and placement."""

import base64
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.infra import inventory
from tests.infra.hosts import check, host, hostvars, run  # noqa: F401 (for the tests)
from tests.infra.playbook import ansible_playbook, recap, wait_for  # noqa: F401 (for the tests)

SCENARIO = Path(__file__).resolve().parent.parent
PROJECT = SCENARIO.parent.parent
CLIENTS = Path(__file__).resolve().parent / "clients"
PROXIES = inventory.hosts("swift_proxy")
STORAGE = inventory.hosts("swift_storage")
SWIFT_HOSTS = inventory.hosts("swift_all")
HAPROXY = inventory.hosts("haproxy_all")
VIP = inventory.hostvars(PROXIES[0])["internal_lb_vip_address"]
EXTERNAL_VIP = inventory.hostvars(PROXIES[0])["external_lb_vip_address"]
RINGS = ("account", "container", "object")
# The 4th storage host, added by test_80 (tests/store4.yml).
STORE4 = "sw-store4"
STORE4_INVENTORY = Path(__file__).resolve().parent / "store4.yml"
# The objects every test reads back: written by test_30.
CONTAINER = "strata-test"
PREFIX = "obj"
COUNT = 100


def in_parallel(function, items):
    """[function(item) for item in items], the calls made at once: each is an ssh command to a
    lab host, and their round trips add up on a loaded machine."""
    items = list(items)
    for name in inventory.hosts("all"):
        host(name)  # the connections are made once, before the threads share them
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(function, items))


def put_client(name, script):
    payload = base64.b64encode((CLIENTS / script).read_bytes()).decode()
    path = f"/tmp/strata-test/{script}"
    check(name, f"mkdir -p /tmp/strata-test && echo {payload} | base64 -d > {path}")
    return path


def put_file(name, local, path):
    """Copy a file of the deploy host to a lab host."""
    payload = base64.b64encode(Path(local).read_bytes()).decode()
    check(name, f"mkdir -p {os.path.dirname(path)} && echo {payload} | base64 -d > {path}")
    return path


def objects(action, prefix=PREFIX, count=COUNT, client_host=None):
    """put/get `count` objects through the VIP as the keystone admin; returns the report."""
    client_host = client_host or PROXIES[0]
    path = put_client(client_host, "swift_objects.py")
    hv = hostvars(client_host)
    out = check(
        client_host,
        f"python3 {path} {action} --auth-url http://{VIP}:5000/v3 --user admin "
        f"--password {hv['keystone_admin_password']} --project admin "
        f"--container {CONTAINER} --prefix {prefix} --count {count}",
    )
    return json.loads(out)


def account():
    """The admin project's swift account (AUTH_<project id>)."""
    report = objects("get", count=0)
    return report["storage_url"].rsplit("/", 1)[1]


def ring_md5s(name):
    return check(name, "cd /etc/swift && md5sum *.ring.gz | sort -k2")


def zone_of(storage_ip):
    """(host, zone) of the storage host with this storage address."""
    for name in inventory.hosts("all"):
        hv = hostvars(name)
        if hv.get("storage_address") == storage_ip:
            return name, hv["swift_vars"]["zone"]
    raise AssertionError(f"no lab host has storage address {storage_ip}")


NODE = re.compile(r'curl -g -I -XHEAD "http://([0-9.]+):(\d+)/([^/]+)/(\d+)/([^"]+)"(.*)$')


def primaries(name, acct, container, obj):
    """The object's primary nodes from swift-get-nodes: [(ip, port, device, curl_command)]."""
    out = check(PROXIES[0], f"swift-get-nodes /etc/swift/object.ring.gz {acct} {container} {name}")
    nodes = []
    for line in out.splitlines():
        match = NODE.search(line)
        if match and "# [Handoff]" not in line:
            ip, port, device = match[1], match[2], match[3]
            nodes.append((ip, port, device, line.strip().split("#")[0].strip()))
    assert len(nodes) == 3, out
    return nodes


def placements(acct, container, names):
    """{object name: primaries(...)} of every object, looked up in parallel."""
    return dict(
        zip(names, in_parallel(lambda n: primaries(n, acct, container, n), names), strict=True)
    )


def direct_head(command):
    """HTTP status of a direct HEAD to an object server (swift-get-nodes' curl command)."""
    quiet = command.replace("curl -g -I", "curl -s -o /dev/null -w '%{http_code}' -g -I")
    return run(PROXIES[0], quiet).stdout.strip()


def converge(*args, json_output=False):
    """ansible-playbook converge.yml on the scenario's inventory: (rc, stdout, stderr)."""
    return _playbook(SCENARIO / "converge.yml", args, json_output)


def setup_swift(*args, json_output=False):
    """playbooks/setup-swift.yml alone (swift's play, not the control plane's): the tests that
    change only swift (a ring, a storage host) run it instead of the whole converge."""
    return _playbook(PROJECT / "playbooks" / "setup-swift.yml", args, json_output)


def _playbook(path, args, json_output):
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"} if json_output else None
    proc = ansible_playbook(*args, str(path), env=env)
    return proc.returncode, proc.stdout, proc.stderr


def ring_results(json_stdout):
    """{ring name: swift_ring result} from a converge run with the json callback."""
    data = json.loads(json_stdout[json_stdout.index("{") :])
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith("Build the rings on the ring host"):
                for result in task["hosts"].values():
                    if "results" in result:
                        return {r["item"]["name"]: r for r in result["results"]}
    raise AssertionError("no ring build results in the output")


def lxc(*args):
    subprocess.run(["lxc-" + args[0], *args[1:]], check=True, capture_output=True, text=True)
