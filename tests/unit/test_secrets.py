"""strata.secrets: the declared list, value kinds, editing user_secrets.yml, vault, the CLI."""

import base64
import struct
import uuid

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from strata import ROOT, cli, secrets
from strata.errors import StrataError, ValidationError

ROLES = {
    "galera_server",
    "rabbitmq_server",
    "memcached_server",
    "haproxy_server",
    "keystone",
    "swift_common",
    "swift_proxy",
    "glance_api",
    "cinder",
    "placement",
    "nova",
    "nova_compute",
    "neutron_server",
    "ceph_client",
    "ceph_mon",
    "ceph_osd",
}

EXPECTED_NAMES = {
    "galera_sst_password",
    "galera_monitor_password",
    "keystone_galera_password",
    "glance_galera_password",
    "cinder_galera_password",
    "nova_galera_password",
    "nova_api_galera_password",
    "placement_galera_password",
    "rabbitmq_erlang_cookie",
    "glance_rabbitmq_password",
    "cinder_rabbitmq_password",
    "nova_rabbitmq_password",
    "keystone_admin_password",
    "glance_service_password",
    "cinder_service_password",
    "nova_service_password",
    "placement_service_password",
    "neutron_galera_password",
    "neutron_rabbitmq_password",
    "neutron_service_password",
    "swift_service_password",
    "swift_hash_path_prefix",
    "swift_hash_path_suffix",
    "haproxy_stats_password",
    "keepalived_vrrp_password",
    "memcached_secret_key",
    "ceph_fsid",
    "ceph_mon_keyring_key",
    "ceph_admin_keyring_key",
    "ceph_bootstrap_osd_keyring_key",
    "cinder_ceph_client_key",
    "cinder_backup_ceph_client_key",
    "glance_ceph_client_key",
    "cinder_ceph_client_uuid",
}

# client.admin's key as a real Ceph printed it in Ceph's own docs (`ceph auth ls`).
CEPH_DOCS_KEY = "AQBHCbtT6APDHhAA5W00cBchwkQjh3dkKsyPjw=="


# --- the declared list ---------------------------------------------------------------------


def test_the_declared_list_has_every_secret_once_with_known_kinds_and_roles():
    names = [secret.name for secret in secrets.SECRETS]
    assert len(names) == len(set(names))
    assert set(names) == EXPECTED_NAMES
    for secret in secrets.SECRETS:
        assert secret.kind in secrets.KINDS, secret.name
        assert secret.roles and set(secret.roles) <= ROLES, secret.name
        assert secret.description, secret.name


def test_the_operator_docs_list_every_secret():
    docs = (ROOT / "docs" / "secrets.md").read_text()
    for secret in secrets.SECRETS:
        assert f"| `{secret.name}` | {secret.kind}" in docs, secret.name
        used_by = next(
            line for line in docs.splitlines() if line.startswith(f"| `{secret.name}` |")
        )
        assert used_by.split(" | ")[2] == ", ".join(secret.roles), secret.name


def test_only_data_bound_secrets_are_fixed():
    fixed = {secret.name for secret in secrets.SECRETS if secret.fixed}
    assert fixed == {
        "swift_hash_path_prefix",
        "swift_hash_path_suffix",
        "ceph_fsid",
        "cinder_ceph_client_uuid",
    }


def test_secrets_for_roles_picks_what_those_roles_use():
    names = [secret.name for secret in secrets.secrets_for_roles(["haproxy_server"])]
    assert names == ["haproxy_stats_password", "keepalived_vrrp_password"]
    assert secrets.secrets_for_roles(["memcached_server", "not_a_role"]) == []
    swift = {secret.name for secret in secrets.secrets_for_roles(["swift_common"])}
    assert swift == {"swift_hash_path_prefix", "swift_hash_path_suffix"}


