"""Secrets: the declared list of every secret the roles use, and `user_secrets.yml` upkeep.

`user_secrets.yml` is a flat `key: value` file in the config dir. `generate` fills in what is
missing or empty and keeps everything else (values, comments, order) by editing lines, not by
re-dumping YAML. The file may be encrypted as a whole with ansible-vault; it stays encrypted.
"""

import base64
import os
import re
import secrets as random_source
import string
import struct
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from strata.config import config_dir_from as config_dir  # noqa: F401 (one lookup for all)
from strata.config import yaml_limits_problem
from strata.errors import StrataError, ValidationError

SECRETS_FILE_NAME = "user_secrets.yml"


# ---------------------------------------------------------------------------------------------
# Kinds of secret: how to make a strong value of the proper form, and how to tell a wrong one.
# ---------------------------------------------------------------------------------------------

ALPHANUMERIC = string.ascii_letters + string.digits

# CephX keys: base64 of Ceph's CryptoKey encoding (src/auth/Crypto.h, CryptoKey::encode):
# le16 type (CEPH_CRYPTO_AES = 1), utime_t created (le32 seconds, le32 nanoseconds),
# le16 secret length, then the secret itself (16 bytes for AES-128).
CEPHX_HEADER = struct.Struct("<HIIH")
CEPH_CRYPTO_AES = 1
CEPHX_SECRET_LENGTH = 16


def random_text(alphabet, length):
    return "".join(random_source.choice(alphabet) for _ in range(length))


def cephx_key(created=None, secret=None):
    """A new cephx key, as `ceph-authtool --gen-print-key` prints it."""
    created = int(time.time()) if created is None else created
    secret = random_source.token_bytes(CEPHX_SECRET_LENGTH) if secret is None else secret
    header = CEPHX_HEADER.pack(CEPH_CRYPTO_AES, created, 0, len(secret))
    return base64.b64encode(header + secret).decode("ascii")


def cephx_key_problem(value):
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return "is not base64"
    expected_size = CEPHX_HEADER.size + CEPHX_SECRET_LENGTH
    if len(raw) != expected_size:
        return f"decodes to {len(raw)} bytes, a cephx key has {expected_size}"
    key_type, _secs, _nsecs, length = CEPHX_HEADER.unpack_from(raw)
    if key_type != CEPH_CRYPTO_AES or length != CEPHX_SECRET_LENGTH:
        return f"has type {key_type} and length {length}, a cephx key has type 1 and length 16"
    return None


def uuid_problem(value):
    try:
        uuid.UUID(value)
    except ValueError:
        return "is not a UUID"
    return None


def length_problem(value, shortest, longest=None, alphabet=None, alphabet_name=""):
    if len(value) < shortest:
        return f"has {len(value)} characters, at least {shortest} are needed"
    if longest is not None and len(value) > longest:
        return f"has {len(value)} characters, at most {longest} are allowed"
    if alphabet is not None and any(character not in alphabet for character in value):
        return f"has characters other than {alphabet_name}"
    return None


@dataclass(frozen=True)
class Kind:
    name: str
    form: str  # what `generate` writes
    rule: str  # what an existing value must be

    def generate(self):
        return GENERATORS[self.name]()

    def problem(self, value):
        """What is wrong with an existing value, or None. `value` is a non-empty string."""
        return PROBLEMS[self.name](value)


GENERATORS = {
    "password": lambda: random_text(ALPHANUMERIC, 32),
    "vrrp_password": lambda: random_text(ALPHANUMERIC, 8),
    "erlang_cookie": lambda: random_text(string.ascii_uppercase, 32),
    "hash_salt": lambda: random_source.token_hex(32),
    "uuid": lambda: str(uuid.uuid4()),
    "cephx_key": cephx_key,
}

# Shortest values accepted from the operator. Passwords: 16 characters (a guessable password
# gives a database or the admin API away; strata-ansible masks values in its logs only from 4
# characters on). VRRP: its protocol limit is 8, so only 4 to 8.
MIN_PASSWORD_LENGTH = 16
MIN_VRRP_PASSWORD_LENGTH = 4
MIN_HASH_SALT_LENGTH = 16

