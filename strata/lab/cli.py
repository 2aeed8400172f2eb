"""`strata lab` subcommands."""

from strata.lab import lab


def register(subparsers):
    parser = subparsers.add_parser("lab", help="the local lab of LXC test hosts")
    sub = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    up = sub.add_parser("up", help="create and start the inventory's hosts as lab containers")
    up.add_argument("-i", "--inventory", required=True, help="Ansible inventory of the lab hosts")
    up.add_argument(
        "--rebuild-rootfs", action="store_true", help="build the cached Debian 12 base rootfs again"
    )
    up.set_defaults(func=lambda a: lab.up(a.inventory, a.rebuild_rootfs))

    down = sub.add_parser("down", help="remove the inventory's hosts (all hosts without -i)")
    down.add_argument("-i", "--inventory", help="only this inventory's hosts")
    down.add_argument(
        "--purge",
        action="store_true",
        help="also delete the cached rootfs and apt cache once the lab is empty",
    )
    down.set_defaults(func=lambda a: lab.down(a.inventory, a.purge))

    status = sub.add_parser("status", help="show the lab's networks and hosts")
    status.set_defaults(func=lambda a: lab.status())
