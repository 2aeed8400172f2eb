#!/usr/bin/python
# Copyright: Strata contributors
# Apache License 2.0 (see setup.cfg)
"""Ansible module ceph_key: a cephx key and its caps, declared."""

DOCUMENTATION = r"""
---
module: ceph_key
short_description: Create, reconcile or delete a cephx key (an entity and its caps)
description:
  - Makes one entity of a running ceph cluster's auth database (C(client.glance),
    C(client.cinder), C(mgr.host1)...) hold the declared caps and, when given, the declared
    secret. O(caps) is the whole set; a service left out of it loses its cap.
  - Reads the entity with C(ceph auth get NAME --format json). Creates it with
    C(ceph auth import) from a keyring file (when O(secret) is given) or C(ceph auth add) (ceph
    generates the secret); changes caps with C(ceph auth caps), which keeps the secret.
  - The secret never appears on a command line, in the result, in the diff or in an error. It
    reaches ceph in a keyring file, mode 0600 in a private temporary directory, deleted right
    after C(ceph auth import) read it. A secret change shows in the diff as a C(key) line that says
    C(changed).
  - An entity that exists with another secret than O(secret) is refused, because replacing a key
    cuts off every client that holds the old one (keyrings on other hosts, libvirt secrets,
    cinder and nova configs). O(force_secret=true) replaces it.
  - Run it on a host with the C(ceph) command and an admin key (a monitor host), once per
    cluster (C(run_once) or C(delegate_to)). Writing the keyring files clients read is another
    task's job (the module returns no secret to write).
version_added: "0.1.0"
author:
  - Strata contributors
requirements:
  - the C(ceph) command (package ceph-common) and a key allowed to change auth (client.admin)
options:
  name:
    description:
      - The entity, C(TYPE.ID) with TYPE client, mgr, mds or osd (C(client.glance)).
    type: str
    required: true
  state:
    description:
      - C(present) creates or reconciles the entity; C(absent) deletes it (C(ceph auth del));
        clients using it are refused from then on.
    type: str
    choices: [present, absent]
    default: present
  caps:
    description:
      - The entity's caps by service (mon, mgr, osd, mds), each a ceph cap string such as
        C(profile rbd pool=images). Required with O(state=present), with at least one service, since
        ceph refuses an entity without caps.
      - Compared with the cluster's caps as strings, so write them as ceph stores them (ceph
        keeps the text as given).
      - A cap may not contain a double quote, a backslash or a line break.
    type: dict
  secret:
    description:
      - The entity's secret, a cephx key as C(ceph-authtool --gen-print-key) prints it, normally
        from C(user_secrets.yml) so it stays the same on every run and every host.
      - Left out, ceph generates the secret when it creates the entity, and an existing entity
        keeps its secret.
      - Compared by the secret bytes inside the key (its embedded creation time does not count).
    type: str
  force_secret:
    description:
      - Replace the secret of an existing entity that holds another one. Every client with the
        old key stops working until it gets the new one.
    type: bool
    default: false
  cluster:
    description: The cluster's name (C(--cluster); selects C(/etc/ceph/<cluster>.conf)).
    type: str
    default: ceph
  conf:
    description: A ceph configuration file to use instead of C(/etc/ceph/<cluster>.conf).
    type: path
  keyring:
    description:
      - A keyring holding client.admin's key (default C(/etc/ceph/<cluster>.client.admin.keyring)).
    type: path
  connect_timeout:
    description: Seconds each C(ceph) command waits for the monitors before it fails.
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Reads the entity and plans; changes nothing.
      On a host without the ceph command or the cluster's config file (a fresh host, whose
      packages the same run would install), plans as for an empty cluster and warns.
  diff_mode:
    support: full
    description: The caps before and after; a secret change as C(key) lines showing no secret.
"""

EXAMPLES = r"""
- name: Key for glance (read-only on nothing else than its pool)
  ceph_key:
    name: client.glance
    caps:
      mon: profile rbd
      osd: profile rbd pool=images
      mgr: profile rbd pool=images
    secret: "{{ ceph_client_glance_key }}"
  no_log: true
  run_once: true

- name: Key for cinder and nova, reading glance's images for copy-on-write clones
  ceph_key:
    name: client.cinder
    caps:
      mon: profile rbd
      osd: profile rbd pool=volumes, profile rbd pool=vms, profile rbd-read-only pool=images
      mgr: profile rbd pool=volumes, profile rbd pool=vms
    secret: "{{ ceph_client_cinder_key }}"
  no_log: true

- name: A manager's key, secret made by ceph
  ceph_key:
    name: mgr.{{ inventory_hostname }}
    caps:
      mon: allow profile mgr
      osd: allow *
      mds: allow *

- name: Remove a key nobody uses any more
  ceph_key:
    name: client.old-app
    state: absent
"""

RETURN = r"""
name:
  description: The entity.
  returned: always
  type: str
  sample: client.glance
caps:
  description:
    - The entity's caps after the run, as ceph reports them (in check mode, as planned).
      Null when the entity does not exist.
  returned: always
  type: dict
  sample: {mon: profile rbd, osd: profile rbd pool=images, mgr: profile rbd pool=images}
secret_changed:
  description: Whether the run replaced (in check mode, would replace) the entity's secret.
  returned: always
  type: bool
changes:
  description: The changes the run made (in check mode, would make), one line each; never a secret.
  returned: always
  type: list
  elements: str
  sample: ["caps osd: 'profile rbd pool=images' -> 'profile rbd pool=images, profile rbd pool=vms'"]
commands:
  description:
    - The ceph commands the run ran (in check mode, would run), in order. The keyring file of
      C(ceph auth import) shows as C(<temporary keyring file>).
  returned: always
  type: list
  elements: str
  sample: ["ceph auth import -i '<temporary keyring file>'"]
cmd:
  description: The ceph command that failed (a keyring file shows as C(<temporary keyring file>)).
  returned: when a ceph command failed
  type: str
  sample: ceph auth caps client.glance mon 'profile rbd' osd 'profile rbd pool='
rc:
  description: Its exit status.
  returned: when a ceph command failed
  type: int
  sample: 22
stderr:
  description: What it printed on stderr.
  returned: when a ceph command failed
  type: str
  sample: "Error EINVAL: osd capability parse failed, stopped at 'pool=' of 'profile rbd pool='"
commands_done:
  description:
    - The commands of the plan that had run before the failed one (C(changed) is true when
      there are any).
  returned: when a ceph command failed
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.strata_ceph import CephError  # noqa: E402
from ansible.module_utils.strata_ceph_key import ARGUMENT_SPEC, converge  # noqa: E402


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    # Check mode on a fresh host runs before the packages are installed (see converge).
    binary = module.get_bin_path("ceph", required=not module.check_mode)
    try:
        result = converge(
            module.params, module.run_command, check_mode=module.check_mode, binary=binary
        )
    except CephError as exc:
        module.fail_json(**exc.result())
    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