PROBLEMS = {
    "password": lambda value: length_problem(value, MIN_PASSWORD_LENGTH),
    # keepalived uses only the first 8 characters of a VRRP PASS authentication string.
    "vrrp_password": lambda value: length_problem(value, MIN_VRRP_PASSWORD_LENGTH, 8),
    # RabbitMQ needs the cookie to be alphanumeric, up to 255 characters.
    "erlang_cookie": lambda value: length_problem(
        value, 20, 255, ALPHANUMERIC, "letters and digits"
    ),
    "hash_salt": lambda value: length_problem(value, MIN_HASH_SALT_LENGTH),
    "uuid": uuid_problem,
    "cephx_key": cephx_key_problem,
}

KINDS = {
    "password": Kind(
        "password", "32 random letters and digits", f"at least {MIN_PASSWORD_LENGTH} characters"
    ),
    "vrrp_password": Kind(
        "vrrp_password",
        "8 random letters and digits",
        f"{MIN_VRRP_PASSWORD_LENGTH} to 8 characters (VRRP's limit)",
    ),
    "erlang_cookie": Kind(
        "erlang_cookie", "32 random uppercase letters", "20 to 255 letters and digits"
    ),
    "hash_salt": Kind(
        "hash_salt", "64 random hex digits", f"at least {MIN_HASH_SALT_LENGTH} characters"
    ),
    "uuid": Kind("uuid", "a random UUID (version 4)", "a UUID"),
    "cephx_key": Kind(
        "cephx_key",
        "a new cephx key, as `ceph-authtool --gen-print-key` makes",
        "a cephx key: base64 of 28 bytes (type 1, created time, length 16, AES secret)",
    ),
}


# ---------------------------------------------------------------------------------------------
# The declared list: every secret, its kind, and the roles that use it.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    name: str
    kind: str
    roles: tuple
    description: str
    # A fixed secret must never change once the cloud is deployed (it is baked into data).
    fixed: bool = False


# Service roles not written yet: their secrets are declared ahead, under these names.
# tests/unit/test_secrets_roles.py checks every other declared role against the roles' files:
# a secret is declared for exactly the roles whose defaults, vars, tasks, templates or handlers
# name it (a role that asks another for something, e.g. keystone's `register`, is not listed:
# strata-ansible follows include_role to the role that reads the secret).
PLANNED_ROLES = ()

