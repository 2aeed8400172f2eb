"""Side effects on this machine: bridges, isolation rules, the apt proxy, rootfs, containers, loops.

Each function is idempotent: it checks first and changes only what differs. Everything the lab
creates is recorded in the state file (see state.py) so that `lab down` removes exactly that.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from strata.errors import StrataError
from strata.lab import render

LOOP_CTL_ADD = 0x4C80
LOOP_CTL_REMOVE = 0x4C81


def run(*argv, check=True, capture=True, timeout=None, **kwargs):
    proc = subprocess.run(
        argv, check=False, capture_output=capture, text=True, timeout=timeout, **kwargs
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip()
        raise StrataError(f"command failed ({proc.returncode}): {' '.join(argv)}: {detail}")
    return proc


# ---- bridges and isolation -------------------------------------------------------------


def inotify_instances():
    """(instances root's processes hold, fs.inotify.max_user_instances): privileged lab
    containers count against root's limit."""
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    held = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != 0:
                continue
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    held += os.readlink(fd) == "anon_inode:inotify"
        except OSError:  # the process ended while we looked
            continue
    return held, limit


def link_exists(name):
    return Path(f"/sys/class/net/{name}").exists()


def bridge_addresses(name):
    out = run("ip", "-o", "-4", "addr", "show", "dev", name).stdout
    return {line.split()[3] for line in out.splitlines()}


def ensure_bridge(name, address):
    """Create bridge `name` with `address` (CIDR form). Returns True when it was created."""
    created = False
    if not link_exists(name):
        run("ip", "link", "add", name, "type", "bridge")
        created = True
    if address not in bridge_addresses(name):
        run("ip", "addr", "add", address, "dev", name)
    run("ip", "link", "set", name, "up")
    return created


def delete_bridge(name):
    if link_exists(name):
        run("ip", "link", "del", name)


def isolation_rules(bridge):
    """FORWARD rules that keep lab traffic on its bridge (LAB.md), for IPv4 and IPv6 (the
    containers' veths have link-local IPv6 addresses)."""
    return [
        [tool, "FORWARD", *spec]
        for tool in ("iptables", "ip6tables")
        for spec in (
            ["-i", bridge, "!", "-o", bridge, "-j", "DROP"],
            ["-o", bridge, "!", "-i", bridge, "-j", "DROP"],
        )
    ]


def _rule_parts(rule):
    """(tool, chain, spec) of a rule; a state written before IPv6 rules has no tool (IPv4)."""
    if rule[0] in ("iptables", "ip6tables"):
        return rule[0], rule[1], rule[2:]
    return "iptables", rule[0], rule[1:]


def ensure_rule(rule):
    """Insert `rule` unless an identical one exists; True when this call inserted it (a rule
    that was there before is someone else's: the lab neither records nor deletes it)."""
    tool, chain, spec = _rule_parts(rule)
    if run(tool, "-C", chain, *spec, check=False).returncode == 0:
        return False
    run(tool, "-I", chain, *spec)
    return True


def delete_rule(rule):
    """Delete the one copy of `rule` the lab inserted (an identical rule of someone else's,
    inserted besides, stays)."""
    tool, chain, spec = _rule_parts(rule)
    if run(tool, "-C", chain, *spec, check=False).returncode == 0:
        run(tool, "-D", chain, *spec)


# ---- processes ---------------------------------------------------------------------------


def process_alive(pid, name):
    """True when `pid` runs and is the program `name` (a recycled pid is not ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(cmdline.decode(errors="replace")) == name


def stop_process(pid, name, timeout=10):
    if not process_alive(pid, name):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_alive(pid, name) and time.monotonic() < deadline:
        time.sleep(0.1)
    if process_alive(pid, name):
        os.kill(pid, signal.SIGKILL)


def start_apt_proxy(state_dir, cache_dir, address):
    """Run apt-cacher-ng on `address` with its own config dir; returns its pid."""
    conf = state_dir / "apt-cacher-ng"
    if conf.exists():
        shutil.rmtree(conf)
    shutil.copytree("/etc/apt-cacher-ng", conf)
    # The stock backend for deb.debian.org points at a mirror that does not resolve here.
    (conf / "backends_debian").write_text("http://deb.debian.org/debian/\n")
    logs = state_dir / "apt-cacher-ng-log"
    cache = cache_dir / "apt-cacher-ng"
    for path in (logs, cache):
        path.mkdir(parents=True, exist_ok=True)
    pidfile = state_dir / "apt-cacher-ng.pid"
    argv = [
        shutil.which("apt-cacher-ng") or "/usr/sbin/apt-cacher-ng",
        "-c",
        str(conf),
        "ForeGround=1",
        "ConnectProto=v4",
        f"BindAddress={address}",
        f"Port={render.APT_PROXY_PORT}",
        f"CacheDir={cache}",
        f"LogDir={logs}",
        f"PidFile={pidfile}",
        f"SocketPath={state_dir / 'apt-cacher-ng.socket'}",
    ]
    with open(logs / "stdout.log", "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    wait_for_port(address, render.APT_PROXY_PORT, timeout=15, what="apt-cacher-ng")
    return proc.pid


def wait_for_port(address, port, timeout, what):
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise StrataError(f"{what} does not answer on {address}:{port}: {exc}") from exc
            time.sleep(0.2)


# ---- base rootfs -------------------------------------------------------------------------


def build_rootfs(target):
    """debootstrap a Debian 12 base into `target` (about a minute), atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".rootfs-", dir=target.parent))
    try:
        run(
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(render.BASE_PACKAGES),
            "bookworm",
            str(work),
            "http://deb.debian.org/debian",
        )
        (work / "etc/apt/sources.list").write_text(render.sources_list())
        (work / "etc/apt/apt.conf.d/02strata-no-recommends").write_text(
            'APT::Install-Recommends "false";\n'
        )
        for key in (work / "etc/ssh").glob("ssh_host_*"):
            key.unlink()  # each container gets its own
        (work / "etc/machine-id").write_text("")
        wants = work / "etc/systemd/system/multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        unit = wants / "systemd-networkd.service"
        if not unit.exists():
            unit.symlink_to("/lib/systemd/system/systemd-networkd.service")
        run("chroot", str(work), "apt-get", "clean")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        if work.exists():
            shutil.rmtree(work)


