"""glance-api on every image host: its address, its users, its binding to the shared mount,
its catalog entries; the NFS path of role shared_mount rendered and verified."""

from pathlib import Path

import pytest
from gl import GLANCE, INFRA, MOUNT_UNIT, PORT, STORE_DIR, VIP, check, host

from tests.infra import inventory
from tests.infra.playbook import ansible_playbook

PINNED = {"glance": 64062, "cinder": 64061, "nova": 64060, "libvirt-qemu": 64055}


@pytest.mark.parametrize("name", GLANCE)
def test_glance_api_listens_on_the_management_address_only(name):
    # HAProxy (on the infra host) holds the VIPs' port 9292: only glance-api's own sockets count.
    listening = check(
        name, f"ss -Hltnp 'sport = :{PORT}' | grep glance-api | awk '{{print $4}}' | sort -u"
    )
    address = inventory.hostvars(name)["management_address"]
    assert listening.split() == [f"{address}:{PORT}"]


@pytest.mark.parametrize("name", GLANCE)
def test_service_users_have_the_same_ids_on_every_glance_host(name):
    for user, uid in PINNED.items():
        entry = check(name, f"getent passwd {user}").split(":")
        assert int(entry[2]) == uid, (name, entry)
    assert check(name, "getent group glance").split(":")[2] == "64062"
    assert "glance" in check(name, "id -nG glance").split()


@pytest.mark.parametrize("name", GLANCE)
def test_glance_api_is_bound_to_the_shared_mount(name):
    shown = check(name, "systemctl show glance-api -p BindsTo -p After -p RequiresMountsFor")
    assert f"BindsTo={MOUNT_UNIT}" in shown
    assert STORE_DIR in shown
    assert host(name).service(MOUNT_UNIT).is_running
    fstype = check(name, f"findmnt -n -o FSTYPE {STORE_DIR}").strip()
    assert fstype == "fuse.ceph-fuse"
    owner = check(name, f"stat -c %U:%G {STORE_DIR}").strip()
    assert owner == "glance:glance"


def test_image_endpoints_are_on_the_vips():
    out = check(
        INFRA,
        ". /root/openrc && openstack endpoint list --service image -f value -c Interface -c URL",
    )
    urls = dict(line.split() for line in out.splitlines())
    external = inventory.hostvars(INFRA)["external_lb_vip_address"]
    assert urls == {
        "internal": f"http://{VIP}:{PORT}",
        "admin": f"http://{VIP}:{PORT}",
        "public": f"https://{external}:{PORT}",  # HAProxy serves the external VIP over TLS
    }


def test_nfs_mount_unit_renders_and_verifies():
    """The production path (NFS) is rendered by the role and checked by systemd; only mounting
    it is left out here."""
    # On the host the checks below read (the play's glance_api[0] is in inventory order).
    proc = ansible_playbook(str(Path(__file__).with_name("nfs_unit.yml")), "--limit", GLANCE[0])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    unit = "/tmp/strata-test/nfs/var-lib-nova-instances.mount"
    text = check(GLANCE[0], f"cat {unit}")
    assert "What=nfs1.example.org:/srv/nova" in text
    assert "Type=nfs4" in text and "Options=vers=4.2,hard,_netdev" in text
    verify = check(
        GLANCE[0],
        f"apt-get install -y -q nfs-common >/dev/null && "
        f"systemd-analyze verify {unit} 2>&1; echo rc=$?",
    )
    assert verify.strip().endswith("rc=0"), verify
    assert "nfs1.example.org" not in check(GLANCE[0], "findmnt -n -o SOURCE -t nfs,nfs4 || true")
    pytest.skip(
        "mounting NFS: the lab machine's kernel has no NFS client (see LAB.md); the unit "
        "renders and `systemd-analyze verify` accepts it"
    )
