"""strata.glance_config through strata.config.load: the shared mounts and glance stores a config
declares are checked before any host changes, each problem with file:line, key, value and what
was expected."""

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
      shared_mounts:
        glance_api:
          - what: none
            where: /var/lib/glance/images
            type: fuse.ceph
            options: ceph.id=glance-share,ceph.client_mountpoint=/glance
      glance:
        stores: [file, rbd]
        default_store: rbd
    shared-infra_hosts:
      infra1: {ip: 10.0.0.11}
      infra2: {ip: 10.0.0.12}
      infra3: {ip: 10.0.0.13}
    image_hosts:
      infra1: {ip: 10.0.0.11}
      infra2: {ip: 10.0.0.12}
    ceph-mon_hosts:
      mon1: {ip: 10.0.0.14}
      mon2: {ip: 10.0.0.15}
      mon3: {ip: 10.0.0.16}
    """
)


def problems(tmp_path, text):
    path = load(tmp_path, text)
    return path, problems_of(tmp_path)


def test_base_is_valid(tmp_path):
    load(tmp_path, BASE)
    cfg, _warnings = config.load(tmp_path)
    assert cfg.global_overrides["glance"]["default_store"] == "rbd"


def test_a_mount_without_source(tmp_path):
    text = BASE.replace("      - what: none\n        where", "      - where")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, '- where:')}: global_overrides.shared_mounts.glance_api[0].what: "
        "missing; expected the source, e.g. 'nfs1:/srv/glance' (NFS), 'mon1,mon2:/glance' "
        "(kernel CephFS) or 'none' (fuse.ceph)"
    ]


def test_an_empty_source(tmp_path):
    text = BASE.replace("what: none", "what: ''")
    path, found = problems(tmp_path, text)
    assert found[0].startswith(
        f"{path}:{line(text, 'what:')}: global_overrides.shared_mounts.glance_api[0].what: "
        "'' is not a source;"
    )


def test_a_relative_mount_point(tmp_path):
    text = BASE.replace("where: /var/lib/glance/images", "where: var/lib/glance/images")
    path, found = problems(tmp_path, text)
    assert found[0] == (
        f"{path}:{line(text, 'where:')}: global_overrides.shared_mounts.glance_api[0].where: "
        "'var/lib/glance/images' is not an absolute path; expected the mount point, an "
        "absolute path such as /var/lib/glance/images"
    )


def test_a_fuse_ceph_mount_without_a_ceph_user(tmp_path):
    text = BASE.replace("ceph.id=glance-share,", "")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'options:')}: global_overrides.shared_mounts.glance_api[0].options: "
        "'ceph.client_mountpoint=/glance' names no Ceph user; expected ceph.id=USER (and "
        "ceph.client_mountpoint=/PATH for a path-scoped key)"
    ]


def test_an_unknown_mount_group_and_key(tmp_path):
    text = BASE.replace("    glance_api:\n", "    glance:\n").replace(
        "type: fuse.ceph", "type: fuse.ceph\n        fstype: x"
    )
    path, found = problems(tmp_path, text)
    assert found[0] == (
        f"{path}:{line(text, '    glance:')}: global_overrides.shared_mounts.glance: unknown "
        "group 'glance'; expected one of glance_api, nova_compute, cinder_volume"
    )


def test_an_unknown_store(tmp_path):
    text = BASE.replace("stores: [file, rbd]", "stores: [file, swift]").replace(
        "default_store: rbd", "default_store: file"
    )
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'stores:')}: global_overrides.glance.stores: unknown store "
        "'swift'; expected file or rbd"
    ]


def test_a_default_store_that_is_not_enabled(tmp_path):
    text = BASE.replace("stores: [file, rbd]", "stores: [file]")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'default_store:')}: global_overrides.glance.default_store: 'rbd' "
        "is not an enabled store; expected one of stores (file)"
    ]


def test_rbd_without_ceph(tmp_path):
    text = BASE.split("ceph-mon_hosts:")[0].replace(
        "      - what: none\n        where: /var/lib/glance/images\n"
        "        type: fuse.ceph\n"
        "        options: ceph.id=glance-share,ceph.client_mountpoint=/glance\n",
        "      - what: nfs1:/srv/glance\n        where: /var/lib/glance/images\n"
        "        type: nfs4\n",
    )
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'stores:')}: global_overrides.glance.stores: rbd but the config "
        "has no Ceph (no ceph-mon_hosts); expected ceph-mon_hosts, or the file store only"
    ]


def test_a_ceph_mount_without_ceph(tmp_path):
    text = BASE.split("ceph-mon_hosts:")[0].replace("stores: [file, rbd]", "stores: [file]")
    text = text.replace("default_store: rbd", "default_store: file")
    path, found = problems(tmp_path, text)
    assert found[0] == (
        f"{path}:{line(text, 'type: fuse.ceph')}: global_overrides.shared_mounts.glance_api[0]"
        ".type: fuse.ceph but the config has no Ceph (no ceph-mon_hosts); expected "
        "ceph-mon_hosts, or another file system type"
    )


def test_a_file_store_of_several_hosts_needs_a_shared_mount(tmp_path):
    text = BASE.replace("where: /var/lib/glance/images", "where: /srv/other")
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:{line(text, 'stores:')}: global_overrides.glance.stores: the file store in "
        "/var/lib/glance/images is on no shared mount, but there are 2 glance hosts (infra1, "
        "infra2): each would keep its own images; expected a "
        "global_overrides.shared_mounts.glance_api mount at /var/lib/glance/images, or the rbd "
        "store only"
    ]


def test_a_defaulted_file_store_without_a_shared_mount_is_a_warning_at_global_overrides(tmp_path):
    # OpenStack-Ansible's configs name no glance store and must load unchanged: the defaulted
    # file store on several hosts is a warning; the same store written out is an error (above).
    text = BASE.replace("  glance:\n    stores: [file, rbd]\n    default_store: rbd\n", "").replace(
        "where: /var/lib/glance/images", "where: /srv/other"
    )
    path = load(tmp_path, text)
    _, warnings = config.load(tmp_path)
    assert [w for w in warnings if "glance" in w] == [
        f"{path}:{line(text, 'global_overrides:')}: global_overrides.glance.stores: the file "
        "store in /var/lib/glance/images is on no shared mount, but there are 2 glance hosts "
        "(infra1, infra2): each would keep its own images; expected a "
        "global_overrides.shared_mounts.glance_api mount at /var/lib/glance/images, or the rbd "
        "store only (glance.stores is not set; file is the default)"
    ]


def test_one_bad_config_reports_every_problem(tmp_path):
    text = BASE.replace("what: none\n", "what: ''\n").replace(
        "where: /var/lib/glance/images", "where: images"
    )
    text = text.replace("stores: [file, rbd]", "stores: [cache]")
    _path, found = problems(tmp_path, text)
    assert [p.split(": ")[1] for p in found] == [
        "global_overrides.shared_mounts.glance_api[0].what",
        "global_overrides.shared_mounts.glance_api[0].where",
        "global_overrides.glance.stores",
        "global_overrides.glance.default_store",
    ]
