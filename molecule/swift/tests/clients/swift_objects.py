"""Test client, run on a lab host: writes or reads numbered objects through the VIP with
python-swiftclient and a keystone token (the object-store endpoint from the catalog).

Object N of a run has a content derived from its name (1-48 KiB), so a read checks every byte.
Prints a JSON report: the account, the objects written (or read back intact), and the errors.
"""

import argparse
import hashlib
import json

from swiftclient import client


def content(name):
    size = 1024 * (1 + int(hashlib.md5(name.encode()).hexdigest(), 16) % 48)
    block = hashlib.sha256(name.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["put", "get"])
    for name in ("auth-url", "user", "password", "project", "container", "prefix"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()

    conn = client.Connection(
        authurl=args.auth_url,
        user=args.user,
        key=args.password,
        auth_version="3",
        os_options={
            "project_name": args.project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "endpoint_type": "internalURL",
        },
        retries=2,
    )
    url, _token = conn.get_auth()
    done, errors = [], {}
    if args.action == "put":
        conn.put_container(args.container)
    for n in range(args.count):
        name = f"{args.prefix}-{n:04d}"
        body = content(name)
        try:
            if args.action == "put":
                etag = conn.put_object(args.container, name, body)
                if etag != hashlib.md5(body).hexdigest():
                    raise ValueError(f"etag {etag}")
            else:
                _headers, got = conn.get_object(args.container, name)
                if got != body:
                    raise ValueError(f"content differs ({len(got)} bytes, {len(body)} expected)")
            done.append(name)
        except Exception as exc:  # noqa: BLE001 - the report lists every failure
            errors[name] = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"storage_url": url, "done": done, "errors": errors}))


if __name__ == "__main__":
    main()