SECRETS = (
    # Galera
    Secret(
        "galera_sst_password", "password", ("galera_server",), "MariaDB user for mariabackup SST"
    ),
    Secret(
        "galera_monitor_password",
        "password",
        ("galera_server",),
        "MariaDB user of the wsrep health check haproxy reads",
    ),
    Secret("keystone_galera_password", "password", ("keystone",), "keystone database user"),
    Secret("glance_galera_password", "password", ("glance_api",), "glance database user"),
    Secret("cinder_galera_password", "password", ("cinder",), "cinder database user"),
    Secret("nova_galera_password", "password", ("nova",), "nova (and cell0) database user"),
    Secret("nova_api_galera_password", "password", ("nova",), "nova_api database user"),
    Secret("placement_galera_password", "password", ("placement",), "placement database user"),
    Secret("neutron_galera_password", "password", ("neutron_server",), "neutron database user"),
    # RabbitMQ
    Secret(
        "rabbitmq_erlang_cookie",
        "erlang_cookie",
        ("rabbitmq_server",),
        "Erlang cookie shared by the RabbitMQ cluster nodes",
    ),
    Secret("glance_rabbitmq_password", "password", ("glance_api",), "glance RabbitMQ user"),
    Secret("cinder_rabbitmq_password", "password", ("cinder",), "cinder RabbitMQ user"),
    Secret("nova_rabbitmq_password", "password", ("nova",), "nova RabbitMQ user"),
    Secret("neutron_rabbitmq_password", "password", ("neutron_server",), "neutron RabbitMQ user"),
    # Keystone
    Secret(
        "keystone_admin_password",
        "password",
        ("keystone", "cinder"),
        "keystone admin user (services register themselves through keystone's `register`;"
        " cinder creates its volume types as admin)",
    ),
    Secret("glance_service_password", "password", ("glance_api",), "glance keystone service user"),
    Secret("cinder_service_password", "password", ("cinder",), "cinder keystone service user"),
    Secret(
        "nova_service_password",
        "password",
        ("nova", "nova_compute"),
        "nova keystone service user (also its placement, neutron and glance calls)",
    ),
    Secret(
        "placement_service_password",
        "password",
        ("placement",),
        "placement keystone service user",
    ),
    Secret(
        "neutron_service_password",
        "password",
        ("neutron_server",),
        "neutron keystone service user (also its calls to nova)",
    ),
    Secret("swift_service_password", "password", ("swift_proxy",), "swift keystone service user"),
    # Swift
    Secret(
        "swift_hash_path_prefix",
        "hash_salt",
        ("swift_common",),
        "swift.conf swift_hash_path_prefix (object placement depends on it)",
        fixed=True,
    ),
    Secret(
        "swift_hash_path_suffix",
        "hash_salt",
        ("swift_common",),
        "swift.conf swift_hash_path_suffix (object placement depends on it)",
        fixed=True,
    ),
    # Load balancer, caches
    Secret("haproxy_stats_password", "password", ("haproxy_server",), "haproxy stats page user"),
    Secret(
        "keepalived_vrrp_password",
        "vrrp_password",
        ("haproxy_server",),
        "keepalived VRRP authentication (at most 8 characters)",
    ),
    Secret(
        "memcached_secret_key",
        "password",
        ("glance_api", "swift_proxy", "cinder", "placement", "nova", "neutron_server"),
        "keystonemiddleware memcache_secret_key (token cache encryption)",
    ),
    # Ceph
    Secret(
        "ceph_fsid",
        "uuid",
        ("ceph_client", "ceph_mon", "ceph_osd"),
        "Ceph cluster fsid (the cluster's identity)",
        fixed=True,
    ),
    Secret("ceph_mon_keyring_key", "cephx_key", ("ceph_mon",), "Ceph mon. key"),
    Secret(
        "ceph_admin_keyring_key", "cephx_key", ("ceph_client", "ceph_mon"), "Ceph client.admin key"
    ),
    Secret(
        "ceph_bootstrap_osd_keyring_key",
        "cephx_key",
        ("ceph_mon", "ceph_osd"),
        "Ceph client.bootstrap-osd key",
    ),
    Secret(
        "cinder_ceph_client_key",
        "cephx_key",
        ("ceph_client", "ceph_mon", "nova_compute"),
        "Ceph client.cinder key (nova attaches RBD volumes with it)",
    ),
    Secret(
        "cinder_backup_ceph_client_key",
        "cephx_key",
        ("ceph_client", "ceph_mon"),
        "Ceph client.cinder-backup key",
    ),
    Secret(
        "glance_ceph_client_key", "cephx_key", ("ceph_client", "ceph_mon"), "Ceph client.glance key"
    ),
    # Not secret, but generated and kept with the cluster's identity: the UUID of the libvirt
    # secret (on every compute) that holds client.cinder's key. nova's rbd disks use it, and
    # cinder's RBD backends name it (rbd_secret_uuid: "{{ cinder_ceph_client_uuid }}", as in
    # OpenStack-Ansible); attached volumes keep it in their connection info, so it never changes.
    Secret(
        "cinder_ceph_client_uuid",
        "uuid",
        ("nova_compute",),
        "UUID of the libvirt secret of client.cinder (nova's rbd disks, cinder's RBD backends)",
        fixed=True,
    ),
)

SECRETS_BY_NAME = {secret.name: secret for secret in SECRETS}