# --- kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(secrets.KINDS))
def test_every_kind_generates_distinct_values_its_own_check_accepts(kind):
    values = {secrets.KINDS[kind].generate() for _ in range(20)}
    assert len(values) == 20
    for value in values:
        assert secrets.KINDS[kind].problem(value) is None, value
        assert "'" not in value and "\n" not in value


def test_generated_forms():
    assert len(secrets.KINDS["password"].generate()) == 32
    assert secrets.KINDS["password"].generate().isalnum()
    vrrp = secrets.KINDS["vrrp_password"].generate()
    assert len(vrrp) == 8 and vrrp.isalnum()
    cookie = secrets.KINDS["erlang_cookie"].generate()
    assert len(cookie) >= 20 and cookie.isalpha() and cookie.isupper()
    assert uuid.UUID(secrets.KINDS["uuid"].generate()).version == 4
    int(secrets.KINDS["hash_salt"].generate(), 16)


def test_cephx_key_has_cephs_binary_layout():
    key = secrets.cephx_key(created=1404766535, secret=bytes(range(16)))
    raw = base64.b64decode(key)
    assert len(raw) == 28
    assert struct.unpack("<HIIH", raw[:12]) == (1, 1404766535, 0, 16)
    assert raw[12:] == bytes(range(16))
    # The same header as keys that Ceph itself made.
    assert key.startswith("AQ") and raw[:6] == base64.b64decode(CEPH_DOCS_KEY)[:6]


def test_cephx_key_check_accepts_cephs_own_keys_and_rejects_others():
    assert secrets.cephx_key_problem(CEPH_DOCS_KEY) is None
    assert secrets.cephx_key_problem("not base64!") == "is not base64"
    short = base64.b64encode(b"\x01\x00" + bytes(10)).decode()
    assert "12 bytes" in secrets.cephx_key_problem(short)
    wrong_type = base64.b64encode(struct.pack("<HIIH", 2, 0, 0, 16) + bytes(16)).decode()
    assert "type 2" in secrets.cephx_key_problem(wrong_type)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("vrrp_password", "123456789", "at most 8"),
        ("erlang_cookie", "SHORT", "at least 20"),
        ("erlang_cookie", "ABCDEFGHIJKLMNOPQRST-", "letters and digits"),
        ("uuid", "1234", "not a UUID"),
    ],
)
def test_kind_checks_name_the_problem(kind, value, expected):
    assert expected in secrets.KINDS[kind].problem(value)


def test_value_problem_covers_missing_empty_and_non_strings():
    secret = secrets.SECRETS_BY_NAME["galera_sst_password"]
    assert secrets.value_problem(secret, None) == "is missing"
    assert secrets.value_problem(secret, "  ") == "is empty"
    assert "not a string" in secrets.value_problem(secret, 12345)
    assert secrets.value_problem(secret, "x" * 16) is None
    # Issue 10: a 1-character password is refused (at least 16).
    assert secrets.value_problem(secret, "x") == "has 1 characters, at least 16 are needed"


def test_check_messages_name_file_key_and_rule_but_never_the_value():
    values = {name: secrets.KINDS[s.kind].generate() for name, s in secrets.SECRETS_BY_NAME.items()}
    values["keepalived_vrrp_password"] = "waytoolongsecret"
    values["ceph_fsid"] = ""
    del values["cinder_ceph_client_uuid"]
    problems = secrets.check(values)
    assert [secret.name for secret, _ in problems] == [
        "keepalived_vrrp_password",
        "ceph_fsid",
        "cinder_ceph_client_uuid",
    ]
    messages = secrets.describe_problems("/etc/strata/user_secrets.yml", problems)
    assert messages[0].startswith("/etc/strata/user_secrets.yml: keepalived_vrrp_password has 16")
    assert "4 to 8 characters" in messages[0]
    assert "waytoolongsecret" not in "\n".join(messages)


