"""Cinder in the all-in-one lab cloud: a volume created through the VIP with the real client
lands in Ceph's volumes pool (the RBD backend), and is gone from it once deleted."""

import json

import pytest

pytestmark = pytest.mark.lab


def test_volume_endpoints_are_on_the_vips(aio):
    external = aio.external_vip
    assert aio.endpoint_urls("volumev3") == {
        "internal": f"http://{aio.vip}:8776/v3/%(project_id)s",
        "admin": f"http://{aio.vip}:8776/v3/%(project_id)s",
        "public": f"https://{external}:8776/v3/%(project_id)s",
    }


def test_an_rbd_volume_is_created_in_ceph_and_deleted(aio):
    host = aio.hosts("keystone_all")[0]
    volume_host = aio.hosts("cinder_volume")[0]
    out = aio.check(
        host,
        # cinder-volume reports up some seconds after the converge's last restart.
        ". /root/openrc && for i in $(seq 60); do"
        "   openstack volume service list --service cinder-volume -f value -c State"
        "   | grep -qx up && break; sleep 2; done"
        " && openstack volume service list -f json"
        " && id=$(openstack volume create --size 1 --type rbd strata-aio-volume -f value -c id)"
        " && for i in $(seq 90); do"
        '   s=$(openstack volume show "$id" -f value -c status);'
        '   [ "$s" = available ] || [ "$s" = error ] && break; sleep 2; done'
        ' && echo "$id $s"',
        timeout=300,
    )
    services_json, last = out.strip().rsplit("\n", 1)
    services = {(s["Binary"], s["Host"]): s["State"] for s in json.loads(services_json)}
    assert services.get(("cinder-volume", f"{volume_host}@rbd")) == "up", services
    volume, status = last.split()
    assert status == "available"
    images = aio.check(volume_host, "rbd -p volumes ls --id cinder").split()
    assert f"volume-{volume}" in images
    aio.check(
        host,
        f". /root/openrc && openstack volume delete {volume}"
        f" && for i in $(seq 60); do openstack volume show {volume} >/dev/null 2>&1 || break;"
        "  sleep 2; done",
        timeout=200,
    )
    assert f"volume-{volume}" not in aio.check(volume_host, "rbd -p volumes ls --id cinder").split()
