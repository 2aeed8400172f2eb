"""strata.cinder_config: every cinder backend trap is a config error naming file:line, key, value
and what was expected, found by `strata.config.load` before anything touches a host."""

import textwrap

import pytest

from strata import cinder_config, config
from strata.errors import ValidationError

LVM = "cinder.volume.drivers.lvm.LVMVolumeDriver"
NFS = cinder_config.NFS
NS4 = "cinder.volume.drivers.nexenta.iscsi.NexentaISCSIDriver"
NS5 = "cinder.volume.drivers.nexenta.ns5.iscsi.NexentaISCSIDriver"

BASE = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
    used_ips:
      - "10.0.0.1,10.0.0.9"
      - 10.0.1.1
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 203.0.113.9
      cinder_default_volume_type: rbd
      cinder_backends:
        rbd:
          volume_driver: cinder.volume.drivers.rbd.RBDDriver
          rbd_pool: volumes
          rbd_user: cinder
          rbd_secret_uuid: 5b9a6f0e-3b55-4e2c-9a49-2a4f3b7c1d10
    shared-infra_hosts:
      infra1:
        ip: 10.0.0.11
    storage-infra_hosts:
      infra1:
        ip: 10.0.0.11
    storage_hosts:
      store1:
        ip: 10.0.0.21
        container_vars:
          cinder_backends:
            lvm:
              volume_driver: cinder.volume.drivers.lvm.LVMVolumeDriver
              volume_group: cinder-volumes
              devices: [/dev/sdb]
            nexenta:
              volume_driver: cinder.volume.drivers.nexenta.iscsi.NexentaISCSIDriver
              nexenta_host: 10.0.1.50
              nexenta_rest_port: 8457
              nexenta_volume: cinder
              nexenta_user: admin
              nexenta_password: "{{ cinder_nexenta_password }}"
            nfs:
              volume_driver: cinder.volume.drivers.nfs.NfsDriver
              shares:
                - nfs1.example.org:/srv/cinder
                - {ip: 10.0.1.60, share: /export/cinder}
      store2:
        ip: 10.0.0.22
    compute_hosts:
      compute1:
        ip: 10.0.0.31
    """
)


def load(tmp_path, text):
    path = tmp_path / config.CONFIG_FILE
    path.write_text(text)
    return path, config.load(tmp_path)


def problems_of(tmp_path, text):
    path = tmp_path / config.CONFIG_FILE
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        config.load(tmp_path)
    return path, caught.value.problems


def line_of(text, needle):
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_base_is_valid(tmp_path):
    _, (cfg, _) = load(tmp_path, BASE)
    assert set(cfg.hosts["store1"].host_vars["cinder_backends"]) == {"lvm", "nexenta", "nfs"}


def test_a_backend_without_volume_driver(tmp_path):
    text = BASE.replace(f"          volume_driver: {LVM}\n", "")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, '        lvm:')}: store1.container_vars.cinder_backends.lvm."
        "volume_driver: missing; expected one of "
        + ", ".join(
            (
                LVM,
                "cinder.volume.drivers.rbd.RBDDriver",
                "cinder.volume.drivers.nfs.NfsDriver",
                NS4,
                NS5,
            )
        )  # fmt: skip
    ]


def test_an_unknown_driver_suggests_the_near_one(tmp_path):
    text = BASE.replace(LVM, "cinder.volume.drivers.lvm.LVMVolumeDrivr")
    path, problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{path}:{line_of(text, 'LVMVolumeDrivr')}: store1.container_vars.cinder_backends.lvm."
        "volume_driver: 'cinder.volume.drivers.lvm.LVMVolumeDrivr' is not a driver Strata deploys"
    )
    assert problems[0].endswith(f"; did you mean {LVM}?")


def test_a_missing_required_option_is_named(tmp_path):
    text = BASE.replace("          nexenta_host: 10.0.1.50\n", "")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, '        nexenta:')}: store1.container_vars.cinder_backends."
        f"nexenta.nexenta_host: missing; {NS4} needs nexenta_host"
    ]


def test_ns4_port_must_be_set_because_the_driver_uses_0_as_written(tmp_path):
    path, problems = problems_of(tmp_path, BASE.replace("          nexenta_rest_port: 8457\n", ""))
    assert problems[0].endswith(
        f"nexenta.nexenta_rest_port: missing; {NS4} needs nexenta_rest_port"
    )
    text = BASE.replace("nexenta_rest_port: 8457", "nexenta_rest_port: 0")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'nexenta_rest_port')}: store1.container_vars.cinder_backends."
        "nexenta.nexenta_rest_port: 0 is not valid; expected the appliance's NMS port (1-65535, "
        "usually 8457): NexentaStor 4's driver uses it as written"
    ]


def test_san_login_is_refused_because_the_nexenta_drivers_read_nexenta_user(tmp_path):
    text = BASE.replace("          nexenta_user: admin\n", "          san_login: admin\n")
    path, problems = problems_of(tmp_path, text)
    assert (
        f"{path}:{line_of(text, 'san_login')}: store1.container_vars.cinder_backends.nexenta."
        f"san_login: is not read by {NS4}; set nexenta_user instead"
    ) in problems
    assert any(
        p.endswith(f"nexenta.nexenta_user: missing; {NS4} needs nexenta_user") for p in problems
    )


def test_a_nexenta_password_written_in_the_config_is_refused(tmp_path):
    text = BASE.replace('"{{ cinder_nexenta_password }}"', "nexenta")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'nexenta_password')}: store1.container_vars.cinder_backends."
        "nexenta.nexenta_password: is written in the config; expected a reference to a secret "
        "kept in user_secrets.yml, e.g. '{{ cinder_nexenta_password }}'"
    ]


def test_ns5_portal_host_must_be_an_address_the_appliance_lists(tmp_path):
    text = BASE.replace(NS4, NS5).replace(
        "nexenta_host: 10.0.1.50", "nexenta_host: nexenta1.example.org"
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'nexenta_host')}: store1.container_vars.cinder_backends.nexenta."
        "nexenta_host: 'nexenta1.example.org' is not an IP address; expected one of the "
        "appliance's addresses (NexentaStor 5's driver drops a portal the appliance does not "
        "list as its own, and then exports volumes with no portal)"
    ]


def test_two_backends_with_one_backend_name_and_different_drivers(tmp_path):
    text = BASE.replace(
        "      rbd_pool: volumes\n",
        "      rbd_pool: volumes\n      volume_backend_name: lvm\n",
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, '        lvm:')}: store1.container_vars.cinder_backends.lvm."
        "volume_backend_name: 'lvm' is also the volume_backend_name of "
        "global_overrides.cinder_backends.rbd, which uses cinder.volume.drivers.rbd.RBDDriver, "
        f"not {LVM}; expected one driver per volume_backend_name (the scheduler mixes their "
        "volumes otherwise)"
    ]


def test_an_nfs_share_that_is_not_host_path(tmp_path):
    text = BASE.replace("nfs1.example.org:/srv/cinder", "nfs1.example.org/srv/cinder")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'nfs1.example.org')}: store1.container_vars.cinder_backends.nfs."
        "shares[0]: 'nfs1.example.org/srv/cinder' is not an NFS share; expected host:/path"
    ]


def test_a_backend_on_a_host_not_in_storage_hosts(tmp_path):
    text = BASE.replace(
        "  compute1:\n    ip: 10.0.0.31\n",
        "  compute1:\n    ip: 10.0.0.31\n    container_vars:\n"
        f"      cinder_backends:\n        lvm:\n          volume_driver: {LVM}\n",
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, '  compute1:')}: compute1.container_vars.cinder_backends: host "
        "compute1 has cinder backends but is not in storage_hosts; expected it under "
        "storage_hosts (where cinder-volume runs) or no cinder_backends"
    ]


def test_strata_writes_target_ip_address_itself(tmp_path):
    text = BASE.replace(
        "          volume_group:",
        "          target_ip_address: 10.0.0.21\n          volume_group:",
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'target_ip_address')}: store1.container_vars.cinder_backends.lvm."
        "target_ip_address: '10.0.0.21' must not be set: Strata writes the host's storage "
        "address there"
    ]


def test_the_default_volume_type_must_be_a_backend(tmp_path):
    text = BASE.replace("cinder_default_volume_type: rbd", "cinder_default_volume_type: ceph")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:{line_of(text, 'cinder_default_volume_type')}: global_overrides."
        "cinder_default_volume_type: 'ceph' is not a backend; expected one of lvm, nexenta, "
        "nfs, rbd"
    ]


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        BASE.replace("nexenta_rest_port: 8457", "nexenta_rest_port: 0")
        .replace("nfs1.example.org:/srv/cinder", "nowhere")
        .replace("      rbd_pool: volumes\n", "")
    )
    _, problems = problems_of(tmp_path, text)
    assert len(problems) == 3


def test_backend_sections_put_the_storage_address_in_every_iscsi_backend(tmp_path):
    _, (cfg, _) = load(tmp_path, BASE)
    backends = cfg.hosts["store1"].host_vars["cinder_backends"]
    sections = cinder_config.backend_sections(backends, "10.0.1.21")
    assert list(sections) == ["lvm", "nexenta", "nfs"]
    assert sections["lvm"] == {
        "volume_driver": LVM,
        "volume_group": "cinder-volumes",
        "volume_backend_name": "lvm",
        "target_helper": "tgtadm",
        "target_protocol": "iscsi",
        "target_ip_address": "10.0.1.21",
    }
    assert "target_ip_address" not in sections["nexenta"]
    assert sections["nexenta"]["nexenta_rest_port"] == "8457"
    assert sections["nfs"]["nfs_shares_config"] == "/etc/cinder/nfs_shares_nfs"
    assert "shares" not in sections["nfs"]
    assert cinder_config.share_lines(backends["nfs"]) == [
        "nfs1.example.org:/srv/cinder",
        "10.0.1.60:/export/cinder",
    ]


def test_osa_style_options_are_accepted_where_cinder_can_use_them():
    """OSA's own examples set nfs_shares_config and iscsi_ip_address on their backends."""
    backends = {
        "nfs": {"volume_driver": NFS, "shares": ["nfs1:/srv"], "nfs_shares_config": "/etc/c/s"},
        "lvm": {"volume_driver": LVM, "volume_group": "cinder-volumes"},
    }
    sections = cinder_config.backend_sections(backends, "10.0.1.21")
    assert sections["nfs"]["nfs_shares_config"] == "/etc/c/s"
    assert sections["lvm"]["target_ip_address"] == "10.0.1.21"
