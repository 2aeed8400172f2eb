"""The external VIP on three load balancers: HTTPS only, with the certificate of Strata's CA on
every haproxy host (whichever holds the VIP), and real clients that trust the CA."""

import base64
import os
import socket
import ssl
from pathlib import Path

import pytest
from cp import EXTERNAL_VIP, HAPROXY, KEYSTONE, check, run
from cryptography import x509

CA = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "tls" / "strata-ca.crt"
CA_ON_HOST = "/tmp/strata-test/strata-ca.crt"
PUBLIC = f". /root/openrc && export OS_AUTH_URL=https://{EXTERNAL_VIP}:5000/v3 OS_INTERFACE=public"


@pytest.fixture(scope="module", autouse=True)
def ca_on_the_clients():
    payload = base64.b64encode(CA.read_bytes()).decode()
    for node in KEYSTONE:
        check(node, f"mkdir -p /tmp/strata-test && echo {payload} | base64 -d > {CA_ON_HOST}")


def test_every_load_balancer_has_the_same_bundle():
    sums = {n: check(n, "md5sum < /etc/haproxy/ssl/external.pem") for n in HAPROXY}
    assert len(set(sums.values())) == 1, sums
    for node in HAPROXY:
        assert check(node, "stat -c '%a %U %G' /etc/haproxy/ssl/external.pem") == (
            "640 root haproxy\n"
        )


@pytest.mark.parametrize("port", [5000, 5999])
def test_the_external_vip_serves_the_cas_certificate_for_its_address(port):
    context = ssl.create_default_context(cafile=str(CA))
    with (
        socket.create_connection((EXTERNAL_VIP, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=EXTERNAL_VIP) as tls,
    ):
        cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == [EXTERNAL_VIP]


@pytest.mark.parametrize("node", KEYSTONE)
def test_token_issue_over_https_with_the_ca(node):
    token = check(node, f"{PUBLIC} OS_CACERT={CA_ON_HOST} && openstack token issue -f value -c id")
    assert token.startswith("gAAAAA")


def test_without_the_ca_the_certificate_is_refused():
    result = run(KEYSTONE[0], f"{PUBLIC} && openstack token issue -f value -c id")
    assert result.rc != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr or "SSL" in result.stderr, result.stderr


def test_every_public_endpoint_is_https_on_the_external_vip():
    out = check(
        KEYSTONE[0],
        f"{PUBLIC} OS_CACERT={CA_ON_HOST} && openstack endpoint list --interface public"
        " -f value -c URL",
    )
    assert sorted(out.split()) == [
        f"https://{EXTERNAL_VIP}:5000/v3",
        f"https://{EXTERNAL_VIP}:5999",
    ]


@pytest.mark.parametrize("port", [5000, 5999])
def test_plain_http_on_the_external_vip_serves_nothing(port):
    answer = run(
        KEYSTONE[0],
        f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{EXTERNAL_VIP}:{port}/v3",
    )
    assert answer.stdout in ("000", ""), answer.stdout
