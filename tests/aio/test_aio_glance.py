"""Glance in the all-in-one lab cloud: an image uploaded through the VIP into each store comes
back identical."""

import pytest

pytestmark = pytest.mark.lab

PROBE = "/tmp/strata-aio-image"


def test_image_endpoints_are_on_the_vips(aio):
    external = aio.external_vip
    assert aio.endpoint_urls("image") == {
        "internal": f"http://{aio.vip}:9292",
        "admin": f"http://{aio.vip}:9292",
        "public": f"https://{external}:9292",  # HAProxy serves the external VIP over TLS
    }


@pytest.mark.parametrize("store", ["file", "rbd"])
def test_an_image_round_trips_through_the_vip(aio, store):
    host = aio.hosts("keystone_all")[0]
    name = f"strata-aio-{store}"
    out = aio.check(
        host,
        # The image is made through the API: `openstack image create` without --file uploads
        # whatever its stdin holds when stdin is not a terminal (an empty, active image here).
        f". /root/openrc && head -c 20M /dev/urandom > {PROBE}"
        f" && token=$(openstack token issue -f value -c id)"
        f' && id=$(curl -sf -X POST -H "X-Auth-Token: $token" -H "Content-Type: application/json"'
        f""" -d '{{"name": "{name}", "disk_format": "raw", "container_format": "bare"}}'"""
        f" http://{aio.vip}:9292/v2/images"
        """ | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"""
        f' && curl -sf -X PUT -H "X-Auth-Token: $token"'
        f" -H 'Content-Type: application/octet-stream' -H 'X-Image-Meta-Store: {store}'"
        f" --data-binary @{PROBE} http://{aio.vip}:9292/v2/images/$id/file"
        f' && curl -sf -H "X-Auth-Token: $token" http://{aio.vip}:9292/v2/images/$id'
        """ | python3 -c 'import json, sys; print(json.load(sys.stdin)["stores"])'"""
        f" && openstack image save --file {PROBE}.back $id"
        f" && sha256sum < {PROBE}.back && sha256sum < {PROBE}"
        f" && openstack image delete $id",
        timeout=300,
    )
    stores, downloaded, original = out.splitlines()
    assert stores == store
    assert downloaded == original
