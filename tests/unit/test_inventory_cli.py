"""`strata inventory show|hosts|groups|validate|remove-host` through strata.cli.main."""

import shutil
from pathlib import Path

from strata import ROOT, cli, inventory

EXAMPLES = Path(ROOT) / "etc" / "strata"


def copy_example(name, tmp_path):
    dest = tmp_path / name
    # Without state a run in place may have left next to the example.
    ignore = shutil.ignore_patterns(f"{inventory.STATE_FILE}*", ".*")
    shutil.copytree(EXAMPLES / name, dest, ignore=ignore)
    return dest


def test_hosts_table_marks_addresses_not_yet_kept(tmp_path, capsys):
    directory = copy_example("aio", tmp_path)
    assert cli.main(["inventory", "hosts", "--config-dir", str(directory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["HOST", "MANAGEMENT", "STORAGE", "REPLICATION", "GROUPS"]
    assert out[1].split()[:4] == ["aio1", "172.29.236.100", "172.29.244.2*", "172.29.248.2*"]
    assert out[2].startswith("* not yet in the state file")
    # show/hosts never write the state; the inventory run does.
    assert not (directory / inventory.STATE_FILE).exists()
    inventory.generate(directory)
    cli.main(["inventory", "--config-dir", str(directory), "hosts"])
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:4] == ["aio1", "172.29.236.100", "172.29.244.2", "172.29.248.2"]
    assert len(out) == 2


def test_show_prints_networks_vips_and_hosts(tmp_path, capsys, monkeypatch):
    directory = copy_example("small", tmp_path)
    monkeypatch.setenv("STRATA_CONFIG_DIR", str(directory))
    assert cli.main(["inventory", "show"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "internal VIP:  172.29.236.9" in lines
    assert "management:    172.29.236.0/22 (container)" in lines
    assert "hosts:         18" in lines
    assert any(line.startswith("swift-proxy1  172.29.236.21") for line in lines)


def test_groups_lists_members_and_children(tmp_path, capsys):
    directory = copy_example("small", tmp_path)
    cli.main(["inventory", "groups", "--config-dir", str(directory)])
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["swift_storage"].split() == ["swift_storage", "3", "swift1,", "swift2,", "swift3"]
    assert rows["swift_all"].split() == ["swift_all", "children:", "swift_proxy,", "swift_storage"]
    assert rows["swift_proxy"].split()[1] == "2"


def test_validate_ok_with_warnings_on_stderr(tmp_path, capsys):
    directory = copy_example("aio", tmp_path)
    assert cli.main(["inventory", "validate", "--config-dir", str(directory)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"OK: 1 hosts, 3 networks, 1 config files in {directory}\n"
    assert captured.err.count("warning: ") == 3


def test_validate_reports_every_problem_and_exits_2(tmp_path, capsys):
    directory = copy_example("aio", tmp_path)
    config_file = directory / "strata_user_config.yml"
    text = config_file.read_text()
    config_file.write_text(
        text.replace("swift_hosts:", "swfit_hosts:").replace("part_power: 8", "part_power: 0")
    )
    assert cli.main(["inventory", "validate", "--config-dir", str(directory)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2
    assert all(line.startswith(f"error: {config_file}:") for line in errors)


def test_remove_host(tmp_path, capsys):
    directory = copy_example("aio", tmp_path)
    inventory.generate(directory)
    assert cli.main(["inventory", "remove-host", "aio1", "--config-dir", str(directory)]) == 1
    assert capsys.readouterr().err == (
        "error: aio1: still in the config (shared-infra_hosts, identity_hosts, haproxy_hosts, "
        "storage-infra_hosts, image_hosts, compute-infra_hosts, placement-infra_hosts, "
        "network-infra_hosts, compute_hosts, swift-proxy_hosts, ceph-mon_hosts, storage_hosts,"
        " swift_hosts, ceph-osd_hosts); expected it removed from "
        "strata_user_config.yml and conf.d first\n"
    )
    state = inventory.read_state(inventory.state_path(directory))
    state["old1"] = {"management": "172.29.236.101", "storage": "172.29.244.3"}
    inventory.write_state(inventory.state_path(directory), state)
    assert cli.main(["inventory", "remove-host", "old1", "--config-dir", str(directory)]) == 0
    assert capsys.readouterr().out == (
        "removed old1 from the inventory state (management 172.29.236.101, storage 172.29.244.3)\n"
    )
    assert "old1" not in inventory.read_state(inventory.state_path(directory))
