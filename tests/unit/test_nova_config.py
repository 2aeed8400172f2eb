"""strata.nova_config through strata.config.load: the computes' ephemeral storage and the
libvirt secret cinder's RBD backends name are checked before any host changes, each problem
with file:line, key, value and what was expected."""

import textwrap

from test_config_validation import line_of as line
from test_config_validation import problems_of
from test_config_validation import write as load

from strata import config

BASE = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
    used_ips:
      - "10.0.0.1,10.0.0.9"
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 203.0.113.9
      nova:
        ephemeral: rbd
        rbd_pool: vms
    shared-infra_hosts:
      infra1: {ip: 10.0.0.11}
    compute_hosts:
      compute1: {ip: 10.0.0.31}
      compute2: {ip: 10.0.0.32}
    storage_hosts:
      store1:
        ip: 10.0.0.21
        container_vars:
          cinder_backends:
            rbd:
              volume_driver: cinder.volume.drivers.rbd.RBDDriver
              rbd_pool: volumes
              rbd_user: cinder
              rbd_secret_uuid: "{{ cinder_ceph_client_uuid }}"
    ceph-mon_hosts:
      mon1: {ip: 10.0.0.14}
    """
)

NFS_MOUNT = """\
  shared_mounts:
    nova_compute:
      - what: 10.0.1.50:/srv/nova
        where: /var/lib/nova/instances
        type: nfs4
"""


def problems(tmp_path, text):
    path = load(tmp_path, text)
    return path, problems_of(tmp_path)


def nova_warnings(tmp_path, text):
    load(tmp_path, text)
    _cfg, warnings = config.load(tmp_path)
    return [w for w in warnings if "global_overrides.nova" in w or "rbd_user" in w]


def test_base_is_valid(tmp_path):
    load(tmp_path, BASE)
    cfg, warnings = config.load(tmp_path)
    assert cfg.global_overrides["nova"]["ephemeral"] == "rbd"
    assert nova_warnings(tmp_path, BASE) == []


def test_an_ephemeral_mode_that_is_neither(tmp_path):
    text = BASE.replace("ephemeral: rbd", "ephemeral: nfs")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'ephemeral: nfs')}: global_overrides.nova.ephemeral: 'nfs' is not "
        "an ephemeral mode; expected rbd (Ceph RBD, pool vms) or instances_path (files, on a "
        "shared mount)"
    ]


def test_rbd_without_ceph(tmp_path):
    text = BASE.replace("ceph-mon_hosts:\n  mon1: {ip: 10.0.0.14}\n", "")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'ephemeral: rbd')}: global_overrides.nova.ephemeral: rbd but the "
        "config has no Ceph (no ceph-mon_hosts); expected ceph-mon_hosts, or ephemeral: "
        "instances_path"
    ]


def test_rbd_pool_missing_from_the_pools(tmp_path):
    text = BASE.replace("  nova:\n", "  ceph_mon_pools:\n    - {name: volumes}\n  nova:\n")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'rbd_pool: vms')}: global_overrides.nova.rbd_pool: pool vms is not "
        "in global_overrides.ceph_mon_pools (volumes); expected a pool vms there (application "
        "rbd), which client.cinder's caps name"
    ]


def test_an_unknown_key(tmp_path):
    text = BASE.replace("rbd_pool: vms", "rbd_pol: vms")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'rbd_pol')}: global_overrides.nova.rbd_pol: unknown key; expected "
        "one of ephemeral, instances_path, rbd_pool"
    ]


def test_instances_path_without_a_shared_mount_is_a_warning(tmp_path):
    text = BASE.replace("ephemeral: rbd", "ephemeral: instances_path")
    assert nova_warnings(tmp_path, text) == [
        f"{tmp_path / config.CONFIG_FILE}:{line(text, 'ephemeral: instances_path')}: "
        "global_overrides.nova: instances_path /var/lib/nova/instances is on no shared mount "
        "of the computes (compute1, compute2): each keeps its own disks, so live migration "
        "needs block migration and an evacuated instance is rebuilt from its image; expected "
        "a global_overrides.shared_mounts.nova_compute mount at /var/lib/nova/instances, or "
        "ephemeral: rbd"
    ]


def test_instances_path_on_a_shared_mount(tmp_path):
    text = BASE.replace("ephemeral: rbd", "ephemeral: instances_path").replace(
        "  nova:\n", NFS_MOUNT + "  nova:\n"
    )
    assert nova_warnings(tmp_path, text) == []


def test_a_relative_instances_path(tmp_path):
    text = BASE.replace(
        "ephemeral: rbd", "ephemeral: instances_path\n    instances_path: nova/instances"
    )
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'instances_path: nova')}: global_overrides.nova.instances_path: "
        "'nova/instances' is not an absolute path; expected e.g. /var/lib/nova/instances"
    ]


def test_an_rbd_backend_naming_another_secret(tmp_path):
    uuid = "5b0c6f2e-8a5d-4f47-9d4e-6c2a1e3b7f90"
    text = BASE.replace('"{{ cinder_ceph_client_uuid }}"', uuid)
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, uuid)}: store1.container_vars.cinder_backends.rbd.rbd_secret_uuid: "
        f"'{uuid}' is not the UUID of the computes' libvirt secret; expected "
        "'{{ cinder_ceph_client_uuid }}' (nova would look for a secret no compute holds, and "
        "the attach would fail)"
    ]


def test_the_uuid_may_be_set_once_for_both(tmp_path):
    uuid = "5b0c6f2e-8a5d-4f47-9d4e-6c2a1e3b7f90"
    text = BASE.replace('"{{ cinder_ceph_client_uuid }}"', uuid).replace(
        "  nova:\n", f"  nova_compute_rbd_secret_uuid: {uuid}\n  nova:\n"
    )
    load(tmp_path, text)
    config.load(tmp_path)


def test_an_rbd_backend_of_another_user_is_a_warning(tmp_path):
    text = BASE.replace("rbd_user: cinder", "rbd_user: volumes2")
    assert nova_warnings(tmp_path, text) == [
        f"{tmp_path / config.CONFIG_FILE}:{line(text, 'rbd_user: volumes2')}: "
        "store1.container_vars.cinder_backends.rbd.rbd_user: 'volumes2', but the computes hold "
        "the libvirt secret of client.cinder only: nova cannot attach this backend's volumes; "
        "expected rbd_user: cinder"
    ]


def test_a_compute_without_a_storage_address(tmp_path):
    text = BASE.replace("  storage: 10.0.1.0/24\n", "")
    _path, found = problems(tmp_path, text)
    assert len(found) == 1
    assert "cidr_networks.storage: missing; expected a CIDR because hosts in" in found[0]
    assert "compute_hosts" in found[0] and "need storage addresses" in found[0]
