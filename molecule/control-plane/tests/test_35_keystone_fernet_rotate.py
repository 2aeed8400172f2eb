"""playbooks/keystone-fernet-rotate.yml: new keys everywhere, tokens issued before still valid."""

from cp import KEYSTONE, address, ansible_playbook, check, recap


def key_sums(node):
    return check(node, "cd /etc/keystone/fernet-keys && sha256sum * | sort")


def test_rotation_distributes_new_keys_and_keeps_old_tokens_valid():
    before = key_sums(KEYSTONE[0])
    token = check(KEYSTONE[0], ". /root/openrc && openstack token issue -f value -c id").strip()

    result = ansible_playbook("playbooks/keystone-fernet-rotate.yml")
    assert result.returncode == 0, result.stdout[-4000:]
    assert all(c["failed"] == 0 for c in recap(result.stdout).values())

    after = {node: key_sums(node) for node in KEYSTONE}
    assert after[KEYSTONE[0]] != before
    assert all(s == after[KEYSTONE[0]] for s in after.values()), after
    # The token signed with the previous primary key still validates on every keystone host.
    for node in KEYSTONE:
        status = check(
            node,
            f". /root/openrc && curl -s -o /dev/null -w '%{{http_code}}' "
            f'-H "X-Auth-Token: $(openstack token issue -f value -c id)" '
            f"-H 'X-Subject-Token: {token}' http://{address(node)}:5000/v3/auth/tokens",
        )
        assert status == "200", f"{node}: old token rejected ({status})"
