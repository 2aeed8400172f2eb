"""The external VIP's certificate over its life: renewed near its end and when its names change
(same CA, same key), an operator's certificate served as given, and bad certificate settings
refused before anything on the hosts changes. Each case runs the haproxy_server role alone
(tests/haproxy.yml) with other settings, then with the scenario's own again."""

import datetime
import ipaddress
import json
import os
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sw import EXTERNAL_VIP, HAPROXY, ansible_playbook, check, recap, wait_for

TLS_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "tls"
PLAYBOOK = str(Path(__file__).resolve().parent / "haproxy.yml")
BUNDLE_SUM = "md5sum /etc/haproxy/ssl/external.pem"


def haproxy(*args):
    """The haproxy_server role alone: (rc, output, {host: counts})."""
    proc = ansible_playbook(*args, PLAYBOOK)
    return proc.returncode, proc.stdout + proc.stderr, recap(proc.stdout)


def served():
    """The certificate HAProxy serves on the external VIP (read, not verified)."""
    pem = ssl.get_server_certificate((EXTERNAL_VIP, 5000), timeout=10)
    return x509.load_pem_x509_certificate(pem.encode())


def served_after(old):
    """The served certificate once it is no longer `old` (haproxy reloads in the background)."""
    return wait_for(lambda: (c := served()).serial_number != old.serial_number and c, 30, "reload")


def names(cert):
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(
        [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
        + sans.get_values_for_type(x509.DNSName)
    )


def files():
    return {p.name: p.read_bytes() for p in sorted(TLS_DIR.iterdir())}


def assert_converged_back():
    """The scenario's own settings again: Strata's certificate, and nothing left to change."""
    rc, out, _ = haproxy()
    assert rc == 0, out[-3000:]
    rc, out, counts = haproxy()
    assert rc == 0 and counts[HAPROXY[0]]["changed"] == 0, out[-3000:]
    assert names(served()) == [EXTERNAL_VIP]


def operator_certificate(directory, san_ip):
    """A certificate and key as an operator's own CA would issue them (PEM files)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.example.test")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator CA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "operator.crt", directory / "operator.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert, cert_file, key_file


@pytest.mark.drill  # a certificate rolled out and back: make test-full
def test_renewal_near_the_end_keeps_the_ca_and_the_key():
    before, kept = served(), files()
    rc, out, counts = haproxy("-e", "haproxy_server_tls_renew_days=400")
    assert rc == 0 and counts[HAPROXY[0]]["changed"] > 0, out[-3000:]
    renewed = served_after(before)
    assert renewed.issuer == before.issuer and names(renewed) == [EXTERNAL_VIP]
    assert renewed.not_valid_after_utc > before.not_valid_after_utc
    now = files()
    assert {k: v for k, v in now.items() if k != "external.crt"} == {
        k: v for k, v in kept.items() if k != "external.crt"
    }
    # Renewed, the certificate is not signed again on the next runs.
    rc, out, counts = haproxy()
    assert rc == 0 and counts[HAPROXY[0]]["changed"] == 0, out[-3000:]
    assert served().serial_number == renewed.serial_number


@pytest.mark.drill  # a certificate rolled out and back: make test-full
def test_new_names_are_signed_into_the_certificate():
    before = served()
    extra = json.dumps({"haproxy_server_tls_extra_names": ["api.strata.test", "172.29.236.38"]})
    rc, out, _ = haproxy("-e", extra)
    assert rc == 0, out[-3000:]
    assert names(served_after(before)) == sorted([EXTERNAL_VIP, "172.29.236.38", "api.strata.test"])
    assert_converged_back()


@pytest.mark.drill  # a certificate rolled out and back: make test-full
def test_an_operators_certificate_is_served_as_given(tmp_path):
    cert, cert_file, key_file = operator_certificate(tmp_path, EXTERNAL_VIP)
    before, kept = served(), files()
    rc, out, _ = haproxy(
        "-e", f"haproxy_server_tls_cert_file={cert_file}",
        "-e", f"haproxy_server_tls_key_file={key_file}",
    )  # fmt: skip
    assert rc == 0, out[-3000:]
    assert served_after(before).serial_number == cert.serial_number
    assert files() == kept
    assert_converged_back()


@pytest.mark.parametrize(
    "case, expected",
    [
        ("key only", "haproxy_server_tls_cert_file () and haproxy_server_tls_key_file"),
        ("wrong name", f"lacks the subjectAltName entries IP:{EXTERNAL_VIP}"),
        ("another key", "does not belong to the key"),
        ("lost CA key", "is there but its key"),
    ],
)
def test_bad_certificate_settings_are_refused_before_any_change(case, expected, tmp_path):
    bundle = check(HAPROXY[0], BUNDLE_SUM)
    san = "10.9.9.9" if case == "wrong name" else EXTERNAL_VIP
    _, cert_file, key_file = operator_certificate(tmp_path, san)
    args = {
        "key only": ["-e", f"haproxy_server_tls_key_file={key_file}"],
        "wrong name": ["-e", f"haproxy_server_tls_cert_file={cert_file}",
                       "-e", f"haproxy_server_tls_key_file={key_file}"],
        "another key": ["-e", f"haproxy_server_tls_cert_file={cert_file}",
                        "-e", f"haproxy_server_tls_key_file={TLS_DIR / 'external.key'}"],
        "lost CA key": [],
    }[case]  # fmt: skip
    ca_key = TLS_DIR / "strata-ca.key"
    if case == "lost CA key":
        ca_key.rename(tmp_path / "strata-ca.key")
    try:
        rc, out, _ = haproxy(*args)
    finally:
        if case == "lost CA key":
            (tmp_path / "strata-ca.key").rename(ca_key)
    text = " ".join(out.split())
    assert rc != 0 and expected in text, text[-3000:]
    assert check(HAPROXY[0], BUNDLE_SUM) == bundle
