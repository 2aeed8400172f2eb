"""Swift in the all-in-one lab cloud: an object stored through the VIP with a keystone token."""

import pytest

pytestmark = pytest.mark.lab

PROBE = "/tmp/strata-aio-probe"


def test_object_store_endpoints_are_on_the_vips(aio):
    assert aio.endpoint_urls("object-store") == {
        "internal": f"http://{aio.vip}:8080/v1/AUTH_%(project_id)s",
        "public": f"https://{aio.external_vip}:8080/v1/AUTH_%(project_id)s",
        "admin": f"http://{aio.vip}:8080/v1",
    }


def test_an_object_round_trips_through_the_vip(aio):
    host = aio.hosts("swift_proxy")[0]
    out = aio.check(
        host,
        f". /root/openrc && head -c 200000 /dev/urandom > {PROBE}"
        f" && swift upload --object-name probe strata-aio {PROBE} >/dev/null"
        f" && swift download strata-aio probe -o - | sha256sum && sha256sum < {PROBE}"
        " && swift delete strata-aio >/dev/null",
    )
    downloaded, original = out.splitlines()
    assert downloaded == original


def test_an_object_round_trips_through_the_https_public_endpoint(aio):
    host = aio.hosts("swift_proxy")[0]
    ca = aio.put_ca(host)
    public = (
        f". /root/openrc && export OS_AUTH_URL=https://{aio.external_vip}:5000/v3"
        f" OS_INTERFACE=public OS_CACERT={ca} && swift --os-endpoint-type publicURL"
    )
    out = aio.check(
        host,
        f"head -c 100000 /dev/urandom > {PROBE}"
        f" && {public} upload --object-name probe strata-aio-tls {PROBE} >/dev/null"
        f" && {public} download strata-aio-tls probe -o - | sha256sum && sha256sum < {PROBE}"
        f" && {public} delete strata-aio-tls >/dev/null",
    )
    downloaded, original = out.splitlines()
    assert downloaded == original


def test_every_swift_host_holds_the_same_rings(aio):
    sums = {
        host: aio.check(host, "cd /etc/swift && md5sum *.ring.gz")
        for host in sorted(set(aio.hosts("swift_proxy") + aio.hosts("swift_storage")))
    }
    first = next(iter(sums.values()))
    assert len(first.splitlines()) >= 3
    assert all(s == first for s in sums.values()), sums
