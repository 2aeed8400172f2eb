"""The swift_ring module file: documentation, the Ansible wrapper, import without swift."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils import strata_swift_ring as sr

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE_PATH = os.path.join(ROOT, "library", "swift_ring.py")
VENV_BIN = os.path.dirname(sys.executable)


def load_module_file():
    spec = importlib.util.spec_from_file_location("swift_ring_module", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


swift_ring = load_module_file()


def three_devices():
    return [
        {"zone": z, "ip": f"10.0.0.{z}", "port": 6200, "device": "sdb", "weight": 100}
        for z in (1, 2, 3)
    ]


def run_module(capsys, args, check=False, diff=False):
    """main() as Ansible runs it: arguments in, one JSON document out."""
    module_args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    try:
        with pytest.raises(SystemExit):
            swift_ring.main()
    finally:
        basic._ANSIBLE_ARGS = None
        basic._ANSIBLE_PROFILE = None
    return json.loads(capsys.readouterr().out)


def test_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(swift_ring.DOCUMENTATION)
    documented = doc["options"]
    assert set(documented) == set(swift_ring.ARGUMENT_SPEC)
    for name, spec in swift_ring.ARGUMENT_SPEC.items():
        option = documented[name]
        assert option["type"] == spec["type"], name
        assert option.get("required", False) == spec.get("required", False), name
        assert option.get("default") == spec.get("default"), name
        assert option["description"], name
    assert set(documented["devices"]["suboptions"]) == set(sr.DEVICE_KEYS)
    yaml.safe_load(swift_ring.EXAMPLES)


def test_return_documents_every_result_key(tmp_path):
    result = sr.converge(
        {
            "ring": "object",
            "builder_dir": str(tmp_path),
            "part_power": 6,
            "replicas": 3,
            "min_part_hours": 0,
            "devices": three_devices(),
        }
    )
    returned = yaml.safe_load(swift_ring.RETURN)
    produced = set(result) - {"changed", "warnings", "diff"}
    assert produced == set(returned)
    assert set(result["plan"]) == set(returned["plan"]["contains"])


def test_check_mode_with_diff_writes_nothing(tmp_path, capsys):
    args = {
        "ring": "account",
        "builder_dir": str(tmp_path / "swift"),
        "part_power": 6,
        "min_part_hours": 0,
        "devices": three_devices(),
    }
    result = run_module(capsys, args, check=True, diff=True)
    assert result["changed"] and result["rebalanced"] and result["created"]
    assert result["parts_moved"] == 3 * 2**6
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"].splitlines() == [
        "part_power 6, replicas 3, min_part_hours 0",
        "r1z1-10.0.0.1:6200/sdb weight 100 replication 10.0.0.1:6200 meta ''",
        "r1z2-10.0.0.2:6200/sdb weight 100 replication 10.0.0.2:6200 meta ''",
        "r1z3-10.0.0.3:6200/sdb weight 100 replication 10.0.0.3:6200 meta ''",
        "rebalance: 192 partition replica(s) move",
    ]
    assert not os.path.exists(tmp_path / "swift")

    applied = run_module(capsys, args)
    assert applied["ring_md5"] == result["ring_md5"]
    assert "diff" not in applied  # only with --diff


def test_user_error_fails_with_every_message(capsys):
    devices = three_devices()
    devices[1]["port"] = 0
    result = run_module(capsys, {"ring": "objekt", "part_power": 16, "devices": devices})
    assert result["failed"]
    assert result["errors"] == [
        "swift_ring: ring: 'objekt' is not a swift ring name; expected account, container, "
        "object or object-N (N >= 1, the storage policy index)",
        "swift_ring: devices[1].port: 0 is not a TCP port (an integer 1-65535)",
    ]
    assert result["msg"] == "; ".join(result["errors"])


def test_module_file_imports_without_swift():
    """ansible-doc and the controller load the module without swift installed."""
    script = (
        "import importlib.abc, sys\n"
        "class NoSwift(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'swift' or name.startswith('swift.'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoSwift())\n"
        "import ansible.module_utils, importlib.util\n"
        "ansible.module_utils.__path__.append(sys.argv[1])\n"
        "spec = importlib.util.spec_from_file_location('m', sys.argv[2])\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print('swift' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, os.path.join(ROOT, "module_utils"), MODULE_PATH],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "False"


def test_real_ansible_run_packages_module_utils(tmp_path):
    """ansible runs the module (AnsiballZ ships module_utils/strata_swift_ring.py with it)."""
    args = {
        "ring": "container",
        "builder_dir": str(tmp_path),
        "part_power": 6,
        "min_part_hours": 0,
        "devices": three_devices(),
    }
    run = subprocess.run(
        [
            os.path.join(VENV_BIN, "ansible"),
            "localhost",
            "-c",
            "local",
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            "swift_ring",
            "-a",
            json.dumps(args),
            "--diff",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "CHANGED" in run.stdout
    assert "rebalance: 192 partition replica(s) move" in run.stdout
    assert os.path.exists(tmp_path / "container.ring.gz")
