"""The keystone role's key plan: keys are made only when none exist anywhere."""

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "roles/keystone/filter_plugins/keystone_keys.py"
spec = importlib.util.spec_from_file_location("strata_keystone_key_filters", PLUGIN)
keys = importlib.util.module_from_spec(spec)
spec.loader.exec_module(keys)

HOSTS = ["cp0", "cp1", "cp2", "cp3"]
SET_A = {"0": "aaaa", "1": "bbbb"}
SET_B = {"0": "cccc", "1": "dddd"}


def found(fernet=None, credential=None, base="/etc/keystone"):
    """What the role registers: a find looped over both key directories."""

    def result(kind, files):
        return {
            "item": kind,
            "files": [{"path": f"{base}/{kind}/{n}", "checksum": c} for n, c in files.items()],
        }

    return {
        "results": [
            result("fernet-keys", fernet or {}),
            result("credential-keys", credential or {}),
        ]
    }


def plan(held, backup=None, named=""):
    return keys.key_plan(held, list(held), backup or found(), named)


def test_new_cloud_makes_keys_on_the_first_host():
    result = plan({h: found() for h in HOSTS})
    for kind in keys.KINDS:
        assert result[kind]["action"] == "generate" and result[kind]["source"] == "cp0"


def test_a_new_first_host_gets_the_existing_keys():
    # The review's case: cp0 sorts first and is new; cp1..cp3 hold the keys.
    held = {"cp0": found(), **{h: found(SET_A, SET_B) for h in HOSTS[1:]}}
    result = plan(held)
    assert result["fernet-keys"] == {
        "action": "distribute",
        "source": "cp1",
        "reason": "fernet-keys of cp1 copied to the hosts that lack them",
    }
    assert result["credential-keys"]["source"] == "cp1"


def test_hosts_with_different_keys_are_refused():
    held = {"cp1": found(SET_A, SET_B), "cp2": found(SET_B, SET_B), "cp3": found()}
    result = plan(held)
    assert result["fernet-keys"]["action"] == "refuse"
    assert "cp1" in result["fernet-keys"]["reason"] and "cp2" in result["fernet-keys"]["reason"]
    assert "keystone_key_source_host" in result["fernet-keys"]["reason"]
    # The credential keys agree: they are still distributed.
    assert result["credential-keys"]["action"] == "distribute"


def test_the_operator_names_the_host_whose_keys_win():
    held = {"cp1": found(SET_A, SET_B), "cp2": found(SET_B, SET_B)}
    result = plan(held, named="cp2")
    assert all(p["action"] == "distribute" and p["source"] == "cp2" for p in result.values())
    assert plan(held, named="cp9")["fernet-keys"]["action"] == "refuse"
    assert plan({"cp1": found(), "cp2": found(SET_A)}, named="cp1")["fernet-keys"]["action"] == (
        "refuse"
    )


def test_keys_are_restored_from_the_backup_when_no_host_holds_any():
    held = {h: found() for h in HOSTS}
    result = plan(held, backup=found(SET_A, SET_B, base="/etc/strata/keystone-keys"))
    for kind in keys.KINDS:
        assert result[kind]["action"] == "restore" and result[kind]["source"] == "cp0"


def test_a_host_that_did_not_report_counts_as_empty():
    held = {"cp0": None, "cp1": found(SET_A, SET_B)}
    result = plan(held)
    assert result["fernet-keys"]["source"] == "cp1"
