"""The all-in-one lab cloud (`make aio`), checked from the outside with real clients.

STRATA_LAB_CONFIG_DIR names the config dir the lab was deployed from; the hosts and their
addresses come from the Strata inventory of that config dir, and they are reached over ssh
with the lab's key and known_hosts (as ansible reaches them).
"""

import base64
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from strata import inventory as strata_inventory

LAB_STATE = "/var/lib/strata/lab"


@pytest.fixture(scope="session")
def aio():
    config_dir = os.environ.get("STRATA_LAB_CONFIG_DIR")
    if not config_dir:
        pytest.skip("set STRATA_LAB_CONFIG_DIR to the config dir of the deployed lab cloud")
    _config, inventory, _warnings = strata_inventory.generate(config_dir, write=False)
    return Cloud(inventory, config_dir)


class Cloud:
    def __init__(self, inventory, config_dir):
        self.inventory = inventory
        self.hostvars = inventory["_meta"]["hostvars"]
        self.vip = inventory["all"]["vars"]["internal_lb_vip_address"]
        self.external_vip = inventory["all"]["vars"]["external_lb_vip_address"]
        # Strata's CA (haproxy_server), which signed the external VIP's certificate.
        self.ca = Path(config_dir) / "tls" / "strata-ca.crt"

    def put_ca(self, host, path="/tmp/strata-aio-ca.crt"):
        """Give a client on a lab host the CA (as an operator gives it to theirs)."""
        payload = base64.b64encode(self.ca.read_bytes()).decode()
        self.check(host, f"echo {payload} | base64 -d > {path}")
        return path

    def endpoint_urls(self, service):
        """{interface: URL} of a catalog service, read with the client on the keystone host."""
        out = self.check(
            self.hosts("keystone_all")[0],
            f". /root/openrc && openstack endpoint list --service {shlex.quote(service)}"
            " -f value -c Interface -c URL",
        )
        return dict(line.split() for line in out.splitlines())

    def hosts(self, group):
        return sorted(self.inventory.get(group, {}).get("hosts", []))

    def ssh_command(self, host, command):
        """The argv that runs a shell command on a lab host as root."""
        return [
            "ssh",
            "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={LAB_STATE}/known_hosts",
            "-i", f"{LAB_STATE}/ssh/id_ed25519",
            f"root@{self.hostvars[host]['management_address']}",
            f"sh -c {shlex.quote(command)}",
        ]  # fmt: skip

    def run(self, host, command, timeout=120):
        """Run a shell command on a lab host as root; returns the CompletedProcess."""
        ssh = self.ssh_command(host, command)
        return subprocess.run(ssh, capture_output=True, text=True, timeout=timeout, check=False)

    def check(self, host, command, timeout=120):
        result = self.run(host, command, timeout)
        assert result.returncode == 0, f"{host}: {command}: {result.stderr or result.stdout}"
        return result.stdout
