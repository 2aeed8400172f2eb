"""ceph_key: the pure plan, on an entity read from a real ceph 16 cluster (tests/fixtures/ceph),
and the keyring file that carries a secret to `ceph auth import`."""

import importlib.util
import json
import os
import stat

import pytest
import yaml
from ansible.module_utils import strata_ceph_key as ck
from ansible.module_utils.strata_ceph import KEYRING_PLACEHOLDER, CephError

from strata.secrets import cephx_key

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "ceph")

with open(os.path.join(FIXTURES, "auth_get_client_glance.json"), encoding="utf-8") as _handle:
    AUTH_GET = json.load(_handle)
# The fixture's key (see tests/fixtures/ceph/README.md).
SECRET_BYTES = bytes(range(16))
GLANCE_KEY = cephx_key(created=1700000000, secret=SECRET_BYTES)
GLANCE_CAPS = {
    "mon": "profile rbd",
    "osd": "profile rbd pool=images",
    "mgr": "profile rbd pool=images",
}


def load_module_file():
    path = os.path.join(ROOT, "library", "ceph_key.py")
    spec = importlib.util.spec_from_file_location("ceph_key_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def params(**values):
    base = {name: spec.get("default") for name, spec in ck.ARGUMENT_SPEC.items()}
    base.update(values)
    return base


def glance(**values):
    return params(
        **dict({"name": "client.glance", "caps": dict(GLANCE_CAPS), "secret": GLANCE_KEY}, **values)
    )


def current():
    return ck.entity_state(AUTH_GET)


def commands(steps):
    return [step.command() for step in steps]


# --- keys ------------------------------------------------------------------------------------


def test_entity_state_from_auth_get():
    assert current() == {"key": GLANCE_KEY, "caps": GLANCE_CAPS}
    assert ck.entity_state(None) is None


def test_key_problem_agrees_with_strata_secrets():
    assert ck.key_problem(cephx_key()) is None
    assert ck.key_problem("not base64!") == "is not base64"
    assert ck.key_problem("AAAA") == "decodes to 3 bytes, a cephx key has 28"
    wrong_type = cephx_key(secret=bytes(16)).replace("AQ", "Ag", 1)
    assert ck.key_problem(wrong_type) == (
        "has type 2 and length 16, a cephx key has type 1 and length 16"
    )


def test_same_secret_ignores_the_creation_time_inside_the_key():
    assert ck.same_secret(GLANCE_KEY, cephx_key(created=1, secret=SECRET_BYTES))
    assert not ck.same_secret(GLANCE_KEY, cephx_key(created=1700000000, secret=bytes(16)))


# --- plans -----------------------------------------------------------------------------------


def test_new_entity_with_a_secret_is_imported_from_a_keyring_file():
    (step,), before, after = ck.plan_key(glance(), None)
    assert step.args == ("auth", "import", "-i", KEYRING_PLACEHOLDER)
    assert step.keyring == {"entity": "client.glance", "key": GLANCE_KEY, "caps": GLANCE_CAPS}
    assert GLANCE_KEY not in step.command() + step.change
    assert (before, after) == ({}, {"caps": GLANCE_CAPS})


def test_new_entity_without_a_secret_lets_ceph_make_one():
    wanted = params(name="mgr.cm1", caps={"mon": "allow profile mgr", "osd": "allow *"})
    (step,), _before, _after = ck.plan_key(wanted, None)
    assert step.command() == "ceph auth add mgr.cm1 mon 'allow profile mgr' osd 'allow *'"
    assert step.keyring is None


def test_an_entity_that_matches_needs_nothing():
    assert ck.plan_key(glance(), current()) == ([], {"caps": GLANCE_CAPS}, {"caps": GLANCE_CAPS})
    # Without a secret, the cluster's secret is kept whatever it is.
    wanted = params(name="client.glance", caps=dict(GLANCE_CAPS))
    assert ck.plan_key(wanted, current())[0] == []


def test_caps_change_keeps_the_secret_and_is_shown_before_after():
    caps = dict(GLANCE_CAPS, osd="profile rbd pool=images, profile rbd pool=vms")
    del caps["mgr"]
    (step,), before, after = ck.plan_key(glance(caps=caps), current())
    # `ceph auth caps` replaces every cap: the mgr cap left out goes away.
    assert step.command() == (
        "ceph auth caps client.glance mon 'profile rbd' "
        "osd 'profile rbd pool=images, profile rbd pool=vms'"
    )
    assert step.change == (
        "caps mgr: 'profile rbd pool=images' -> None; "
        "caps osd: 'profile rbd pool=images' -> 'profile rbd pool=images, profile rbd pool=vms'"
    )
    assert before == {"caps": GLANCE_CAPS}
    assert after == {"caps": caps}


def test_another_secret_in_the_cluster_is_refused_without_showing_either():
    other = cephx_key(secret=bytes(16))
    with pytest.raises(CephError) as raised:
        ck.plan_key(glance(secret=other), current())
    message = raised.value.msg
    assert "client.glance exists in the cluster with another secret" in message
    assert "force_secret: true" in message
    assert other not in message and GLANCE_KEY not in message


def test_force_secret_imports_key_and_caps_and_the_diff_hides_both_secrets():
    other = cephx_key(secret=bytes(16))
    (step,), before, after = ck.plan_key(glance(secret=other, force_secret=True), current())
    assert step.args == ("auth", "import", "-i", KEYRING_PLACEHOLDER)
    assert step.keyring["key"] == other
    assert step.change == "key: changed"
    assert before == {"caps": GLANCE_CAPS, "key": "(secret, not shown)"}
    assert after == {"caps": GLANCE_CAPS, "key": "changed"}
    shown = json.dumps([before, after, step.change, step.command()])
    assert other not in shown and GLANCE_KEY not in shown


def test_absent():
    (step,), before, after = ck.plan_key(params(name="client.glance", state="absent"), current())
    assert step.command() == "ceph auth del client.glance"
    assert (before, after) == ({"caps": GLANCE_CAPS}, {})
    assert ck.plan_key(params(name="client.glance", state="absent"), None) == ([], {}, {})


# --- input checks ----------------------------------------------------------------------------


def test_every_bad_input_is_reported_at_once_and_the_secret_is_not_quoted():
    bad_secret = "c2VjcmV0LXZhbHVl"
    errors = ck.check_params(
        params(
            name="glance",
            caps={"osd": 'allow "rw"', "rgw": "allow *", "mon": ""},
            secret=bad_secret,
        )
    )
    assert errors == [
        "name is 'glance' (expected an entity TYPE.ID with TYPE client, mgr, mds or osd, "
        "e.g. client.glance)",
        "caps.osd is 'allow \"rw\"' (expected no double quote, backslash or line break)",
        "caps.rgw is not a ceph service (expected mon, mgr, osd, mds)",
        "caps.mon is '' (expected a cap string, e.g. 'profile rbd pool=images')",
        "secret decodes to 12 bytes, a cephx key has 28 (expected a cephx key, as "
        "`ceph-authtool --gen-print-key` prints it; the value is not shown)",
    ]
    assert not any(bad_secret in error for error in errors)


def test_caps_are_required_with_present():
    assert ck.check_params(params(name="client.x")) == [
        "caps is None (expected a dict of caps by service, at least one of mon, mgr, osd, mds: "
        "ceph refuses a key without caps)"
    ]


def test_force_secret_needs_a_secret_and_absent_takes_no_caps():
    assert ck.check_params(params(name="client.x", caps={"mon": "allow r"}, force_secret=True)) == [
        "force_secret is true but no secret is given"
    ]
    assert ck.check_params(params(name="client.x", state="absent", caps={"mon": "allow r"})) == [
        "caps and secret go with state present (state is absent)"
    ]


# --- the keyring file ------------------------------------------------------------------------


def test_keyring_file_is_private_and_removed_afterwards():
    entity = {"entity": "client.glance", "key": GLANCE_KEY, "caps": GLANCE_CAPS}
    with ck.keyring_file(entity) as path:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        with open(path, encoding="utf-8") as handle:
            assert handle.read() == (
                "[client.glance]\n"
                f"\tkey = {GLANCE_KEY}\n"
                '\tcaps mon = "profile rbd"\n'
                '\tcaps mgr = "profile rbd pool=images"\n'
                '\tcaps osd = "profile rbd pool=images"\n'
            )
    assert not os.path.exists(os.path.dirname(path))


def test_keyring_file_is_removed_when_the_command_fails():
    entity = {"entity": "client.glance", "key": GLANCE_KEY, "caps": GLANCE_CAPS}
    with pytest.raises(RuntimeError), ck.keyring_file(entity) as path:
        raise RuntimeError("ceph auth import failed")
    assert not os.path.exists(path)


# --- the module file -------------------------------------------------------------------------


def test_documentation_matches_the_argument_spec():
    module = load_module_file()
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(documented) == set(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        option = documented[name]
        assert option["type"] == spec["type"], name
        assert option.get("required", False) == spec.get("required", False), name
        assert option.get("default") == spec.get("default"), name
        assert option.get("choices") == spec.get("choices"), name
        assert option["description"], name
    assert module.ARGUMENT_SPEC["secret"]["no_log"] is True
    yaml.safe_load(module.EXAMPLES)


def test_return_documents_every_result_key():
    module = load_module_file()
    returned = yaml.safe_load(module.RETURN)
    steps, before, after = ck.plan_key(glance(), None)
    result = ck.result(glance(), steps, before, after)
    failure = set(CephError("failed", "ceph x", 1, "error").result()) - {"msg", "changed"}
    assert failure == {"cmd", "rc", "stderr", "commands_done"}
    assert set(result) - {"changed", "diff", "warnings"} == set(returned) - failure


def test_check_mode_on_a_fresh_host_plans_a_new_key():
    result = ck.converge(glance(), run_command=None, check_mode=True, binary=None)
    assert result["changed"] is True
    assert result["commands"] == [f"ceph auth import -i '{KEYRING_PLACEHOLDER}'"]
    assert result["warnings"] == [
        "check mode: the ceph command is not installed (the cluster is not set up yet), "
        "so client.glance is reported as new"
    ]
    assert GLANCE_KEY not in json.dumps(result)
