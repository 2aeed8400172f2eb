"""Malformed inputs (issue 10, review "Malformed inputs that slip through"): each is rejected
with file, key path, value and what was expected, or handled; one test per class."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_config_validation import BASE, line_of, problems_of, warnings_of, write

from strata import config, inventory, secrets
from strata.errors import DeployBlocker, StrataError

HAPROXY = "haproxy_hosts:\n  lb1:\n    ip: 10.0.0.41\n"


# --- YAML itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown", "kind"),
    [
        ("1", "1", "int"),
        ("~", "None", "NoneType"),
        ("2024-01-01", "datetime.date(2024, 1, 1)", "date"),
    ],
)
def test_non_string_keys_are_refused_with_their_path(tmp_path, key, shown, kind):
    text = BASE.replace("global_overrides:\n", f"global_overrides:\n  {key}: x\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, f'{key}: x')}: global_overrides.{shown}: the key {shown} is a "
        f"YAML {kind}, not a string; expected a name (quote it: '{key if key != '~' else 'None'}')"
    ]


def test_non_string_keys_in_container_vars(tmp_path):
    text = BASE.replace("        zone: 1\n", "        zone: 1\n      yes: 2\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'yes: 2')}: swift_hosts.swift1.container_vars.True: the key True "
        "is a YAML bool, not a string; expected a name (quote it: 'True')"
    ]


@pytest.mark.parametrize("depth", [3000, 100_000])
def test_deep_nesting_is_refused_before_it_is_built(tmp_path, depth):
    # 100,000 deep crashed libyaml's composer (exit 139); 3,000 broke the inventory script.
    text = BASE.replace(
        "global_overrides:\n", "global_overrides:\n  deep: " + "[" * depth + "]" * depth + "\n"
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}: line {line_of(text, 'deep:')}: nested more than {config.MAX_DEPTH} deep; "
        "expected a flatter config"
    ]


def test_alias_bomb_is_refused_quickly(tmp_path):
    bomb = "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 9):
        bomb += f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]\n"
    text = BASE.replace("global_overrides:\n", "global_overrides:\n" + bomb)
    path = write(tmp_path, text)
    started = time.process_time()
    problems = problems_of(tmp_path)
    assert time.process_time() - started < 2
    assert problems == [
        f"{path}: line {line_of(text, 'l6:')}: aliases expand the document to more than "
        f"{config.MAX_EXPANDED_VALUES} values; expected a config without alias bombs"
    ]


def test_ordinary_aliases_and_merge_keys_are_fine(tmp_path):
    text = BASE.replace(
        "compute_hosts:\n  compute1:\n    ip: 10.0.0.21\n",
        "_computes: &computes\n  compute1:\n    ip: 10.0.0.21\ncompute_hosts: *computes\n"
        "storage_hosts:\n  <<: *computes\n",
    )
    write(tmp_path, text)
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts["compute1"].components == ("cinder_volume", "nova_compute")


# --- addresses -----------------------------------------------------------------------------------


def test_ipv6_management_network_is_refused(tmp_path):
    text = BASE.replace("management: 10.0.0.0/24", "management: fd00::/64")
    path = write(tmp_path, text)
    assert problems_of(tmp_path)[0] == (
        f"{path}:{line_of(text, 'fd00::/64')}: cidr_networks.management: 'fd00::/64' is an IPv6 "
        "network; expected an IPv4 management network (the roles write IPv4-only Erlang, Galera "
        "and keepalived settings)"
    )


def test_ipv6_internal_vip_is_refused(tmp_path):
    text = BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: fd00::9")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'fd00::9')}: global_overrides.internal_lb_vip_address: 'fd00::9' "
        "is an IPv6 address; expected an IPv4 address (keepalived and the roles' settings are "
        "IPv4-only)"
    ]


def test_dns_internal_vip_is_refused_when_strata_deploys_the_load_balancer(tmp_path):
    text = BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: vip.ex.net")
    path = write(tmp_path, text + HAPROXY)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'vip.ex.net')}: global_overrides.internal_lb_vip_address: "
        "'vip.ex.net' is a DNS name, but keepalived on the haproxy hosts (lb1) must hold an "
        "address; expected an IPv4 address in the management network (or set "
        "haproxy_server_internal_vip_address in user_variables.yml)"
    ]
    # ... unless user_variables give keepalived its address.
    write(tmp_path, "haproxy_server_internal_vip_address: 10.0.0.8\n", "user_variables.yml")
    config.load(tmp_path)


def test_dns_internal_vip_without_haproxy_hosts_is_a_warning(tmp_path):
    text = BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: vip.ex.net")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'vip.ex.net')}: global_overrides.internal_lb_vip_address: "
        "'vip.ex.net' is a DNS name and Strata deploys no load balancer (no haproxy hosts): the "
        "services' internal endpoints use it as given"
    ]


def test_vips_reach_the_inventory_without_stray_whitespace(tmp_path):
    write(
        tmp_path,
        BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: ' 10.0.0.9 '"),
    )
    _, inv, _ = inventory.generate(tmp_path, write=False)
    assert inv["all"]["vars"]["internal_lb_vip_address"] == "10.0.0.9"


# --- host names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Compute1",
            "'Compute1' has upper-case letters; expected lower case, 'compute1' (names are "
            "case-insensitive in DNS and /etc/hosts)",
        ),
        (
            "10.0.0.99",
            "'10.0.0.99' looks like an address, not a hostname; expected letters, digits and '-' "
            "(RFC 1123), labels of 1-63 characters that do not start or end with '-', separated "
            "by dots, the last label not all digits",
        ),
        (
            "infra2\n",
            "'infra2\\n' is not a valid hostname; expected letters, digits and '-' (RFC 1123), "
            "labels of 1-63 characters that do not start or end with '-', separated by dots",
        ),
    ],
)
def test_host_name_tricks(tmp_path, name, message):
    quoted = json.dumps(name)
    text = BASE.replace("  compute1:\n", f"  {quoted}:\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.0.21') - 1}: compute_hosts.{name}: {message}"
    ]


def test_underscore_in_host_names_is_a_warning(tmp_path):
    write(tmp_path, BASE.replace("  compute1:\n", "  compute_1:\n"))
    assert warnings_of(tmp_path) == [
        "host names with '_' are not valid DNS names (RFC 1123): accepted, as OSA does, because "
        "/etc/hosts resolves them, but DNS and TLS certificates will not: compute_1"
    ]


# --- swift ---------------------------------------------------------------------------------------


def swift_problem(tmp_path, old, new, needle):
    text = BASE.replace(old, new, 1)
    path = write(tmp_path, text)
    return problems_of(tmp_path), f"{path}:{line_of(text, needle)}"


@pytest.mark.parametrize(
    ("drive", "key", "message"),
    [
        ("{name: sdb, weight: heavy}", "weight", "'heavy' is not valid; expected a number > 0"),
        ("{name: sdb, weight: -5}", "weight", "-5 is not valid; expected a number > 0"),
        ("{name: sdb, zone: one}", "zone", "'one' is not valid; expected an integer >= 0"),
        ("{name: sdb, region: east}", "region", "'east' is not valid; expected an integer >= 1"),
        ("{name: sdb, region: 0}", "region", "0 is not valid; expected an integer >= 1"),
        (
            "{name: /dev/sdb}",
            "name",
            "'/dev/sdb' is not a drive name; expected letters, digits, '_' and '-' (the device's "
            "name under /dev and the mount point's, e.g. sdc, not /dev/sdc)",
        ),
        (
            "{name: '..'}",
            "name",
            "'..' is not a drive name; expected letters, digits, '_' and '-' (the device's name "
            "under /dev and the mount point's, e.g. sdc, not /dev/sdc)",
        ),
    ],
)
def test_swift_drive_settings(tmp_path, drive, key, message):
    problems, where = swift_problem(tmp_path, "      - name: sdb\n", f"      - {drive}\n", drive)
    assert problems == [f"{where}: global_overrides.swift.drives[0].{key}: {message}"]


def test_swift_duplicate_drive_names_on_a_host(tmp_path):
    problems, where = swift_problem(
        tmp_path,
        "        zone: 1\n",
        "        zone: 1\n        drives: [{name: sdc}, {name: sdc}]\n",
        "drives: [{name: sdc}",
    )
    assert problems == [
        f"{where}: swift_hosts.swift1.container_vars.swift_vars.drives[1].name: 'sdc' is also "
        "drive 0; expected unique names"
    ]


def test_swift_zone_typo_says_did_you_mean(tmp_path):
    problems, where = swift_problem(tmp_path, "        zone: 1\n", "        zones: 1\n", "zones:")
    assert problems == [
        f"{where}: swift_hosts.swift1.container_vars.swift_vars.zones: unknown key; expected one "
        "of region, zone, weight, drives, groups (a swift host's settings); did you mean zone?"
    ]


def test_swift_missing_zone_is_zone_0_in_both_layers(tmp_path):
    # The rule decided once (strata.swift_config): no zone anywhere means zone 0.
    text = BASE.replace("    replicas: 3\n", "    replicas: 1\n").replace(
        "      swift_vars:\n        zone: 1\n", "      swift_vars: {}\n"
    )
    write(tmp_path, text)
    cfg, _ = config.load(tmp_path)
    drives = config.swift_config.host_drives(
        cfg.global_overrides["swift"], cfg.hosts["swift1"].host_vars["swift_vars"]
    )
    assert [d["zone"] for d in drives] == [0]


def test_swift_unknown_setting_says_did_you_mean(tmp_path):
    problems, where = swift_problem(
        tmp_path,
        "    part_power: 8\n",
        "    part_power: 8\n    min_part_hour: 24\n",
        "min_part_hour",
    )
    assert len(problems) == 1
    assert problems[0].startswith(f"{where}: global_overrides.swift.min_part_hour: unknown key;")
    assert problems[0].endswith("(swift settings); did you mean min_part_hours?")


def test_swift_osa_only_settings_are_warned_not_refused(tmp_path):
    text = BASE.replace("    part_power: 8\n", "    part_power: 8\n    statsd_host: 10.0.0.5\n")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'statsd_host')}: global_overrides.swift.statsd_host: an "
        "OpenStack-Ansible setting Strata does not use"
    ]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (
            "gold",
            "'gold' is also the name of storage_policies[0] (swift compares them without "
            "case); expected unique names",
        ),
        ("gold policy/x", "'gold policy/x' is not a policy name; expected letters, digits and '-'"),
    ],
)
def test_swift_policy_names(tmp_path, second, message):
    text = BASE.replace(
        "          default: true\n",
        f"          default: true\n      - policy:\n          name: {second}\n          index: 1\n",
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'index: 1') - 1}: "
        f"global_overrides.swift.storage_policies[1].policy.name: {message}"
    ]


# --- bridges and hosts ---------------------------------------------------------------------------


@pytest.mark.parametrize("bridge", ["br mgmt", "br-management-net0"])
def test_bridge_names_must_be_interface_names(tmp_path, bridge):
    text = BASE.replace(
        "global_overrides:\n", f"global_overrides:\n  management_bridge: '{bridge}'\n"
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'management_bridge')}: global_overrides.management_bridge: "
        f"{bridge!r} is not a bridge name; expected e.g. br-mgmt: at most 15 letters, digits, "
        "'_', '.' or '-' (a Linux interface name)"
    ]


def test_config_with_no_hosts_is_warned(tmp_path):
    text = BASE.split("shared-infra_hosts:")[0].split("  swift:")[0]
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}: no hosts that Strata deploys; the inventory is empty (expected NAME_hosts groups "
        "such as shared-infra_hosts with hosts)"
    ]


# --- the state file and user_secrets.yml ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"version": 1, "hosts": {"a": {"storage": "\xff"}}}', "not UTF-8 text"),
        (b'{"version": 1, "hosts": {"swift1": {"storage": ["x"]}}}', "hosts.swift1: "),
        (b'{"version": 1, "hosts": {"swift1": ["x"]}}', 'hosts.swift1: ["x"] is not a host record'),
        (b'{"version": 1, "hosts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
    ],
)
def test_corrupt_state_is_an_error_naming_the_file(tmp_path, content, fragment):
    write(tmp_path, BASE)
    (tmp_path / inventory.STATE_FILE).write_bytes(content)
    with pytest.raises(StrataError) as caught:
        inventory.generate(tmp_path, write=False)
    assert str(caught.value).startswith(f"{tmp_path / inventory.STATE_FILE}: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize("kind", ["not-utf8", "directory", "deep"])
def test_unreadable_secrets_file_is_an_error(tmp_path, kind):
    path = tmp_path / secrets.SECRETS_FILE_NAME
    if kind == "directory":
        path.mkdir()
    elif kind == "deep":
        path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    else:
        path.write_bytes(b"keystone_admin_password: '\xff'\n")
    with pytest.raises(StrataError) as caught:
        secrets.read_secrets_file(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_one_character_password_is_refused_by_check(tmp_path):
    values = {s.name: secrets.KINDS[s.kind].generate() for s in secrets.SECRETS}
    values["keystone_admin_password"] = "a"
    problems = secrets.describe_problems("user_secrets.yml", secrets.check(values))
    assert problems == [
        "user_secrets.yml: keystone_admin_password has 1 characters, at least 16 are needed "
        "(expected at least 16 characters; used by keystone, cinder)"
    ]


# --- a DNS-named external VIP -----------------------------------------------------------------


def _dns_external(tmp_path):
    text = BASE.replace(
        "external_lb_vip_address: 203.0.113.9", "external_lb_vip_address: cloud.ex.net"
    )
    return text, write(tmp_path, text + HAPROXY)


def test_dns_external_vip_without_its_address_loads_with_a_deploy_blocker(tmp_path):
    # OSA's examples name the external VIP by DNS: they load, and say what a deploy still needs.
    text, path = _dns_external(tmp_path)
    [warning] = warnings_of(tmp_path)
    assert isinstance(warning, DeployBlocker)
    assert warning == (
        f"{path}:{line_of(text, 'cloud.ex.net')}: global_overrides.external_lb_vip_address: "
        "'cloud.ex.net' is a DNS name: the endpoints and the certificate use it, but keepalived "
        "and HAProxy on the haproxy hosts (lb1) need the address it resolves to; expected "
        "haproxy_server_external_vip_address (or OpenStack-Ansible's "
        "haproxy_keepalived_external_vip_cidr) set to an IPv4 address in user_variables.yml. "
        "Every deploy run refuses this config until then"
    )


@pytest.mark.parametrize(
    "user_variables",
    [
        "haproxy_server_external_vip_address: 203.0.113.9\n",
        "haproxy_keepalived_external_vip_cidr: 203.0.113.9/32\n",
    ],
)
def test_dns_external_vip_with_its_address_in_user_variables_is_fine(tmp_path, user_variables):
    _dns_external(tmp_path)
    write(tmp_path, user_variables, "user_variables.yml")
    assert warnings_of(tmp_path) == []


@pytest.mark.parametrize(
    "user_variables",
    [
        "haproxy_server_external_vip_address: cloud.ex.net\n",
        "haproxy_server_external_vip_address: '2001:db8::9'\n",
        "haproxy_keepalived_external_vip_cidr: not-a-cidr\n",
    ],
)
def test_dns_external_vip_with_no_ipv4_address_for_it_still_blocks(tmp_path, user_variables):
    _dns_external(tmp_path)
    write(tmp_path, user_variables, "user_variables.yml")
    assert [type(w) for w in warnings_of(tmp_path)] == [DeployBlocker]


def test_the_inventory_script_refuses_a_deploy_blocker_before_any_run(tmp_path):
    _dns_external(tmp_path)
    script = Path(__file__).resolve().parents[2] / "inventory" / "strata_inventory.py"
    result = subprocess.run(
        [sys.executable, str(script), "--list"],
        env={**os.environ, "STRATA_CONFIG_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "Every deploy run refuses" in result.stderr
    assert "Traceback" not in result.stderr
