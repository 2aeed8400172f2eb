"""Helpers of the control-plane scenario's tests: lab hosts, SQL on a node, cluster waits."""

import base64
import json
import os
from functools import cache
from pathlib import Path

import testinfra

from tests.infra import inventory
from tests.infra.playbook import ansible_playbook, recap, wait_for  # noqa: F401 (for the tests)

SCENARIO = Path(__file__).resolve().parent.parent
PROJECT = SCENARIO.parent.parent
CLIENTS = Path(__file__).resolve().parent / "clients"
GALERA = inventory.hosts("galera_all")
RABBITMQ = inventory.hosts("rabbitmq_all")
HAPROXY = inventory.hosts("haproxy_all")
KEYSTONE = inventory.hosts("keystone_all")
VIP = inventory.hostvars(GALERA[0])["internal_lb_vip_address"]
# The drills' own database and user (created by the tests, never by the roles).
DRILL_DB = "strata_drill"
DRILL_USER = "strata_drill"
DRILL_PASSWORD = "drill-secret"


@cache
def host(name):
    directory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={directory}")


def address(name):
    return inventory.hostvars(name)["management_address"]


def run(name, command, timeout=None):
    """Run `command` on lab host `name`; returns the testinfra result (never raises)."""
    if timeout:
        command = f"timeout {timeout} sh -c {quote(command)}"
    return host(name).run(command)


def check(name, command):
    result = run(name, command)
    assert result.rc == 0, f"{name}: {command}: rc={result.rc} {result.stderr or result.stdout}"
    return result.stdout


def quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def put_client(name, script):
    """Copy tests/clients/<script> to /tmp/strata-drill/ on the host; returns its path."""
    payload = base64.b64encode((CLIENTS / script).read_bytes()).decode()
    path = f"/tmp/strata-drill/{script}"
    check(name, f"mkdir -p /tmp/strata-drill && echo {payload} | base64 -d > {path}")
    return path


def sql(name, statement):
    """Rows (lists of strings) of `statement` run as root through the node's unix socket."""
    out = check(name, f"mariadb -N -B -e {quote(statement)}")
    return [line.split("\t") for line in out.splitlines() if line]


def wsrep(name):
    """The node's wsrep status (name -> value), or {} when mariadb does not answer."""
    result = run(name, "mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep%'\"")
    if result.rc != 0:
        return {}
    return dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)


def galera_healthy(names=GALERA):
    states = [wsrep(n) for n in names]
    return all(
        s.get("wsrep_cluster_size") == str(len(GALERA))
        and s.get("wsrep_local_state_comment") == "Synced"
        and s.get("wsrep_cluster_status") == "Primary"
        for s in states
    )


def haproxy_stats(name):
    """Rows of haproxy's `show stat` on host `name`, as dicts."""
    out = check(name, "echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    lines = [line for line in out.splitlines() if line]
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]


def vip_holder():
    holders = [n for n in HAPROXY if VIP in check(n, "ip -o -4 addr show")]
    assert len(holders) == 1, f"the VIP {VIP} is on {holders or 'no host'} (expected one host)"
    return holders[0]


def galera_backends(name):
    rows = haproxy_stats(name)
    return [r for r in rows if r["pxname"] == "galera-back" and r["svname"] in GALERA]


def active_writer():
    """The galera backend haproxy sends writes to now (on the VIP holder)."""
    rows = galera_backends(vip_holder())
    up_active = [r["svname"] for r in rows if r["status"] == "UP" and r["bck"] == "0"]
    if up_active:
        return up_active[0]
    up_backup = [r["svname"] for r in rows if r["status"] == "UP" and r["bck"] == "1"]
    return up_backup[0] if up_backup else None


def ensure_drill_database():
    """The drills' database, table and user (through the first node's socket)."""
    first = GALERA[0]
    sql(first, f"CREATE DATABASE IF NOT EXISTS {DRILL_DB}")
    sql(
        first,
        f"CREATE TABLE IF NOT EXISTS {DRILL_DB}.rows (run VARCHAR(40) NOT NULL, "
        "n INT NOT NULL, node VARCHAR(64), PRIMARY KEY (run, n)) ENGINE=InnoDB",
    )
    sql(first, f"CREATE USER IF NOT EXISTS '{DRILL_USER}'@'%' IDENTIFIED BY '{DRILL_PASSWORD}'")
    sql(first, f"GRANT ALL ON {DRILL_DB}.* TO '{DRILL_USER}'@'%'")


def rows_on(name, run_id):
    """Row numbers of drill run `run_id` as node `name` holds them (after catching up)."""
    out = sql(
        name,
        f"SET SESSION wsrep_sync_wait = 1; SELECT n FROM {DRILL_DB}.rows WHERE run = '{run_id}'",
    )
    return {int(r[0]) for r in out}


def write_rows(client_host, run_id, first, count):
    """Write rows first..first+count-1 through the VIP; returns the numbers acknowledged."""
    path = put_client(client_host, "galera_writer.py")
    out = check(
        client_host,
        f"python3 {path} --host {VIP} --user {DRILL_USER} --password {DRILL_PASSWORD} "
        f"--database {DRILL_DB} --run {run_id} --first {first} --count {count} --seconds 60",
    )
    report = json.loads(out)
    return set(report["acked"])
