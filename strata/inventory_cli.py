"""`strata inventory ...`: the generated inventory for humans, validation, and remove-host."""

import argparse
import sys

from strata import config as strata_config
from strata import inventory, placement

NOT_KEPT_MARK = "*"


def register(subparsers):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        default=argparse.SUPPRESS,
        help="config directory (default: $STRATA_CONFIG_DIR, else /etc/strata)",
    )
    parser = subparsers.add_parser(
        "inventory",
        parents=[common],
        help="show and check the inventory generated from strata_user_config.yml",
        description=__doc__,
    )
    commands = parser.add_subparsers(dest="inventory_command", metavar="ACTION", required=True)
    for name, func, text in (
        ("show", cmd_show, "networks, VIPs and a table of hosts with their groups and addresses"),
        ("hosts", cmd_hosts, "a table of hosts with their groups and addresses"),
        ("groups", cmd_groups, "each inventory group with its hosts"),
        ("validate", cmd_validate, "check the whole config and report every problem"),
    ):
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(func=func)
    placement.register(commands, common)
    remove = commands.add_parser(
        "remove-host",
        parents=[common],
        help="forget a removed host's addresses (state file record)",
        description="Drop the state file record of a host that is no longer in the config, so "
        "its addresses can be given to other hosts.",
    )
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=cmd_remove_host)


def _config_dir(args):
    return strata_config.config_dir_from(getattr(args, "config_dir", None))


def _warn(warnings):
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _generate(args):
    """Generate without writing the state file; also return which addresses it does not hold."""
    config, inv, warnings = inventory.generate(_config_dir(args), write=False)
    _warn(warnings)
    state = inventory.read_state(inventory.state_path(config.config_dir))
    return config, inv, state


def table(rows):
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def host_rows(config, inv, state):
    rows = [("HOST", "MANAGEMENT", "STORAGE", "REPLICATION", "GROUPS")]
    not_kept = False
    hostvars = inv["_meta"]["hostvars"]
    for name, host in config.hosts.items():
        cells = [name, host.ip]
        for network in strata_config.ASSIGNED_NETWORKS:
            address = hostvars[name].get(f"{network}_address")
            if address is None:
                cells.append("-")
                continue
            kept = state.get(name, {}).get(network) == address or (
                network == "replication" and "replication" not in config.networks
            )
            not_kept = not_kept or not kept
            cells.append(address if kept else address + NOT_KEPT_MARK)
        cells.append(",".join(host.components))
        rows.append(cells)
    return rows, not_kept


def _print_hosts(config, inv, state):
    rows, not_kept = host_rows(config, inv, state)
    print(table(rows))
    if not_kept:
        print(
            f"{NOT_KEPT_MARK} not yet in the state file: assigned for good by the next inventory "
            "run (ansible-inventory, strata-ansible)"
        )


def cmd_show(args):
    config, inv, state = _generate(args)
    overrides = config.global_overrides
    rows = [
        ("config:", ", ".join(str(f) for f in config.files)),
        ("state:", str(inventory.state_path(config.config_dir))),
        *((f"{name}:", f"{net.cidr} ({net.name})") for name, net in config.networks.items()),
        ("internal VIP:", str(overrides.get("internal_lb_vip_address"))),
        ("external VIP:", str(overrides.get("external_lb_vip_address"))),
        ("hosts:", str(len(config.hosts))),
    ]
    print(table(rows))
    print()
    _print_hosts(config, inv, state)
    return 0


def cmd_hosts(args):
    config, inv, state = _generate(args)
    _print_hosts(config, inv, state)
    return 0


def cmd_groups(args):
    _, inv, _ = _generate(args)
    rows = [("GROUP", "HOSTS", "MEMBERS")]
    for group in sorted(g for g in inv if g not in ("_meta", "all", "ungrouped")):
        data = inv[group]
        if "children" in data:
            rows.append((group, "", "children: " + ", ".join(data["children"])))
            continue
        members = data["hosts"]
        shown = ", ".join(members[:8]) + (
            f", ... (+{len(members) - 8})" if len(members) > 8 else ""
        )
        rows.append((group, len(members), shown or "-"))
    print(table(rows))
    return 0


def cmd_validate(args):
    config, _, _ = _generate(args)
    print(
        f"OK: {len(config.hosts)} hosts, {len(config.networks)} networks, "
        f"{len(config.files)} config files in {config.config_dir}"
    )
    return 0


def cmd_remove_host(args):
    record = inventory.remove_host(_config_dir(args), args.name)
    addresses = ", ".join(f"{k} {v}" for k, v in sorted(record.items())) or "no addresses"
    print(f"removed {args.name} from the inventory state ({addresses})")
    return 0
