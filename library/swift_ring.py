#!/usr/bin/python
# Copyright: Strata contributors
# Apache License 2.0 (see setup.cfg)
"""Ansible module swift_ring: a swift ring declared as a list of devices."""

DOCUMENTATION = r"""
---
module: swift_ring
short_description: Build and reconcile a swift ring from a declared list of devices
description:
  - Reconciles a swift ring builder file (C(<builder_dir>/<ring>.builder)) with the full list of
    devices the ring should hold, through swift's own C(RingBuilder) (the module never places
    partitions itself), and writes the ring file (C(<builder_dir>/<ring>.ring.gz)).
  - Creates the builder when it is missing; adds, removes and reweights devices, moves devices
    to another region or zone, and updates replication addresses and meta. A device is
    identified by (ip, port, device); changing one of those removes the old device and adds a new
    one.
  - Rebalances only when the devices changed or the ring's balance is above O(balance_threshold).
    A balance-only rebalance is kept only if it improves balance or dispersion by at least 1,
    the rule swift-ring-builder applies.
  - Respects min_part_hours. While the window since the last rebalance has not passed, changes
    that move partitions are not applied and the result says C(deferred=true) with the reason;
    the first run after the window applies them. Changes that move nothing (replication
    address, meta, min_part_hours) are applied at once.
  - Refuses to change part_power or replicas of an existing ring unless told to
    (O(allow_part_power_rebuild), O(allow_replicas_change)), and refuses to build a new builder
    when a ring file exists without one.
  - Writes builder and ring atomically (temporary file, fsync, rename) and copies the previous
    builder and ring to C(<builder_dir>/backups/<UTC timestamp>.<name>) before replacing them.
  - Keeps a small state file, C(<builder_dir>/<ring>.builder.strata.json), with the digest of the
    inputs, the builder's sha256 and the ring's md5. When all three still match and the last run
    left nothing to do, the module returns without loading the builder. Any change to the
    inputs or to either file (for example with swift-ring-builder) makes the next run do the
    full check. The file is only a cache, deleting it is safe.
  - Rebalances with a fixed seed (O(seed), or one derived from the inputs), so check mode,
    which does the whole computation on a copy of the builder, reports the same C(parts_moved)
    and C(ring_md5) that the real run then produces, as long as the min_part_hours window is in
    the same state at both times.
version_added: "0.1.0"
author:
  - Strata contributors
requirements:
  - swift (python3-swift) on the host that runs the module. Without it the module fails with
    "swift is not installed on this host", except on a run that changes nothing, which needs
    only the state file.
options:
  ring:
    description:
      - The ring to build. C(object-N) is the object ring of storage policy N.
    type: str
    required: true
  builder_dir:
    description:
      - Directory of the builder file, the ring file, the state file and C(backups/).
      - Created when missing.
    type: path
    default: /etc/swift
  part_power:
    description:
      - The ring has 2**part_power partitions. Choose it for the largest size the cluster will
        reach (about 100 partitions per device then); it cannot change in place later.
      - An existing builder with another part_power is an error, unless
        O(allow_part_power_rebuild=true).
    type: int
    required: true
  replicas:
    description:
      - Replicas of each partition. Swift puts them in distinct zones when it can.
      - An existing builder with another value is an error, unless O(allow_replicas_change=true).
    type: float
    default: 3
  min_part_hours:
    description:
      - Hours before a partition may move again after it moved. Set on the builder at once
        (it moves nothing).
    type: int
    default: 1
  devices:
    description:
      - Every device the ring should hold, normally built from the inventory. Devices in the
        builder and not in this list are removed.
      - Each (ip, port, device) may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      region:
        description: Region of the device.
        type: int
        default: 1
      zone:
        description: Zone of the device; replicas of a partition go to distinct zones.
        type: int
        required: true
      ip:
        description: Address the proxy and the other servers use to reach the device's server.
        type: str
        required: true
      port:
        description: Port of the account, container or object server.
        type: int
        required: true
      replication_ip:
        description: Address for replication traffic; the device's O(devices[].ip) when omitted.
        type: str
      replication_port:
        description: Port for replication traffic; the device's O(devices[].port) when omitted.
        type: int
      device:
        description: Device name under the servers' devices directory (C(sdb), not C(/dev/sdb)).
        type: str
        required: true
      weight:
        description: Relative share of partitions, usually the capacity in GB or TB. 0 drains it.
        type: float
        required: true
      meta:
        description: Free text stored with the device.
        type: str
        default: ""
  balance_threshold:
    description:
      - When no device changed but the ring's balance (the percentage swift-ring-builder shows)
        is above this, the module tries a rebalance once min_part_hours allows it.
    type: float
    default: 1.0
  seed:
    description:
      - Seed for RingBuilder.rebalance. By default one is derived from the inputs, so check mode
        and the real run use the same.
    type: int
  allow_replicas_change:
    description:
      - Change the replica count of an existing ring (RingBuilder.set_replicas) and rebalance.
        Swift adds or removes replicas gradually.
    type: bool
    default: false
  allow_part_power_rebuild:
    description:
      - When the existing builder has another part_power, back it up and build a new ring from
        scratch. Every partition gets a new place and data stored under the old ring is not
        found any more, so this is only for a cluster that holds no data yet. To grow the part
        power of a cluster in use, follow swift's partition power increase procedure instead.
    type: bool
    default: false
  rebalance_within_min_part_hours:
    description:
      - Rebalance now even if min_part_hours has not passed since the last rebalance, for example
        to drain a failed device. Swift still moves no partition twice within min_part_hours,
        except those on removed devices. The check mode prediction may then differ from the
        real run if an hour boundary passes between them.
    type: bool
    default: false
notes:
  - Run it on one host (C(run_once) or a single builder host) and distribute the C(.ring.gz)
    files; the builder files are the precious state, keep them backed up.
  - C(parts_moved) counts partition replicas assigned to another device; a new ring counts
    every replica.
attributes:
  check_mode:
    support: full
    description: Computes the plan, the rebalance and the ring on a copy; writes nothing.
  diff_mode:
    support: full
    description: Shows the builder's settings and devices before and after.
"""