# --- editing the text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rest", "comment"),
    [
        ("", ""),
        ("   # fill me", "   # fill me"),
        (" value  # why", "  # why"),
        (" value#not-a-comment", ""),
        (""" 'it''s # not'  # real""", "  # real"),
        (""" "a \\" # b" # c""", " # c"),
        (" |", ""),
    ],
)
def test_trailing_comment(rest, comment):
    assert secrets.trailing_comment(rest) == comment


def test_set_values_keeps_comments_order_and_other_values():
    text = (
        "# operator notes\n"
        "galera_sst_password:   # fill me\n"
        "other: keep\n"
        "ceph_fsid: |\n"
        "  not\n"
        "\n"
        "  a uuid\n"
        "last: 1\n"
    )
    new = secrets.set_values(
        text,
        {"galera_sst_password": "abc", "ceph_fsid": "id", "fresh": "new"},
        {"fresh": "a new one"},
    )
    assert new == (
        "# operator notes\n"
        "galera_sst_password: 'abc'   # fill me\n"
        "other: keep\n"
        "ceph_fsid: 'id'\n"
        "last: 1\n"
        "\n"
        "# a new one\n"
        "fresh: 'new'\n"
    )


def test_set_values_on_empty_text_and_duplicate_keys():
    assert secrets.set_values("", {"a": "1"}) == "a: '1'\n"
    # YAML keeps the last of duplicate keys, so that is the one edited.
    assert secrets.set_values("a: x\na: y\n", {"a": "z"}) == "a: x\na: 'z'\n"


# --- generate ------------------------------------------------------------------------------


def read_values(path):
    return yaml.safe_load(path.read_text())


def test_generate_writes_a_complete_private_file(tmp_path):
    path = tmp_path / "user_secrets.yml"
    result = secrets.generate(path)
    assert sorted(result.added) == sorted(EXPECTED_NAMES)
    assert path.stat().st_mode & 0o777 == 0o600
    values = read_values(path)
    assert set(values) == EXPECTED_NAMES
    assert secrets.check(values) == []
    assert path.read_text().startswith("# Strata secrets")


def test_generate_again_changes_nothing(tmp_path):
    path = tmp_path / "user_secrets.yml"
    secrets.generate(path)
    before = path.read_bytes()
    path.chmod(0o644)
    result = secrets.generate(path)
    assert result.added == result.filled == result.regenerated == []
    assert path.read_bytes() == before
    assert path.stat().st_mode & 0o777 == 0o600