def secrets_for_roles(roles):
    """The declared secrets that any of `roles` uses, in declaration order."""
    roles = set(roles)
    return [secret for secret in SECRETS if roles.intersection(secret.roles)]


def is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip())


def value_problem(secret, value):
    """What is wrong with the value of `secret` (None: missing), or None when it is fine.

    Never includes the value itself: messages go to terminals and logs.
    """
    if is_empty(value):
        return "is missing" if value is None else "is empty"
    if not isinstance(value, str):
        return f"is a YAML {type(value).__name__}, not a string: quote it"
    return KINDS[secret.kind].problem(value)


# ---------------------------------------------------------------------------------------------
# Reading user_secrets.yml (plain or ansible-vault encrypted).
# ---------------------------------------------------------------------------------------------


class VaultPasswordNeeded(StrataError):
    pass


def load_vault_secrets(password_files=(), vault_ids=(), prompted_password=None):
    """ansible-vault secrets as VaultLib wants them: [(vault_id, VaultSecret)].

    `password_files` are paths (a file, or an executable script that prints the password);
    `vault_ids` are `--vault-id` values (`label@file`); `prompted_password` is a password read
    from the terminal.
    """
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret, get_file_vault_secret

    loaded = []
    if prompted_password is not None:
        loaded.append(("default", VaultSecret(prompted_password.encode())))
    sources = [("default", path) for path in password_files]
    for vault_id in vault_ids:
        label, _, source = vault_id.rpartition("@")
        if source != "prompt":
            sources.append((label or "default", source))
    loader = DataLoader()
    for label, path in sources:
        try:
            vault_secret = get_file_vault_secret(filename=path, vault_id=label, loader=loader)
            vault_secret.load()
        except AnsibleError as exc:
            raise StrataError(f"vault password file {path}: {exc.message}") from exc
        loaded.append((label, vault_secret))
    return loaded


def vault_secrets_from_environment(password_files=(), vault_ids=(), prompted_password=None):
    """Like load_vault_secrets, adding $ANSIBLE_VAULT_PASSWORD_FILE as ansible-playbook does."""
    password_files = list(password_files)
    from_environment = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if from_environment and from_environment not in password_files:
        password_files.append(from_environment)
    return load_vault_secrets(password_files, vault_ids, prompted_password)


def is_vault_encrypted(data):
    return data.lstrip().startswith("$ANSIBLE_VAULT;")


def decrypt(path, data, vault_secrets):
    """Plain text of vault-encrypted `data`, the vault id its header names, the secret that
    opened it."""
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, parse_vaulttext_envelope

    if not vault_secrets:
        raise VaultPasswordNeeded(
            f"{path} is encrypted with ansible-vault: give the vault password with "
            "--vault-password-file FILE or ANSIBLE_VAULT_PASSWORD_FILE"
        )
    try:
        plain, _, vault_secret = VaultLib(vault_secrets).decrypt_and_get_vault_id(data)
        # "default" when the header names none; encrypting with it writes no name again.
        vault_id = parse_vaulttext_envelope(data.encode("utf-8"))[3]
    except AnsibleError as exc:
        raise StrataError(f"{path}: cannot decrypt: {exc.message}") from exc
    return plain.decode("utf-8"), vault_id, vault_secret


class _SecretsLoader(yaml.SafeLoader):
    """A safe YAML loader that also opens `!vault` inline values and keeps `!unsafe` text."""

    def __init__(self, stream, path, vault_secrets):
        super().__init__(stream)
        self.path = path
        self.vault_secrets = vault_secrets


def _construct_vault(loader, node):
    return decrypt(loader.path, loader.construct_scalar(node), loader.vault_secrets)[0]


