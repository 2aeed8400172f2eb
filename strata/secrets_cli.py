"""`strata secrets generate|check`: keep user_secrets.yml complete."""

from strata import secrets
from strata.errors import ValidationError


def register(subparsers):
    parser = subparsers.add_parser(
        "secrets",
        help="generate and check the secrets in user_secrets.yml",
        description=__doc__,
    )
    commands = parser.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)

    generate = commands.add_parser(
        "generate",
        help="write every missing or empty secret into user_secrets.yml",
        description="Write a strong random value for every declared secret that is missing or "
        "empty in user_secrets.yml; keep existing values and comments. The file is written "
        "with mode 0600 and stays ansible-vault encrypted if it was.",
    )
    generate.add_argument(
        "--regen",
        action="append",
        default=[],
        metavar="KEY",
        help="replace this secret with a new value (repeatable)",
    )
    generate.add_argument(
        "--force",
        action="store_true",
        help="allow --regen of a secret that must never change on a deployed cloud "
        "(swift hash prefix/suffix, ceph fsid)",
    )
    add_common_options(generate)
    generate.set_defaults(func=run_generate)

    check = commands.add_parser(
        "check",
        help="list secrets that are missing, empty or malformed",
        description="List every declared secret that is missing, empty or not of its proper "
        "form in user_secrets.yml. Exit status 0 when all are fine, 2 otherwise.",
    )
    add_common_options(check)
    check.set_defaults(func=run_check)


def add_common_options(parser):
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="config dir (default: $STRATA_CONFIG_DIR or /etc/strata)",
    )
    parser.add_argument(
        "--vault-password-file",
        action="append",
        default=[],
        metavar="FILE",
        help="ansible-vault password file or script, for an encrypted user_secrets.yml "
        "(default: $ANSIBLE_VAULT_PASSWORD_FILE)",
    )


def secrets_path(args):
    return secrets.config_dir(args.config_dir) / secrets.SECRETS_FILE_NAME


def vault_secrets(args):
    return secrets.vault_secrets_from_environment(args.vault_password_file)


def run_generate(args):
    result = secrets.generate(
        secrets_path(args), regen=args.regen, force=args.force, vault_secrets=vault_secrets(args)
    )
    for label, names in (
        ("added", result.added),
        ("filled in (were empty)", result.filled),
        ("regenerated", result.regenerated),
    ):
        if names:
            print(f"{result.path}: {label}: {', '.join(names)}")
    if result.regenerated:
        roles = sorted(
            {role for name in result.regenerated for role in secrets.SECRETS_BY_NAME[name].roles}
        )
        print(
            f"run the playbooks that apply these roles to roll the change out: {', '.join(roles)}"
        )
    if not (result.added or result.filled or result.regenerated):
        print(f"{result.path}: all {len(result.kept)} secrets already set; nothing changed")
    return 0


def run_check(args):
    path = secrets_path(args)
    current = secrets.read_secrets_file(path, vault_secrets(args))
    problems = secrets.check(current.values)
    if problems:
        messages = secrets.describe_problems(path, problems)
        messages.append("run `strata secrets generate` to fill in missing and empty ones")
        raise ValidationError(messages)
    print(f"{path}: all {len(secrets.SECRETS)} secrets are set and well-formed")
    return 0
