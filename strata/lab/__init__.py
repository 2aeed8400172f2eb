"""The local lab: privileged LXC system containers on this machine's bridges, used as test hosts."""