def test_generate_fills_in_empty_and_missing_and_keeps_the_rest(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text(
        "# my secrets\n"
        "keystone_admin_password: 'mine-chosen-by-me-1'  # chosen by me\n"
        "galera_sst_password:\n"
        "haproxy_stats_password: ''  # empty\n"
        "my_own_thing: 42\n"
    )
    result = secrets.generate(path)
    assert sorted(result.filled) == ["galera_sst_password", "haproxy_stats_password"]
    assert "keystone_admin_password" in result.kept
    text = path.read_text()
    assert text.startswith(
        "# my secrets\nkeystone_admin_password: 'mine-chosen-by-me-1'  # chosen by me\n"
        "galera_sst_password: '"
    )
    assert "' # empty\n" in text or "'  # empty\n" in text
    values = read_values(path)
    assert values["keystone_admin_password"] == "mine-chosen-by-me-1"
    assert values["my_own_thing"] == 42
    assert secrets.check(values) == []


def test_regen_replaces_exactly_one_value(tmp_path):
    path = tmp_path / "user_secrets.yml"
    secrets.generate(path)
    before = read_values(path)
    result = secrets.generate(path, regen=["nova_service_password"])
    after = read_values(path)
    assert result.regenerated == ["nova_service_password"]
    assert after["nova_service_password"] != before["nova_service_password"]
    del before["nova_service_password"], after["nova_service_password"]
    assert after == before


def test_regen_of_a_fixed_secret_needs_force(tmp_path):
    path = tmp_path / "user_secrets.yml"
    secrets.generate(path)
    fsid = read_values(path)["ceph_fsid"]
    with pytest.raises(ValidationError) as error:
        secrets.generate(path, regen=["ceph_fsid"])
    assert "--regen ceph_fsid" in error.value.problems[0] and "--force" in error.value.problems[0]
    assert read_values(path)["ceph_fsid"] == fsid
    secrets.generate(path, regen=["ceph_fsid"], force=True)
    assert read_values(path)["ceph_fsid"] != fsid


def test_regen_of_an_unknown_key_is_refused(tmp_path):
    with pytest.raises(ValidationError) as error:
        secrets.generate(tmp_path / "user_secrets.yml", regen=["nova_pasword"])
    assert error.value.problems[0].startswith("--regen nova_pasword: not a secret Strata declares")


def test_generate_refuses_a_file_it_cannot_edit_line_by_line(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text("{galera_sst_password: ''}\n")
    with pytest.raises(StrataError, match="could not edit the file safely"):
        secrets.generate(path)
    assert path.read_text() == "{galera_sst_password: ''}\n"


def test_generate_needs_an_existing_config_dir(tmp_path):
    with pytest.raises(StrataError, match="config dir .*missing does not exist"):
        secrets.generate(tmp_path / "missing" / "user_secrets.yml")


def test_a_file_that_is_not_a_mapping_is_reported_with_its_path(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text("- a\n- b\n")
    with pytest.raises(StrataError, match=f"{path}: expected a mapping"):
        secrets.read_secrets_file(path)


def test_a_yaml_error_says_where_but_does_not_echo_the_line(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_text("galera_sst_password: 'VerySecretValue\nnext: [\n")
    with pytest.raises(StrataError) as error:
        secrets.read_secrets_file(path)
    assert str(error.value).startswith(f"{path}: not valid YAML at line ")
    assert "VerySecretValue" not in str(error.value)


# --- ansible-vault -------------------------------------------------------------------------


@pytest.fixture
def vault_password_file(tmp_path):
    path = tmp_path / "vault-password"
    path.write_text("correct horse\n")
    return path


def vault(password="correct horse"):
    return VaultLib([("default", VaultSecret(password.encode()))])


def test_an_encrypted_file_stays_encrypted_and_keeps_its_values(tmp_path, vault_password_file):
    path = tmp_path / "user_secrets.yml"
    plain = "# mine\nkeystone_admin_password: 'mine-chosen-by-me-1'\n"
    path.write_bytes(vault().encrypt(plain))
    vault_secrets = secrets.load_vault_secrets([str(vault_password_file)])
    result = secrets.generate(path, vault_secrets=vault_secrets)
    assert "keystone_admin_password" in result.kept
    data = path.read_text()
    assert data.startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert "mine" not in data
    decrypted = vault().decrypt(data).decode()
    assert decrypted.startswith(plain)
    assert secrets.check(yaml.safe_load(decrypted)) == []
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_vault_id_in_the_header_is_kept(tmp_path, vault_password_file):
    path = tmp_path / "user_secrets.yml"
    path.write_bytes(vault().encrypt("a: b\n", vault_id="prod"))
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    secrets.generate(path, vault_secrets=secrets.load_vault_secrets([str(vault_password_file)]))
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert yaml.safe_load(vault().decrypt(path.read_text()))["a"] == "b"


def test_an_encrypted_file_without_a_password_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    path = tmp_path / "user_secrets.yml"
    path.write_bytes(vault().encrypt("a: b\n"))
    with pytest.raises(StrataError, match=f"{path} is encrypted with ansible-vault"):
        secrets.generate(path, vault_secrets=secrets.vault_secrets_from_environment())


def test_a_wrong_vault_password_is_reported(tmp_path):
    path = tmp_path / "user_secrets.yml"
    path.write_bytes(vault().encrypt("a: b\n"))
    wrong = secrets.load_vault_secrets(prompted_password="wrong")
    with pytest.raises(StrataError, match=f"{path}: cannot decrypt"):
        secrets.read_secrets_file(path, wrong)


def test_inline_vault_values_are_read(tmp_path):
    encrypted = vault().encrypt("s3cret").decode()
    indented = "\n".join("  " + line for line in encrypted.splitlines())
    path = tmp_path / "user_secrets.yml"
    path.write_text(f"haproxy_stats_password: !vault |\n{indented}\n")
    vault_secrets = secrets.load_vault_secrets(prompted_password="correct horse")
    assert secrets.read_secrets_file(path, vault_secrets).values == {
        "haproxy_stats_password": "s3cret"
    }


def test_vault_password_file_from_the_environment(monkeypatch, vault_password_file):
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(vault_password_file))
    [(vault_id, secret)] = secrets.vault_secrets_from_environment()
    assert vault_id == "default" and secret.bytes == b"correct horse"


def test_a_missing_vault_password_file_is_named(tmp_path):
    with pytest.raises(StrataError, match="vault password file .*nope"):
        secrets.load_vault_secrets([str(tmp_path / "nope")])


# --- config dir and the CLI ----------------------------------------------------------------


def test_config_dir_precedence(monkeypatch):
    monkeypatch.delenv("STRATA_CONFIG_DIR", raising=False)
    assert str(secrets.config_dir()) == "/etc/strata"
    monkeypatch.setenv("STRATA_CONFIG_DIR", "/srv/env")
    assert str(secrets.config_dir()) == "/srv/env"
    assert str(secrets.config_dir("/opt/option")) == "/opt/option"


def test_cli_generate_then_check(tmp_path, capsys):
    assert cli.main(["secrets", "check", "--config-dir", str(tmp_path)]) == 2
    errors = capsys.readouterr().err
    assert f"{tmp_path}/user_secrets.yml: galera_sst_password is missing" in errors
    assert "strata secrets generate" in errors

    assert cli.main(["secrets", "generate", "--config-dir", str(tmp_path)]) == 0
    assert "added: galera_sst_password" in capsys.readouterr().out
    assert cli.main(["secrets", "check", "--config-dir", str(tmp_path)]) == 0
    assert "all 34 secrets are set" in capsys.readouterr().out

    assert cli.main(["secrets", "generate", "--config-dir", str(tmp_path)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    args = [
        "secrets",
        "generate",
        "--config-dir",
        str(tmp_path),
        "--regen",
        "cinder_galera_password",
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "regenerated: cinder_galera_password" in out and "cinder" in out


def test_cli_with_a_vault_password_file(tmp_path, vault_password_file, monkeypatch, capsys):
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    path = tmp_path / "user_secrets.yml"
    path.write_bytes(vault().encrypt("a: b\n"))
    args = ["--config-dir", str(tmp_path)]
    assert cli.main(["secrets", "check", *args]) == 1
    assert "encrypted with ansible-vault" in capsys.readouterr().err
    args += ["--vault-password-file", str(vault_password_file)]
    assert cli.main(["secrets", "generate", *args]) == 0
    assert cli.main(["secrets", "check", *args]) == 0
    assert path.read_text().startswith("$ANSIBLE_VAULT")


def test_an_inline_vault_value_survives_generate(tmp_path, vault_password_file):
    # Review finding 28: the read-back check parsed the new text without the vault secrets.
    path = tmp_path / "user_secrets.yml"
    encrypted = vault().encrypt("mine-chosen-by-me-2").decode()
    indented = "\n".join("  " + line for line in encrypted.splitlines())
    path.write_text(f"keystone_admin_password: !vault |\n{indented}\n")
    vault_secrets = secrets.load_vault_secrets([str(vault_password_file)])
    result = secrets.generate(path, vault_secrets=vault_secrets)
    assert "keystone_admin_password" in result.kept
    values = secrets.read_secrets_file(path, vault_secrets).values
    assert values["keystone_admin_password"] == "mine-chosen-by-me-2"
    assert secrets.check(values) == []
