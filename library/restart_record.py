#!/usr/bin/python
# Copyright: Strata contributors
# Apache License 2.0 (see setup.cfg)
"""Ansible module restart_record: does a service run with the files it reads now?"""

DOCUMENTATION = r"""
---
module: restart_record
short_description: Compare a service's files with what it was last restarted with, or record them
description:
  - Strata's one trigger for restarts. A role writes the files a service reads, then calls
    this module with O(state=compared) and notifies the service's restart when it reports
    changed; the restart handler calls it with O(state=recorded) right after the restart.
  - The record is a file on the host (O(record_dir)/O(name)) holding the sha256 of each file.
    Because it is written only after the restart, a run that failed or was killed between
    writing a file and restarting the service still restarts the service on the next run, since the
    file, which does not change again, still differs from the record.
  - A service without a record (a first install, or a host deployed before records existed)
    counts as running with other files, so it restarts once and gets its record.
version_added: "0.1.0"
author:
  - Strata contributors
options:
  name:
    description:
      - The record's name, usually the service's (C(keystone), C(cinder-volume)). Letters,
        digits and C(_ . @ -).
    type: str
    required: true
  files:
    description:
      - The files the service reads (configs, systemd drop-ins), absolute paths. A missing
        file counts as the checksum C(absent).
    type: list
    elements: path
    required: true
  state:
    description:
      - C(compared) reads only; changed when any file differs from the record.
      - C(recorded) writes the record of the files as they are now (atomically, mode 0600);
        changed when the record changes.
    type: str
    choices: [compared, recorded]
    default: compared
  record_dir:
    description: Where the records are kept.
    type: path
    default: /var/lib/strata/restart
attributes:
  check_mode:
    support: full
    description: C(compared) is read-only anyway; C(recorded) reports whether the record would
      change and writes nothing.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Restart memcached if it runs with other files than these
  restart_record:
    name: memcached
    files: [/etc/memcached.conf]
  notify: Restart memcached

# handlers/main.yml: the record is written by a handler that listens to the restart's name,
# listed after the restart, so it runs right after it.
- name: Record what memcached runs with
  restart_record:
    name: memcached
    files: [/etc/memcached.conf]
    state: recorded
  listen: Restart memcached
"""

RETURN = r"""
name:
  description: The record's name.
  returned: always
  type: str
  sample: memcached
record_path:
  description: The record file.
  returned: always
  type: str
  sample: /var/lib/strata/restart/memcached
differ:
  description: The files whose content is not the recorded one (all of them without a record).
  returned: always
  type: list
  elements: str
  sample: [/etc/memcached.conf]
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.strata_restart_record import (  # noqa: E402
    ARGUMENT_SPEC,
    RecordError,
    run,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module.params, check_mode=module.check_mode)
    except (RecordError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
