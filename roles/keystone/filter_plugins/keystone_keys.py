"""Pure decisions of the keystone role about its fernet and credential keys.

Keys are precious: new fernet keys invalidate every token, and new credential keys make every
secret in keystone's credential table (EC2, TOTP) undecryptable for good. So keys are made only
when no keystone host and no deploy-host backup holds any; otherwise the one key set that exists
is copied everywhere, and two different sets stop the run until the operator picks one.
"""

KINDS = ("fernet-keys", "credential-keys")


def _key_set(find_result):
    """{file name: checksum} from one ansible.builtin.find result."""
    files = (find_result or {}).get("files") or []
    return {f["path"].rsplit("/", 1)[-1]: f.get("checksum", "") for f in files}


def _by_kind(results):
    """{kind: {name: checksum}} from a looped find (loop over KINDS); {} for a missing result."""
    out = {kind: {} for kind in KINDS}
    for result in (results or {}).get("results") or []:
        if result.get("item") in out:
            out[result["item"]] = _key_set(result)
    return out


def _describe(keys):
    return "{" + ", ".join(f"{n}:{c[:8]}" for n, c in sorted(keys.items())) + "}"


def kind_plan(kind, held, hosts, backup, named=""):
    """The plan for one key directory.

    held: {host: {name: checksum}} (hosts that did not report are missing), hosts: the keystone
    hosts in group order, backup: {name: checksum} on the deploy host, named: the host the
    operator says holds the keys to keep ('' for none).
    Returns {action: distribute|restore|generate|refuse, source: host or None, reason}.
    """
    if named:
        if named not in hosts:
            return {
                "action": "refuse",
                "source": None,
                "reason": f"keystone_key_source_host is {named!r}, which is not a keystone "
                f"host of this run (expected one of {', '.join(hosts)})",
            }
        if not held.get(named):
            return {
                "action": "refuse",
                "source": None,
                "reason": f"keystone_key_source_host {named} holds no {kind}",
            }
        return {
            "action": "distribute",
            "source": named,
            "reason": f"{kind} of {named} (named by the operator) copied to every host",
        }
    holders = [h for h in hosts if held.get(h)]
    if holders:
        sets = []
        for h in holders:
            if held[h] not in sets:
                sets.append(held[h])
        if len(sets) > 1:
            detail = "; ".join(f"{h}: {_describe(held[h])}" for h in holders)
            return {
                "action": "refuse",
                "source": None,
                "reason": f"the keystone hosts hold different {kind} ({detail}). Copying one "
                "set over the others would lose keys. Pick the host whose keys to keep "
                "(usually the one that rotated last) and run again with "
                "-e keystone_key_source_host=HOST (docs/roles/keystone.md)",
            }
        return {
            "action": "distribute",
            "source": holders[0],
            "reason": f"{kind} of {holders[0]} copied to the hosts that lack them",
        }
    if not hosts:
        return {"action": "distribute", "source": None, "reason": "no keystone host"}
    if backup:
        return {
            "action": "restore",
            "source": hosts[0],
            "reason": f"no keystone host holds {kind}: restored on {hosts[0]} from the deploy "
            "host's backup, then copied to every host",
        }
    return {
        "action": "generate",
        "source": hosts[0],
        "reason": f"no keystone host and no backup holds {kind}: made on {hosts[0]}",
    }


def key_plan(found, hosts, backup_results, named=""):
    """{kind: kind_plan} for both key directories.

    found: {host: registered looped find of the host's key directories}, backup_results: the
    same find on the deploy host's backup directory.
    """
    held = {kind: {} for kind in KINDS}
    for host in hosts:
        if found.get(host) is None:
            continue
        for kind, keys in _by_kind(found[host]).items():
            held[kind][host] = keys
    backup = _by_kind(backup_results)
    return {kind: kind_plan(kind, held[kind], hosts, backup[kind], named or "") for kind in KINDS}


class FilterModule:
    def filters(self):
        return {"keystone_key_plan": key_plan}