_SecretsLoader.add_constructor("!vault", _construct_vault)
_SecretsLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def yaml_error_place(exc):
    """Where and what a YAML error is, without the snippet of text (it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None)
    return f"{place}: {problem}" if problem else place


def parse_flat_yaml(path, text, vault_secrets=None):
    """The top-level mapping of a user_*.yml text ({} when empty)."""
    too_much = yaml_limits_problem(text)
    if too_much is not None:
        raise StrataError(f"{path}: {too_much}")
    loader = _SecretsLoader(text, path, vault_secrets)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise StrataError(f"{path}: not valid YAML{yaml_error_place(exc)}") from None
    except RecursionError:
        raise StrataError(f"{path}: nested too deep; expected flat `key: value` lines") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StrataError(
            f"{path}: expected a mapping of `name: value` at the top level, "
            f"found a {type(data).__name__}"
        )
    return data


@dataclass
class SecretsFile:
    """A user_secrets.yml as read: its plain text, values, and how it was encrypted."""

    path: Path
    text: str
    values: dict
    vault_id: str = None
    vault_secret: object = None  # None: the file is plain text
    exists: bool = True


def read_secrets_file(path, vault_secrets=None):
    path = Path(path)
    if not path.exists():
        return SecretsFile(path=path, text="", values={}, exists=False)
    try:
        data = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StrataError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected a YAML file of "
            "`name: value` lines (or one ansible-vault encrypted)"
        ) from None
    except OSError as exc:
        raise StrataError(
            f"{path}: cannot read: {exc.strerror}; expected a readable file of `name: value` lines"
        ) from None
    vault_id = vault_secret = None
    if is_vault_encrypted(data):
        data, vault_id, vault_secret = decrypt(path, data, vault_secrets)
    values = parse_flat_yaml(path, data, vault_secrets)
    return SecretsFile(path, data, values, vault_id, vault_secret)


# ---------------------------------------------------------------------------------------------
# Editing the text: fill in and replace values line by line, keeping everything else.
# ---------------------------------------------------------------------------------------------

KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?P<rest>.*)$")
# What follows `key:` when the value is quoted: the value, then an optional comment.
QUOTED_VALUE = re.compile(r"""^\s*('(?:[^']|'')*'|"(?:[^"\\]|\\.)*")(?P<comment>\s+#.*)?\s*$""")
# In a plain (unquoted) value a comment starts at the first `#` that follows whitespace.
PLAIN_COMMENT = re.compile(r"\s+#.*$")


def trailing_comment(rest):
    """The comment after a value on a `key: value  # comment` line, with its leading space."""
    quoted = QUOTED_VALUE.match(rest)
    if quoted:
        return quoted.group("comment") or ""
    plain = PLAIN_COMMENT.search(rest)
    return plain.group(0) if plain else ""


def key_line_numbers(lines):
    """{key: index of its last top-level line} (YAML keeps the last of duplicate keys)."""
    found = {}
    for number, line in enumerate(lines):
        match = KEY_LINE.match(line)
        if match:
            found[match.group("key")] = number
    return found


def continuation_end(lines, start):
    """Index after the last line that belongs to the value that starts at `start`."""
    end = start + 1
    scan = start + 1
    while scan < len(lines) and (not lines[scan].strip() or lines[scan][:1] in " \t"):
        if lines[scan].strip():
            end = scan + 1
        scan += 1
    return end


def set_values(text, new_values, descriptions=None):
    """`text` with each key of `new_values` set to its value, single-quoted.

    A key that has a line keeps its place and its trailing comment (a multi-line value is
    replaced whole); a new key is appended, after a comment line from `descriptions`.
    """
    descriptions = descriptions or {}
    lines = text.splitlines()
    positions = key_line_numbers(lines)
    appended = []
    # Edit from the bottom up so that earlier line numbers stay right.
    for key in sorted(new_values, key=lambda name: -positions.get(name, -1)):
        quoted = quote(new_values[key])
        if key in positions:
            start = positions[key]
            rest = KEY_LINE.match(lines[start]).group("rest")
            end = continuation_end(lines, start)
            lines[start:end] = [f"{key}: {quoted}{trailing_comment(rest)}"]
    for key in new_values:
        if key not in positions:
            if key in descriptions:
                appended.append(f"# {descriptions[key]}")
            appended.append(f"{key}: {quote(new_values[key])}")
    if appended and lines and lines[-1].strip():
        lines.append("")
    return "\n".join(lines + appended) + "\n"