EXAMPLES = r"""
- name: Object ring from the storage hosts' drives
  swift_ring:
    ring: object
    builder_dir: /etc/swift
    part_power: 16
    replicas: 3
    min_part_hours: 1
    devices: >-
      {{ groups['swift_storage'] | map('extract', hostvars) | map(attribute='swift_ring_devices')
         | flatten }}
  run_once: true
  register: object_ring

- name: Policy 1 object ring, two replicas, explicit devices
  swift_ring:
    ring: object-1
    part_power: 14
    replicas: 2
    devices:
      - {region: 1, zone: 1, ip: 172.29.244.11, port: 6200, device: sdb, weight: 4000}
      - {region: 1, zone: 2, ip: 172.29.244.12, port: 6200, device: sdb, weight: 4000}
      - region: 1
        zone: 3
        ip: 172.29.244.13
        port: 6200
        replication_ip: 172.29.248.13
        device: sdb
        weight: 4000
        meta: rack 3

- name: Drain a failed drive now, without waiting for min_part_hours
  swift_ring:
    ring: object
    part_power: 16
    devices: "{{ object_devices | rejectattr('device', 'eq', 'sdf') }}"
    rebalance_within_min_part_hours: true
"""

RETURN = r"""
plan:
  description: The device and settings changes the run applied (or, deferred, will apply).
  returned: always
  type: dict
  contains:
    added:
      description: Devices to add, each with its C(name) (ip:port/device) and its fields.
      type: list
      elements: dict
    removed:
      description: Devices to remove (C(id) in the builder, C(name), region, zone, weight).
      type: list
      elements: dict
    reweighted:
      description: Devices whose weight changes (C(id), C(name), C(old), C(new)).
      type: list
      elements: dict
    rezoned:
      description:
        - Devices that move to another region or zone (C(old) and C(new) as [region, zone]).
      type: list
      elements: dict
    meta_changed:
      description:
        - Devices whose replication_ip, replication_port or meta change.
        - C(changes) maps each changed field to [old, new].
      type: list
      elements: dict
    settings:
      description:
        - Ring settings that change (C(min_part_hours), C(replicas), C(part_power)), as [old, new].
      type: dict
  sample:
    added: [{name: "172.29.244.14:6200/sdb", region: 1, zone: 4, ip: 172.29.244.14, port: 6200,
             replication_ip: 172.29.244.14, replication_port: 6200, device: sdb, weight: 4000.0,
             meta: ""}]
    removed: []
    reweighted: []
    rezoned: []
    meta_changed: []
    settings: {}
rebalanced:
  description: Whether the run rebalanced the ring (in check mode, whether it would).
  returned: always
  type: bool
deferred:
  description: Whether work waits for min_part_hours; see C(deferred_reason).
  returned: always
  type: bool
deferred_reason:
  description: Why and for how long the rebalance waits; empty when not deferred.
  returned: always
  type: str
  sample: >-
    min_part_hours (1 h) has not passed since the last rebalance (0:41:09 left); devices changed:
    the first run after that applies and rebalances
parts_moved:
  description: Partition replicas assigned to another device by the rebalance (0 without one).
  returned: always
  type: int
  sample: 12288
balance:
  description: The ring's balance after the run, as swift-ring-builder reports it (percent).
  returned: when the ring has been balanced
  type: float
  sample: 0.21
dispersion:
  description: The ring's dispersion after the run (percent of partition replicas at risk).
  returned: when the ring has been balanced
  type: float
  sample: 0.0
ring_md5:
  description: MD5 of the C(.ring.gz) after the run (in check mode, of the ring it would write).
  returned: when the ring exists or would be written
  type: str
  sample: 0fadd5d6f73fbdb11ff3d7a367b22a81
builder_file:
  description: Path of the builder file.
  returned: always
  type: str
  sample: /etc/swift/object.builder
ring_file:
  description: Path of the ring file.
  returned: always
  type: str
  sample: /etc/swift/object.ring.gz
backup:
  description: Where this run copied the previous builder and ring (null when it replaced none).
  returned: always
  type: dict
  sample: {builder: /etc/swift/backups/20250301T101500.123456Z.object.builder,
           ring: /etc/swift/backups/20250301T101500.123456Z.object.ring.gz}
created:
  description: Whether the run created the builder (new ring, or rebuilt for another part_power).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.strata_swift_ring import RingError, converge  # noqa: E402

ARGUMENT_SPEC = dict(
    ring=dict(type="str", required=True),
    builder_dir=dict(type="path", default="/etc/swift"),
    part_power=dict(type="int", required=True),
    replicas=dict(type="float", default=3),
    min_part_hours=dict(type="int", default=1),
    # Devices are validated by check_inputs, whose messages name the list index
    # (devices[4].port) where ansible-core's suboption checks would not.
    devices=dict(type="list", elements="dict", required=True),
    balance_threshold=dict(type="float", default=1.0),
    seed=dict(type="int"),
    allow_replicas_change=dict(type="bool", default=False),
    allow_part_power_rebuild=dict(type="bool", default=False),
    rebalance_within_min_part_hours=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = converge(module.params, check_mode=module.check_mode)
    except RingError as exc:
        module.fail_json(msg="; ".join(exc.errors), errors=exc.errors)
    except OSError as exc:
        # A file the module must read or write (permissions, full disk): name it and stop.
        module.fail_json(msg=f"swift_ring: {exc}")
    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
