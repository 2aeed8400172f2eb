"""restart_record: the pure plan, the record file, and the run a killed converge leaves behind."""

import importlib.util
import os

import pytest
import yaml
from ansible.module_utils import strata_restart_record as rr

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def params(tmp_path, files, state="compared", name="memcached"):
    return {"name": name, "files": files, "state": state, "record_dir": str(tmp_path / "rec")}


# --- the pure plan ------------------------------------------------------------------------------


def test_without_a_record_every_file_differs():
    plan = rr.plan_record({"/etc/a": "1", "/etc/b": None}, None)
    assert plan == {"differ": ["/etc/a", "/etc/b"], "record": "1  /etc/a\nabsent  /etc/b\n"}


def test_a_recorded_state_differs_in_nothing():
    current = {"/etc/a": "1", "/etc/b": None}
    assert rr.plan_record(current, rr.parse_record(rr.render_record(current)))["differ"] == []


def test_a_changed_new_or_removed_file_differs():
    record = {"/etc/a": "1", "/etc/b": "2", "/etc/gone": "3"}
    current = {"/etc/a": "1", "/etc/b": "9", "/etc/new": "4", "/etc/c": None}
    plan = rr.plan_record(current, record)
    # /etc/gone is no longer named by the caller: it neither differs nor stays in the record.
    assert plan["differ"] == ["/etc/b", "/etc/new", "/etc/c"]
    assert "/etc/gone" not in plan["record"]


def test_a_file_that_disappeared_differs():
    assert rr.plan_record({"/etc/a": None}, {"/etc/a": "1"})["differ"] == ["/etc/a"]


def test_a_damaged_record_counts_as_none():
    assert rr.parse_record("deadbeef /etc/a\n") is None
    assert rr.parse_record("") == {}
    assert rr.parse_record(None) is None


def test_paths_with_spaces_survive_the_record():
    current = {"/etc/my conf": "1"}
    assert rr.parse_record(rr.render_record(current)) == current


@pytest.mark.parametrize(
    ("name", "files", "expected"),
    [
        ("../x", ["/etc/a"], "name '../x'"),
        ("", ["/etc/a"], "name ''"),
        ("ok", [], "at least one file"),
        ("ok", ["etc/a"], "'etc/a' is not an absolute path"),
        ("ok", ["/etc/a", "/etc/a"], "listed twice"),
    ],
)
def test_bad_parameters_are_refused(tmp_path, name, files, expected):
    with pytest.raises(rr.RecordError, match=expected):
        rr.run(params(tmp_path, files, name=name), check_mode=False)


# --- the run on real files -----------------------------------------------------------------------


def test_the_cycle_of_a_converge(tmp_path):
    conf = tmp_path / "memcached.conf"
    conf.write_text("-m 64\n")
    files = [str(conf)]
    # First install: no record, so the service restarts; the handler records.
    assert rr.run(params(tmp_path, files), check_mode=False)["changed"]
    assert rr.run(params(tmp_path, files, "recorded"), check_mode=False)["changed"]
    record = tmp_path / "rec" / "memcached"
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    # A second converge: nothing to restart, nothing to record.
    assert not rr.run(params(tmp_path, files), check_mode=False)["changed"]
    assert not rr.run(params(tmp_path, files, "recorded"), check_mode=False)["changed"]


def test_a_run_killed_before_the_restart_restarts_on_the_next(tmp_path):
    conf = tmp_path / "memcached.conf"
    conf.write_text("-m 64\n")
    files = [str(conf)]
    rr.run(params(tmp_path, files, "recorded"), check_mode=False)
    # The killed run: the file is written, the handler never ran.
    conf.write_text("-m 128\n")
    # The next run writes the same file (no change there), but the record still says 64.
    result = rr.run(params(tmp_path, files), check_mode=False)
    assert result["changed"] and result["differ"] == files


def test_check_mode_writes_no_record(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text("x")
    result = rr.run(params(tmp_path, [str(conf)], "recorded"), check_mode=True)
    assert result["changed"]
    assert not (tmp_path / "rec").exists()


def test_an_unreadable_record_is_an_error_not_a_restart(tmp_path):
    (tmp_path / "rec" / "memcached").mkdir(parents=True)
    with pytest.raises(rr.RecordError, match="cannot read the restart record"):
        rr.run(params(tmp_path, ["/etc/hostname"]), check_mode=False)


# --- the module file ---------------------------------------------------------------------------


def load_module_file():
    path = os.path.join(ROOT, "library", "restart_record.py")
    spec = importlib.util.spec_from_file_location("restart_record_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documentation_matches_the_argument_spec():
    module = load_module_file()
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(documented) == set(rr.ARGUMENT_SPEC)
    for name, spec in rr.ARGUMENT_SPEC.items():
        option = documented[name]
        assert option["type"] == spec["type"], name
        assert option.get("elements") == spec.get("elements"), name
        assert option.get("required", False) == spec.get("required", False), name
        assert option.get("default") == spec.get("default"), name
        assert option.get("choices") == spec.get("choices"), name
    yaml.safe_load(module.EXAMPLES)


def test_return_documents_every_result_key(tmp_path):
    module = load_module_file()
    returned = yaml.safe_load(module.RETURN)
    result = rr.run(params(tmp_path, ["/etc/hostname"]), check_mode=True)
    assert set(result) - {"changed"} == set(returned)
