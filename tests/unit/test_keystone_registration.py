"""The keystone role's registration module: what it changes to make endpoints right."""

import importlib.util
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "roles/keystone/library/keystone_registration.py"
spec = importlib.util.spec_from_file_location("strata_keystone_registration", MODULE)
reg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reg)

WANTED = {
    "public": "http://203.0.113.10:9292",
    "internal": "http://172.29.236.20:9292",
    "admin": "http://172.29.236.20:9292",
}


def endpoint(eid, interface, url):
    return {"id": eid, "interface": interface, "url": url}


def test_new_service_gets_one_endpoint_per_interface():
    actions = reg.endpoint_actions([], WANTED)
    assert [(a[0], a[1]) for a in actions] == [
        ("create", "public"),
        ("create", "internal"),
        ("create", "admin"),
    ]


def test_matching_endpoints_need_nothing():
    existing = [endpoint(str(i), k, v) for i, (k, v) in enumerate(WANTED.items())]
    assert reg.endpoint_actions(existing, WANTED) == []


def test_wrong_url_is_updated_in_place():
    existing = [
        endpoint("a", "public", "http://old:9292"),
        endpoint("b", "internal", WANTED["internal"]),
        endpoint("c", "admin", WANTED["admin"]),
    ]
    assert reg.endpoint_actions(existing, WANTED) == [("update", "public", WANTED["public"], "a")]


def test_duplicates_are_removed_keeping_the_right_one():
    existing = [
        endpoint("a", "internal", "http://old:9292"),
        endpoint("b", "internal", WANTED["internal"]),
    ]
    actions = reg.endpoint_actions(existing, {"internal": WANTED["internal"]})
    assert actions == [("delete", "internal", "http://old:9292", "a")]


def test_interfaces_no_longer_wanted_are_removed():
    existing = [endpoint("a", "admin", "http://x"), endpoint("b", "internal", "http://y")]
    actions = reg.endpoint_actions(existing, {"internal": "http://y"})
    assert actions == [("delete", "admin", "http://x", "a")]


def test_parameter_problems_name_the_key():
    problems = reg.check_params(
        {
            "service": {"name": "glance"},
            "endpoints": {"private": "http://x"},
            "user": {"name": "glance", "project": "service"},
        }
    )
    assert "service.type is missing (expected a non-empty string)" in problems
    assert any(p.startswith("endpoints.private: unknown interface") for p in problems)
    assert "user.password is missing (expected a non-empty string)" in problems


def test_endpoints_need_a_service():
    problems = reg.check_params({"endpoints": {"public": "http://x"}})
    assert problems == ["endpoints given without service (expected the service they belong to)"]


def test_sound_parameters_have_no_problems():
    params = {
        "service": {"name": "glance", "type": "image"},
        "endpoints": WANTED,
        "user": {"name": "glance", "password": "p", "project": "service"},
    }
    assert reg.check_params(params) == []
