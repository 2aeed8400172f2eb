"""ceph_pool: the pure plan, on state from a real ceph 16 cluster's JSON (tests/fixtures/ceph)."""

import copy
import importlib.util
import json
import os

import pytest
import yaml
from ansible.module_utils import strata_ceph_pool as cp
from ansible.module_utils.strata_ceph import CephError, Step, apply_steps

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "ceph")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return json.load(handle)


LS_DETAIL = fixture("osd_pool_ls_detail.json")
RULES = fixture("osd_crush_rule_dump.json")
RULE_NAMES = {rule["rule_name"] for rule in RULES}


def load_module_file():
    path = os.path.join(ROOT, "library", "ceph_pool.py")
    spec = importlib.util.spec_from_file_location("ceph_pool_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def params(**values):
    base = {name: spec.get("default") for name, spec in cp.ARGUMENT_SPEC.items()}
    base.update(values)
    return base


def probe_state(**changes):
    """The fixture's pool `probe` (size 1, min_size 1, pg_num target 16, rbd), changed."""
    pool = copy.deepcopy(cp.find_pool(LS_DETAIL, "probe"))
    pool.update(changes)
    return cp.pool_state(pool, RULES)


def commands(steps):
    return [step.command() for step in steps]


# --- reading ceph's JSON ---------------------------------------------------------------------


def test_pool_state_from_ls_detail():
    state = probe_state()
    assert state == {
        "type": "replicated",
        "size": 1,
        "min_size": 1,
        # pg_num is 8 on its way to 16: the target is what the operator asked for.
        "pg_num": 16,
        "pg_autoscale_mode": "on",
        "crush_rule": "replicated_rule",
        "applications": ["rbd"],
    }
    assert cp.find_pool(LS_DETAIL, "nope") is None
    assert cp.pool_state(None, RULES) is None


# --- plans for a new pool --------------------------------------------------------------------


def test_new_pool_all_settings_in_a_safe_order():
    wanted = params(
        name="images",
        size=3,
        min_size=2,
        pg_num=32,
        pg_autoscale_mode="off",
        application="rbd",
        crush_rule="replicated_rule",
    )
    steps, before, after = cp.plan_pool(wanted, None, RULE_NAMES)
    assert commands(steps) == [
        "ceph osd pool create images 32 32 replicated replicated_rule",
        # The autoscaler is switched off before it can touch the new pool.
        "ceph osd pool set images pg_autoscale_mode off",
        "ceph osd pool set images size 3",
        "ceph osd pool set images min_size 2",
        "ceph osd pool application enable images rbd",
    ]
    assert before == {}
    assert after == {
        "size": 3,
        "min_size": 2,
        "pg_num": 32,
        "pg_autoscale_mode": "off",
        "crush_rule": "replicated_rule",
        "applications": ["rbd"],
    }


def test_new_pool_with_only_a_name_takes_the_cluster_defaults():
    steps, _before, after = cp.plan_pool(params(name="scratch"), None, RULE_NAMES)
    assert commands(steps) == ["ceph osd pool create scratch replicated"]
    assert after == {"min_size": "(cluster default)", "applications": []}


def test_size_one_passes_cephs_confirmation_flag():
    steps, _before, _after = cp.plan_pool(params(name="aio", size=1), None, RULE_NAMES)
    assert "ceph osd pool set aio size 1 --yes-i-really-mean-it" in commands(steps)


# --- plans for an existing pool --------------------------------------------------------------


def test_a_pool_that_matches_needs_nothing():
    wanted = params(
        name="probe",
        size=1,
        min_size=1,
        pg_num=16,
        pg_autoscale_mode="on",
        application="rbd",
        crush_rule="replicated_rule",
    )
    steps, before, after = cp.plan_pool(wanted, probe_state(), RULE_NAMES)
    assert steps == []
    assert before == after


def test_a_size_change_sets_min_size_again_because_ceph_resets_it():
    # Measured on ceph 16: `osd pool set NAME size 3` turned min_size 3 into 1 (the default).
    current = probe_state(size=2, min_size=2)
    steps, before, after = cp.plan_pool(params(name="probe", size=3, min_size=2), current, set())
    assert commands(steps) == [
        "ceph osd pool set probe size 3",
        "ceph osd pool set probe min_size 2",
    ]
    assert [step.change for step in steps] == [
        "size: 2 -> 3",
        "min_size: (reset by the size change) -> 2",
    ]
    assert (before["size"], before["min_size"]) == (2, 2)
    assert (after["size"], after["min_size"]) == (3, 2)


def test_a_size_change_without_min_size_says_ceph_chooses_it():
    steps, _before, after = cp.plan_pool(params(name="probe", size=2), probe_state(), set())
    assert commands(steps) == ["ceph osd pool set probe size 2"]
    assert after["min_size"] == "(cluster default for the new size)"


def test_min_size_alone():
    current = probe_state(size=3, min_size=1)
    steps, _before, _after = cp.plan_pool(params(name="probe", min_size=2), current, set())
    assert commands(steps) == ["ceph osd pool set probe min_size 2"]
    assert steps[0].change == "min_size: 1 -> 2"


def test_min_size_above_the_pools_size_is_refused_before_any_change():
    with pytest.raises(CephError, match="min_size is 2 but pool probe has size 1"):
        cp.plan_pool(params(name="probe", min_size=2), probe_state(), set())


def test_pg_num_is_left_to_the_autoscaler_when_it_is_on():
    steps, _before, after = cp.plan_pool(params(name="probe", pg_num=64), probe_state(), set())
    assert steps == []
    assert after["pg_num"] == 16


@pytest.mark.parametrize("mode", ["off", "warn"])
def test_pg_num_is_reconciled_when_the_autoscaler_is_not_on(mode):
    current = probe_state(pg_autoscale_mode=mode)
    steps, _before, after = cp.plan_pool(params(name="probe", pg_num=64), current, set())
    assert commands(steps) == ["ceph osd pool set probe pg_num 64"]
    assert steps[0].change == "pg_num: 16 -> 64"
    assert after["pg_num"] == 64


def test_switching_the_autoscaler_off_then_setting_pg_num():
    wanted = params(name="probe", pg_num=32, pg_autoscale_mode="off")
    steps, _before, _after = cp.plan_pool(wanted, probe_state(), set())
    assert commands(steps) == [
        "ceph osd pool set probe pg_autoscale_mode off",
        "ceph osd pool set probe pg_num 32",
    ]


def test_a_rerun_during_a_pg_num_move_changes_nothing():
    # pg_num is still 8 in the fixture; the target is already 16.
    current = probe_state(pg_autoscale_mode="off")
    steps, _before, _after = cp.plan_pool(params(name="probe", pg_num=16), current, set())
    assert steps == []


def test_crush_rule_change_and_unknown_rule():
    rules = RULE_NAMES | {"by-rack"}
    steps, _before, after = cp.plan_pool(
        params(name="probe", crush_rule="by-rack"), probe_state(), rules
    )
    assert commands(steps) == ["ceph osd pool set probe crush_rule by-rack"]
    assert after["crush_rule"] == "by-rack"
    with pytest.raises(CephError, match=r"crush_rule is 'rack' .*\(rules: replicated_rule\)"):
        cp.plan_pool(params(name="probe", crush_rule="rack"), probe_state(), RULE_NAMES)


def test_application_is_enabled_once():
    current = probe_state(application_metadata={})
    steps, _before, after = cp.plan_pool(params(name="probe", application="rbd"), current, set())
    assert commands(steps) == ["ceph osd pool application enable probe rbd"]
    assert after["applications"] == ["rbd"]
    steps, _before, _after = cp.plan_pool(
        params(name="probe", application="rbd"), probe_state(), set()
    )
    assert steps == []


def test_a_second_application_is_refused():
    # ceph would want --yes-i-really-mean-it; a pool of RBD images is not also a CephFS pool.
    with pytest.raises(CephError, match="pool probe has application rbd enabled, not cephfs"):
        cp.plan_pool(params(name="probe", application="cephfs"), probe_state(), set())


def test_an_erasure_coded_pool_is_refused():
    current = probe_state(type=3)
    with pytest.raises(CephError, match="erasure-coded"):
        cp.plan_pool(params(name="probe", size=3), current, set())


# --- deletion --------------------------------------------------------------------------------


def test_absent_pool_that_does_not_exist_needs_nothing_and_no_flag():
    assert cp.plan_pool(params(name="gone", state="absent"), None, set()) == ([], {}, {})


def test_deleting_needs_allow_delete():
    with pytest.raises(CephError, match="set allow_delete: true"):
        cp.plan_pool(params(name="probe", state="absent"), probe_state(), set())
    steps, before, after = cp.plan_pool(
        params(name="probe", state="absent", allow_delete=True), probe_state(), set()
    )
    assert commands(steps) == ["ceph osd pool rm probe probe --yes-i-really-really-mean-it"]
    assert before["size"] == 1
    assert after == {}


# --- input checks ----------------------------------------------------------------------------


def test_every_bad_input_is_reported_at_once():
    errors = cp.check_params(
        params(name="-bad", size=0, min_size=11, pg_num=0, connect_timeout=0, cluster=" ")
    )
    assert errors == [
        "name is '-bad' (expected a pool name: letters, digits, '.', '_', '-', starting with a "
        "letter or digit, at most 128 characters)",
        "size is 0 (expected a number of replicas from 1 to 10)",
        "min_size is 11 (expected a number from 1 to 10)",
        "pg_num is 0 (expected a number from 1 to 65536)",
        "cluster is ' ' (expected a cluster name, e.g. ceph)",
        "connect_timeout is 0 (expected a number of seconds, 1 or more)",
    ]


def test_size_below_min_size_is_refused():
    assert cp.check_params(params(name="images", size=2, min_size=3)) == [
        "min_size is 3 but size is 2 (expected min_size <= size: a pool never has more than "
        "size replicas)"
    ]


def test_allow_delete_goes_with_absent_only():
    assert cp.check_params(params(name="images", allow_delete=True)) == [
        "allow_delete is true but state is present (allow_delete goes with absent)"
    ]
    assert cp.check_params(params(name="images", state="absent", allow_delete=True)) == []


def test_a_pg_num_that_is_not_a_power_of_two_is_a_warning():
    assert cp.param_warnings(params(name="images", pg_num=32)) == []
    (warning,) = cp.param_warnings(params(name="images", pg_num=48))
    assert "POOL_PG_NUM_NOT_POWER_OF_TWO" in warning


# --- applying ----------------------------------------------------------------------------


def test_a_failed_step_names_the_steps_that_ran_before_it():
    steps = [Step("one", ("osd", "pool", "create", "p")), Step("two", ("osd", "pool", "set"))]
    ran = []

    def run_step(step):
        if step.change == "two":
            raise CephError("ceph osd pool set failed", step.command(), 22, "Error EINVAL")
        ran.append(step.change)

    with pytest.raises(CephError) as raised:
        apply_steps(steps, run_step)
    assert ran == ["one"]
    assert raised.value.result() == {
        "msg": "ceph osd pool set failed",
        "changed": True,
        "cmd": "ceph osd pool set",
        "rc": 22,
        "stderr": "Error EINVAL",
        "commands_done": ["ceph osd pool create p"],
    }
    assert CephError("bad input").result() == {"msg": "bad input", "changed": False}


# --- the module file -------------------------------------------------------------------------


def test_documentation_matches_the_argument_spec():
    module = load_module_file()
    doc = yaml.safe_load(module.DOCUMENTATION)
    documented = doc["options"]
    assert set(documented) == set(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        option = documented[name]
        assert option["type"] == spec["type"], name
        assert option.get("required", False) == spec.get("required", False), name
        assert option.get("default") == spec.get("default"), name
        assert option.get("choices") == spec.get("choices"), name
        assert option["description"], name
    yaml.safe_load(module.EXAMPLES)


def test_return_documents_every_result_key():
    module = load_module_file()
    returned = yaml.safe_load(module.RETURN)
    steps, before, after = cp.plan_pool(params(name="images", size=3), None, RULE_NAMES)
    result = cp.result(params(name="images", size=3), steps, before, after)
    failure = set(CephError("failed", "ceph x", 1, "error").result()) - {"msg", "changed"}
    assert failure == {"cmd", "rc", "stderr", "commands_done"}
    assert set(result) - {"changed", "diff", "warnings"} == set(returned) - failure


def test_check_mode_on_a_fresh_host_plans_a_new_pool(tmp_path):
    # No ceph command yet (packages not installed in check mode): nothing is run at all.
    wanted = params(name="images", size=3, crush_rule="by-rack", application="rbd")
    result = cp.converge(wanted, run_command=None, check_mode=True, binary=None)
    assert result["changed"] is True
    assert result["commands"][0] == "ceph osd pool create images replicated by-rack"
    assert result["warnings"] == [
        "check mode: the ceph command is not installed (the cluster is not set up yet), "
        "so pool images is reported as new"
    ]
    conf = str(tmp_path / "ceph.conf")
    result = cp.converge(dict(wanted, conf=conf), None, check_mode=True, binary="/usr/bin/ceph")
    assert f"check mode: {conf} does not exist" in result["warnings"][0]
