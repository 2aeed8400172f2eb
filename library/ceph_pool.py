#!/usr/bin/python
# Copyright: Strata contributors
# Apache License 2.0 (see setup.cfg)
"""Ansible module ceph_pool: a replicated ceph pool, declared."""

DOCUMENTATION = r"""
---
module: ceph_pool
short_description: Create, reconcile or delete a replicated ceph pool
description:
  - Makes one replicated pool of a running ceph cluster look as declared. It is
    created when missing, then its size, min_size, pg_num, pg_autoscale_mode, CRUSH rule and
    application are set to the given values. Options left out are not managed (a new pool
    gets the cluster's defaults).
  - Reads the cluster with C(ceph osd pool ls detail --format json) and
    C(ceph osd crush rule dump --format json), plans the changes, then runs
    C(ceph osd pool create), C(ceph osd pool set) and C(ceph osd pool application enable). A run
    that finds nothing to change runs no command that changes anything.
  - Changing size also makes ceph reset min_size to its default for the new size; the module
    then sets O(min_size) again when it is given.
  - With pg_autoscale_mode C(on) (the default of ceph 16 for new pools), the autoscaler owns
    pg_num, so O(pg_num) is only used to create the pool. With C(off) or C(warn), pg_num is
    reconciled (ceph then moves the pool's pg_num there gradually; the module compares with
    that target, so a rerun during the move changes nothing).
  - Deletion (O(state=absent)) destroys every object of the pool. It needs O(allow_delete=true),
    and the monitors refuse it unless mon_allow_pool_delete is true; the module does not change
    that setting for you.
  - Run it on a host with the C(ceph) command and an admin key (a monitor host), once per
    cluster (C(run_once) or C(delegate_to)).
version_added: "0.1.0"
author:
  - Strata contributors
requirements:
  - the C(ceph) command (package ceph-common) and a key allowed to change pools
options:
  name:
    description: The pool's name.
    type: str
    required: true
  state:
    description:
      - C(present) creates or reconciles the pool, C(absent) deletes it with all its data
        (see O(allow_delete)).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Replicas of each object (ceph's C(size)). 1 is allowed only when the monitors have
        mon_allow_pool_size_one (a lab or an all-in-one); the module passes ceph's
        confirmation flag for it.
      - Left out, a new pool gets osd_pool_default_size and an existing one keeps its size.
    type: int
  min_size:
    description:
      - Replicas that must be up for the pool to accept I/O. At most O(size).
      - Left out, ceph's default for the size (size - size/2) applies.
    type: int
  pg_num:
    description:
      - Placement groups. A power of two (ceph warns otherwise).
      - The pool's starting pg_num; reconciled afterwards only when the pool's
        pg_autoscale_mode is not C(on).
      - Left out, a new pool gets osd_pool_default_pg_num.
    type: int
  pg_autoscale_mode:
    description:
      - The PG autoscaler for this pool. C(on) lets it change pg_num, C(warn) only reports,
        C(off) leaves pg_num to O(pg_num). Quote the value in YAML (C("off")); a bare C(on)
        or C(off) is a boolean there, which the module refuses.
      - Left out, the pool keeps its mode (a new pool gets osd_pool_default_pg_autoscale_mode).
    type: str
    choices: ["on", "off", "warn"]
  application:
    description:
      - The application the pool is for, enabled with C(ceph osd pool application enable).
        Ceph warns (POOL_APP_NOT_ENABLED) about a pool without one.
      - A pool that already has another application is refused rather than given a second one.
    type: str
    choices: [rbd, cephfs, rgw]
  crush_rule:
    description:
      - The CRUSH rule the pool uses (by name; it must exist). Changing it moves the pool's
        data to the placement the rule gives.
      - Left out, a new pool gets the default rule and an existing one keeps its rule.
    type: str
  allow_delete:
    description:
      - Must be true for O(state=absent) to delete an existing pool, and is refused with
        O(state=present). A deleted pool's data cannot be recovered.
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
notes:
  - Erasure-coded pools are refused; this module manages replicated pools.
  - Check mode cannot know whether the monitors allow deleting pools; the real run fails with
    ceph's message when they do not.
attributes:
  check_mode:
    support: full
    description: Reads the cluster and plans; changes nothing.
      On a host without the ceph command or the cluster's config file (a fresh host, whose
      packages the same run would install), plans as for an empty cluster and warns.
  diff_mode:
    support: full
    description: The pool's settings before and after (predicted in check mode).
"""

EXAMPLES = r"""
- name: RBD pool for glance images, 3 replicas
  ceph_pool:
    name: images
    size: 3
    min_size: 2
    pg_num: 32
    application: rbd
  run_once: true

- name: All-in-one pool with one replica and a fixed PG count
  ceph_pool:
    name: volumes
    size: 1
    min_size: 1
    pg_num: 16
    pg_autoscale_mode: "off"
    application: rbd

- name: Pool on a rack-level CRUSH rule, on another cluster
  ceph_pool:
    name: backups
    size: 3
    crush_rule: replicated_rack
    application: rbd
    cluster: backup
    keyring: /etc/ceph/backup.client.admin.keyring

- name: Delete a pool and its data (the monitors must allow it)
  ceph_pool:
    name: scratch
    state: absent
    allow_delete: true
"""

RETURN = r"""
name:
  description: The pool's name.
  returned: always
  type: str
  sample: images
pool:
  description:
    - The pool's settings after the run, as ceph reports them (in check mode, as predicted;
      values ceph will choose are shown in parentheses). Null when the pool does not exist.
    - C(pg_num) is the pool's target pg_num (ceph moves pg_num there gradually).
  returned: always
  type: dict
  sample:
    size: 3
    min_size: 2
    pg_num: 32
    pg_autoscale_mode: "on"
    crush_rule: replicated_rule
    applications: [rbd]
changes:
  description: The changes the run made (in check mode, would make), one line each.
  returned: always
  type: list
  elements: str
  sample: ["create pool images", "size: 1 -> 3", "min_size: (reset by size) -> 2",
           "enable application rbd"]
commands:
  description: The ceph commands the run ran (in check mode, would run), in order.
  returned: always
  type: list
  elements: str
  sample: ["ceph osd pool create images 32 32 replicated", "ceph osd pool set images size 3",
           "ceph osd pool set images min_size 2", "ceph osd pool application enable images rbd"]
cmd:
  description: The ceph command that failed (a keyring file shows as C(<temporary keyring file>)).
  returned: when a ceph command failed
  type: str
  sample: ceph osd pool rm scratch scratch --yes-i-really-really-mean-it
rc:
  description: Its exit status.
  returned: when a ceph command failed
  type: int
  sample: 1
stderr:
  description: What it printed on stderr.
  returned: when a ceph command failed
  type: str
  sample: "Error EPERM: pool deletion is disabled; you must first set the mon_allow_pool_delete
    config option to true before you can destroy a pool"
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
from ansible.module_utils.strata_ceph_pool import ARGUMENT_SPEC, converge  # noqa: E402


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    # Fails cleanly ("Failed to find required executable") on a host without ceph-common;
    # check mode on a fresh host runs before the packages are installed (see converge).
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
