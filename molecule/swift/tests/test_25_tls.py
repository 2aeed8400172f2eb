"""TLS on the external VIP: HAProxy serves keystone and swift there over HTTPS only, with a
certificate Strata's CA signed on the deploy host, and real clients that trust that CA work."""

import base64
import json
import os
import socket
import ssl
import stat
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sw import EXTERNAL_VIP, HAPROXY, PROXIES, VIP, check, hostvars, put_file, run

TLS_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "tls"
CA = TLS_DIR / "strata-ca.crt"
CA_ON_HOST = "/tmp/strata-test/strata-ca.crt"
AUTH_URL = f"https://{EXTERNAL_VIP}:5000/v3"
# The keystone host has the openstack CLI; a proxy has the swift CLI.
OPENSTACK_HOST = HAPROXY[0]
SWIFT_HOST = PROXIES[0]


def credentials():
    return {
        "OS_AUTH_URL": AUTH_URL,
        "OS_USERNAME": "admin",
        "OS_PASSWORD": hostvars(OPENSTACK_HOST)["keystone_admin_password"],
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_INTERFACE": "public",
    }


def openstack(args, cacert=CA_ON_HOST):
    env = {**credentials(), **({"OS_CACERT": cacert} if cacert else {})}
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    return run(OPENSTACK_HOST, f"env {exports} openstack {args}")


@pytest.fixture(scope="module", autouse=True)
def ca_on_the_clients():
    for name in (OPENSTACK_HOST, SWIFT_HOST):
        put_file(name, CA, CA_ON_HOST)


def tls_context():
    return ssl.create_default_context(cafile=str(CA))


def test_the_ca_key_stays_private_on_the_deploy_host():
    assert stat.S_IMODE(TLS_DIR.stat().st_mode) == 0o700
    for key in ("strata-ca.key", "external.key"):
        assert stat.S_IMODE((TLS_DIR / key).stat().st_mode) == 0o600, key
    for name in HAPROXY:
        assert check(name, "ls /etc/haproxy/ssl") == "external.pem\n"
        mode = check(name, "stat -c '%a %U %G' /etc/haproxy/ssl/external.pem")
        assert mode == "640 root haproxy\n"
        # The one key in the bundle is the certificate's: the CA key never leaves the deploy host.
        bundle_keys = check(name, "grep -c 'BEGIN .*PRIVATE KEY' /etc/haproxy/ssl/external.pem")
        assert bundle_keys == "1\n"
        public = check(name, "openssl pkey -in /etc/haproxy/ssl/external.pem -pubout")
        key = serialization.load_pem_private_key((TLS_DIR / "external.key").read_bytes(), None)
        assert public.encode() == key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.mark.parametrize("port", [5000, 8080])
def test_the_served_certificate_is_for_the_external_vip_and_verifies(port):
    with (
        socket.create_connection((EXTERNAL_VIP, port), timeout=10) as raw,
        tls_context().wrap_socket(raw, server_hostname=EXTERNAL_VIP) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        version = tls.version()
        cipher = tls.cipher()[0]
    cert = x509.load_der_x509_certificate(der)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == [EXTERNAL_VIP]
    assert sans.get_values_for_type(x509.DNSName) == []
    ca = x509.load_pem_x509_certificate(CA.read_bytes())
    assert cert.issuer == ca.subject
    assert version in ("TLSv1.2", "TLSv1.3")
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher


def test_weak_tls12_ciphers_are_refused():
    context = tls_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA")
    except ssl.SSLError:
        pytest.skip("this machine's OpenSSL does not offer CBC ciphers at all")
    with (
        socket.create_connection((EXTERNAL_VIP, 5000), timeout=10) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname=EXTERNAL_VIP)


@pytest.mark.parametrize("port", [5000, 8080])
def test_plain_http_on_the_external_vip_serves_nothing(port):
    with socket.create_connection((EXTERNAL_VIP, port), timeout=10) as raw:
        raw.sendall(f"GET / HTTP/1.0\r\nHost: {EXTERNAL_VIP}\r\n\r\n".encode())
        raw.settimeout(10)
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert not answer.startswith(b"HTTP/"), answer[:300]
    # Nor anything on the usual HTTP port.
    with pytest.raises(OSError):
        socket.create_connection((EXTERNAL_VIP, 80), timeout=5).close()


def test_the_internal_vip_stays_plain_http():
    assert check(HAPROXY[0], f"curl -s http://{VIP}:8080/healthcheck") == "OK"


def test_keystone_links_through_the_external_vip_say_https():
    with urllib.request.urlopen(AUTH_URL, context=tls_context(), timeout=20) as answer:
        version = json.load(answer)["version"]
    assert [link["href"] for link in version["links"]] == [f"{AUTH_URL}/"]


def test_openstack_token_issue_over_https_with_the_ca():
    result = openstack("token issue -f value -c id")
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith("gAAAAA")


def test_openstack_without_the_ca_refuses_the_certificate():
    result = openstack("token issue -f value -c id", cacert=None)
    assert result.rc != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr or "SSL" in result.stderr, result.stderr


def test_every_public_endpoint_in_the_catalog_is_https():
    result = openstack("endpoint list --interface public -f value -c 'Service Type' -c URL")
    assert result.rc == 0, result.stderr
    urls = dict(line.split() for line in result.stdout.splitlines())
    assert urls == {
        "identity": f"https://{EXTERNAL_VIP}:5000/v3",
        "object-store": f"https://{EXTERNAL_VIP}:8080/v1/AUTH_%(project_id)s",
    }


def test_swift_round_trips_an_object_through_the_https_public_endpoint():
    env = credentials()
    swift = (
        f"swift --os-auth-url {AUTH_URL} --auth-version 3 --os-username admin"
        f" --os-password '{env['OS_PASSWORD']}' --os-project-name admin"
        " --os-user-domain-name Default --os-project-domain-name Default"
        f" --os-endpoint-type publicURL --os-cacert {CA_ON_HOST}"
    )
    out = check(
        SWIFT_HOST,
        f"{swift} auth | grep OS_STORAGE_URL"
        " && head -c 100000 /dev/urandom > /tmp/strata-test/tls-probe"
        f" && {swift} upload --object-name probe strata-tls /tmp/strata-test/tls-probe >/dev/null"
        f" && {swift} download strata-tls probe -o - | sha256sum"
        " && sha256sum < /tmp/strata-test/tls-probe"
        f" && {swift} delete strata-tls >/dev/null",
    )
    storage_url, downloaded, original = out.splitlines()
    assert f"=https://{EXTERNAL_VIP}:8080/v1/AUTH_" in storage_url
    assert downloaded == original


def test_the_admin_openrc_works_for_the_swift_cli_without_the_ca():
    # /root/openrc uses the internal endpoints (plain HTTP on the internal VIP), the swift CLI's
    # included: it needs no CA.
    openrc = check(OPENSTACK_HOST, "cat /root/openrc")
    put = base64.b64encode(openrc.encode()).decode()
    check(SWIFT_HOST, f"echo {put} | base64 -d > /tmp/strata-test/openrc")
    out = check(SWIFT_HOST, ". /tmp/strata-test/openrc && swift auth && swift stat >/dev/null")
    check(SWIFT_HOST, "rm /tmp/strata-test/openrc")
    assert f"OS_STORAGE_URL=http://{VIP}:8080/v1/AUTH_" in out