def quote(value):
    if "'" in value or "\n" in value:
        raise ValueError("generated values never hold quotes or newlines")
    return f"'{value}'"


# ---------------------------------------------------------------------------------------------
# generate and check
# ---------------------------------------------------------------------------------------------

FILE_HEADER = """\
# Strata secrets: passwords and keys the roles use.
# Written by `strata secrets generate`, which fills in missing or empty values and keeps the
# rest. Keep this file private (mode 0600); `ansible-vault encrypt` it if you like: Strata
# keeps it encrypted.
"""


@dataclass
class GenerateResult:
    path: Path
    added: list
    filled: list
    regenerated: list
    kept: list


def plan_new_values(values, regen=(), force=False, secrets=SECRETS):
    """{name: new value} for every declared secret that is missing, empty, or in `regen`."""
    known = {secret.name: secret for secret in secrets}
    problems = []
    for name in regen:
        if name not in known:
            problems.append(
                f"--regen {name}: not a secret Strata declares; known: {', '.join(sorted(known))}"
            )
        elif known[name].fixed and not force and not is_empty(values.get(name)):
            problems.append(
                f"--regen {name}: {known[name].description}; changing it on a deployed cloud "
                "loses data or cluster identity. Add --force if the cloud is not deployed yet"
            )
    if problems:
        raise ValidationError(problems)
    return {
        secret.name: KINDS[secret.kind].generate()
        for secret in secrets
        if secret.name in regen or is_empty(values.get(secret.name))
    }


def generate(path, regen=(), force=False, vault_secrets=None):
    """Fill in `path` (user_secrets.yml): see the module docstring. Returns a GenerateResult."""
    path = Path(path)
    if not path.parent.is_dir():
        raise StrataError(
            f"config dir {path.parent} does not exist: create it (with strata_user_config.yml) "
            "or point STRATA_CONFIG_DIR / --config-dir at yours"
        )
    current = read_secrets_file(path, vault_secrets)
    new_values = plan_new_values(current.values, regen, force)
    text = current.text if current.exists else FILE_HEADER
    new_text = set_values(text, new_values, {s.name: s.description for s in SECRETS})

    # The edit is line-oriented: prove it changed exactly what it should.
    try:
        result = parse_flat_yaml(path, new_text, vault_secrets)
    except StrataError:
        result = None
    expected = {**current.values, **new_values}
    if result != expected:
        raise StrataError(
            f"{path}: could not edit the file safely: write it as flat `key: value` lines, "
            "one secret per line"
        )

    if new_values:
        data = new_text
        if current.vault_secret is not None:
            from ansible.parsing.vault import VaultLib

            data = (
                VaultLib()
                .encrypt(new_text, secret=current.vault_secret, vault_id=current.vault_id)
                .decode("ascii")
            )
        write_private_file(path, data)
    else:
        ensure_private_mode(path)
    return GenerateResult(
        path=path,
        added=[name for name in new_values if name not in current.values],
        filled=[name for name in new_values if name in current.values and name not in regen],
        regenerated=[name for name in new_values if name in current.values and name in regen],
        kept=[s.name for s in SECRETS if s.name not in new_values],
    )


def write_private_file(path, data):
    """Write `data` to `path` atomically, mode 0600."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def ensure_private_mode(path):
    if path.exists() and path.stat().st_mode & 0o777 != 0o600:
        path.chmod(0o600)


def check(values, secrets=SECRETS):
    """[(secret, problem)] for each declared secret whose value is missing, empty or malformed."""
    found = []
    for secret in secrets:
        problem = value_problem(secret, values.get(secret.name))
        if problem:
            found.append((secret, problem))
    return found


def describe_problems(path, problems):
    return [
        f"{path}: {secret.name} {problem} (expected {KINDS[secret.kind].rule}; "
        f"used by {', '.join(secret.roles)})"
        for secret, problem in problems
    ]
