"""Nova in the all-in-one lab cloud: the compute service and its hypervisor are up, libvirt's
migration listener takes TLS clients with a certificate of Strata's libvirt CA only, and an
instance booted through the VIP (no network, microversion 2.37) from the test guest built here
(tests/aio/guest/build-guest.sh: Debian's kernel, a busybox initramfs) runs with its disk in
Ceph's vms pool, writes to an attached cinder RBD volume what `rbd export` then reads, and
leaves no disk behind once deleted."""

import json
import shlex
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

GUEST_SCRIPT = Path(__file__).parent / "guest" / "build-guest.sh"
GUEST_DIR = "/var/tmp/strata-guest"
MARKER = "STRATA-GUEST-MARKER booted"
WRITTEN = "STRATA-GUEST-WROTE"
NAME = "strata-aio-nova"
OPENRC = ". /root/openrc && "


def openstack(aio, command, timeout=300):
    return aio.check(aio.hosts("keystone_all")[0], OPENRC + command, timeout=timeout)


def wait_for(what, probe, timeout, interval=3):
    """Call probe() until it returns a true value; that value, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})")


def copy_between(aio, source_host, source, target_host, target):
    """Copy a file from one lab host to another through this machine (ssh on both ends)."""
    if source_host == target_host:
        return
    reader = aio.ssh_command(source_host, f"cat {shlex.quote(source)}")
    writer = aio.ssh_command(target_host, f"cat > {shlex.quote(target)}")
    with subprocess.Popen(reader, stdout=subprocess.PIPE) as read:
        subprocess.run(writer, stdin=read.stdout, check=True, timeout=300)
    assert read.returncode == 0


@pytest.fixture(scope="module")
def compute(aio):
    hosts = aio.hosts("nova_compute")
    if not hosts:
        pytest.skip("the lab cloud has no compute host")
    return hosts[0]


@pytest.fixture(scope="module")
def guest_image(aio, compute):
    """The test guest, built on the compute host (its apt goes through the lab's proxy) and
    uploaded as glance kernel, ramdisk and a 1 MiB raw root disk naming them."""
    script = GUEST_SCRIPT.read_text()
    aio.check(
        compute,
        f"cat > /tmp/build-guest.sh <<'STRATA_EOF'\n{script}STRATA_EOF\n"
        f"sh /tmp/build-guest.sh {GUEST_DIR}",
        timeout=600,
    )
    api_host = aio.hosts("keystone_all")[0]
    for name in ("vmlinuz", "initrd.gz", "root.raw"):
        copy_between(aio, compute, f"{GUEST_DIR}/{name}", api_host, f"{GUEST_DIR}/{name}")
    created = []
    try:
        kernel = openstack(
            aio,
            f"openstack image create --disk-format aki --container-format aki"
            f" --file {GUEST_DIR}/vmlinuz {NAME}-kernel -f value -c id",
        ).strip()
        created.append(kernel)
        ramdisk = openstack(
            aio,
            f"openstack image create --disk-format ari --container-format ari"
            f" --file {GUEST_DIR}/initrd.gz {NAME}-ramdisk -f value -c id",
        ).strip()
        created.append(ramdisk)
        image = openstack(
            aio,
            f"openstack image create --disk-format raw --container-format bare"
            f" --file {GUEST_DIR}/root.raw --property kernel_id={kernel}"
            f" --property ramdisk_id={ramdisk}"
            " --property os_command_line='console=ttyS0 loglevel=4 panic=-1'"
            f" {NAME}-guest -f value -c id",
        ).strip()
        created.append(image)
        yield image
    finally:
        for image_id in reversed(created):
            openstack(aio, f"openstack image delete {image_id}")


@pytest.fixture(scope="module")
def flavor(aio):
    name = f"{NAME}-tiny"
    openstack(
        aio,
        f"openstack flavor show {name} >/dev/null 2>&1"
        f" || openstack flavor create --ram 256 --disk 1 --vcpus 1 {name} >/dev/null",
    )
    yield name
    openstack(aio, f"openstack flavor delete {name}")


@pytest.fixture(scope="module")
def server(aio, guest_image, flavor):
    """An instance without a network (`--nic none` needs microversion 2.37 or later)."""
    server_id = openstack(
        aio,
        f"openstack --os-compute-api-version 2.37 server create --flavor {flavor}"
        f" --image {guest_image} --nic none --wait {NAME} -f value -c id",
        timeout=600,
    ).strip()
    state = {"id": server_id, "deleted": False}
    yield state
    if not state["deleted"]:
        openstack(aio, f"openstack server delete --wait {server_id}", timeout=300)


def console(aio, server_id):
    return openstack(aio, f"openstack console log show {server_id}")


def vms_images(aio, compute):
    return aio.check(compute, "rbd -p vms ls --id cinder").split()


def test_the_compute_service_and_its_hypervisor_are_up(aio, compute):
    services = json.loads(
        openstack(aio, "openstack compute service list --service nova-compute -f json")
    )
    assert [(s["Host"], s["State"], s["Status"]) for s in services] == [(compute, "up", "enabled")]
    hypervisors = json.loads(openstack(aio, "openstack hypervisor list --long -f json"))
    assert [(h["Hypervisor Hostname"], h["State"], h["Hypervisor Type"]) for h in hypervisors] == [
        (compute, "up", "QEMU")
    ]


def test_nova_status_upgrade_check_passes(aio):
    host = aio.hosts("nova_api_os_compute")[0]
    out = aio.check(host, "runuser -u nova -- nova-status upgrade check", timeout=300)
    assert "Failure" not in out.replace("Result: Success", "")


def test_libvirt_listens_with_tls_on_the_management_address_only(aio, compute):
    address = aio.hostvars[compute]["management_address"]
    listening = aio.check(compute, "ss -Htln '( sport = :16514 or sport = :16509 )'").split("\n")
    assert [line.split()[3] for line in listening if line] == [f"{address}:16514"]
    # The compute's own certificate (server and client) is accepted...
    uri = f"qemu+tls://{address}/system"
    assert "Id" in aio.check(compute, f"virsh -c {uri} list --all")
    # ... a client that trusts the CA but has no certificate of its own is refused.
    refused = aio.run(
        compute,
        "rm -rf /tmp/strata-nocert && mkdir -p /tmp/strata-nocert"
        " && cp /etc/pki/CA/cacert.pem /tmp/strata-nocert/cacert.pem"
        f" && virsh -c '{uri}?pkipath=/tmp/strata-nocert' list",
    )
    assert refused.returncode != 0
    assert "failed to connect to the hypervisor" in refused.stderr + refused.stdout


def test_an_instance_boots_with_its_disk_in_the_vms_pool(aio, compute, server):
    out = wait_for(
        "the guest's marker in its console log",
        lambda: (lambda log: log if MARKER in log and "tick 3 " in log else None)(
            console(aio, server["id"])
        ),
        timeout=300,
    )
    assert out.count(MARKER) == 1
    status = openstack(aio, f"openstack server show {server['id']} -f value -c status").strip()
    assert status == "ACTIVE"
    assert f"{server['id']}_disk" in vms_images(aio, compute)
    disks = aio.check(compute, f"virsh domblklist {shlex.quote(instance_name(aio, server))}")
    assert f"vms/{server['id']}_disk" in disks


def instance_name(aio, server):
    return openstack(
        aio, f"openstack server show {server['id']} -f value -c OS-EXT-SRV-ATTR:instance_name"
    ).strip()


def test_a_cinder_rbd_volume_attached_holds_what_the_guest_wrote(aio, compute, server):
    volume = openstack(
        aio,
        f"openstack volume create --size 1 --type rbd {NAME}-volume -f value -c id && sleep 0",
    ).strip()
    try:
        wait_for(
            "the volume available",
            lambda: openstack(aio, f"openstack volume show {volume} -f value -c status").strip()
            == "available",
            timeout=180,
        )
        openstack(aio, f"openstack server add volume {server['id']} {volume}")
        log = wait_for(
            "the guest's write to vdb in its console log",
            lambda: (lambda text: text if f"vdb written: {WRITTEN}" in text else None)(
                console(aio, server["id"])
            ),
            timeout=180,
        )
        tick = log.split(f"vdb written: {WRITTEN} tick ", 1)[1].split()[0]
        openstack(aio, f"openstack server remove volume {server['id']} {volume}")
        wait_for(
            "the volume detached",
            lambda: openstack(aio, f"openstack volume show {volume} -f value -c status").strip()
            == "available",
            timeout=180,
        )
        # What the guest wrote 1 MiB into the disk is in the RBD image once detached.
        block = aio.check(
            compute,
            f"rbd export volumes/volume-{volume} - --id cinder 2>/dev/null"
            " | dd bs=512 skip=2048 count=1 2>/dev/null | head -n 1",
            timeout=180,
        )
        assert block.strip("\x00\n") == f"{WRITTEN} tick {tick}"
    finally:
        openstack(
            aio,
            f"openstack volume delete {volume}"
            f" && for i in $(seq 60); do openstack volume show {volume} >/dev/null 2>&1"
            " || break; sleep 2; done",
        )


def test_a_deleted_instance_leaves_no_disk_in_the_vms_pool(aio, compute, server):
    openstack(aio, f"openstack server delete --wait {server['id']}", timeout=300)
    server["deleted"] = True
    assert f"{server['id']}_disk" not in vms_images(aio, compute)
