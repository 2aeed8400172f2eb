"""Glance in the all-in-one lab cloud: an image uploaded through the VIP into each store comes
back identical."""

import pytest

pytestmark = pytest.mark.lab

PROBE = "/tmp/strata-aio-image"


def test_image_endpoints_are_on_the_vips(aio):
    host = aio.hosts("keystone_all")[0]
    out = aio.check(
        host,
        ". /root/openrc && openstack endpoint list --service image -f value -c Interface -c URL",
    )
    urls = dict(line.split() for line in out.splitlines())
    external = aio.inventory["all"]["vars"].get("external_lb_vip_address", aio.vip)
    assert urls == {
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
        f". /root/openrc && head -c 20M /dev/urandom > {PROBE}"
        f" && id=$(openstack image create --disk-format raw --container-format bare"
        f" --property strata=aio -f value -c id {name})"
        f' && curl -sf -X PUT -H "X-Auth-Token: $(openstack token issue -f value -c id)"'
        f" -H 'Content-Type: application/octet-stream' -H 'X-Image-Meta-Store: {store}'"
        f" --data-binary @{PROBE} http://{aio.vip}:9292/v2/images/$id/file"
        f" && openstack image show -f value -c stores $id"
        f" && openstack image save --file {PROBE}.back $id"
        f" && sha256sum < {PROBE}.back && sha256sum < {PROBE}"
        f" && openstack image delete $id",
        timeout=300,
    )
    stores, downloaded, original = out.splitlines()
    assert stores == store
    assert downloaded == original