# ---- loop devices ------------------------------------------------------------------------


def loop_in_use(number):
    return Path(f"/sys/block/loop{number}/loop/backing_file").exists()


def ensure_loop(number, image, size):
    """Attach sparse file `image` (created at `size`) to /dev/loopN."""
    image.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not image.exists():
        run("truncate", "-s", size, str(image))
        image.chmod(0o600)  # a lab host's disk: root's only
    backing = Path(f"/sys/block/loop{number}/loop/backing_file")
    if backing.exists():
        if backing.read_text().strip() == str(image):
            return
        raise StrataError(f"/dev/loop{number} is attached to {backing.read_text().strip()}")
    fd = os.open("/dev/loop-control", os.O_RDWR)
    try:
        with contextlib.suppress(OSError):  # EEXIST: it exists already, detached
            fcntl.ioctl(fd, LOOP_CTL_ADD, number)
    finally:
        os.close(fd)
    node = Path(f"/dev/loop{number}")
    for _ in range(50):
        if node.exists():
            break
        time.sleep(0.02)
    else:
        os.mknod(node, 0o660 | 0o060000, os.makedev(7, number))
    run("losetup", str(node), str(image))


def remove_loop(number, image):
    node = f"/dev/loop{number}"
    backing = Path(f"/sys/block/loop{number}/loop/backing_file")
    # The state survives a reboot, attachments do not: detach only the lab's own image.
    if loop_in_use(number) and backing.exists() and backing.read_text().strip() == str(image):
        run("losetup", "-d", node, check=False)
    fd = os.open("/dev/loop-control", os.O_RDWR)
    try:
        fcntl.ioctl(fd, LOOP_CTL_REMOVE, number)
    except OSError:
        pass  # still busy or already gone; a detached loop node is harmless
    finally:
        os.close(fd)
    if image.exists():
        image.unlink()


# ---- containers --------------------------------------------------------------------------


def container_state(name):
    proc = run("lxc-info", "-n", name, "-s", "-H", check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def write_files(root, files):
    for rel, (content, mode) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content)
        tmp.chmod(mode)
        tmp.rename(path)
    ssh_dir = root / "root/.ssh"
    if ssh_dir.exists():
        ssh_dir.chmod(0o700)


def generate_host_key(delta):
    keydir = delta / "etc/ssh"
    keydir.mkdir(parents=True, exist_ok=True)
    key = keydir / "ssh_host_ed25519_key"
    if not key.exists():
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key))
    return (keydir / "ssh_host_ed25519_key.pub").read_text()


def start_container(name):
    run("lxc-start", "-n", name)
    run("lxc-wait", "-n", name, "-s", "RUNNING", "-t", "30")


def destroy_container(name):
    if container_state(name) is None:
        return
    run("lxc-stop", "-n", name, "-k", check=False)
    run("lxc-destroy", "-n", name)
