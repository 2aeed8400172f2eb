"""Numbered objects through librados (python3-rados): put or get, one JSON report.

Each object's content is derived from its name, so a read proves the very bytes written.
Usage: rados_objects.py put|get --pool P --prefix X --count N [--id NAME]
"""

import argparse
import hashlib
import json

import rados


def payload(name):
    return (hashlib.sha256(name.encode()).hexdigest() * 64).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["put", "get"])
    parser.add_argument("--pool", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--id", default="admin")
    args = parser.parse_args()
    done, errors = [], {}
    with rados.Rados(conffile="/etc/ceph/ceph.conf", rados_id=args.id) as cluster:
        ioctx = cluster.open_ioctx(args.pool)
        for number in range(args.count):
            name = f"{args.prefix}-{number:04d}"
            try:
                if args.action == "put":
                    ioctx.write_full(name, payload(name))
                elif ioctx.read(name, length=1 << 20) != payload(name):
                    raise ValueError("content differs")
                done.append(name)
            except (rados.Error, ValueError) as exc:
                errors[name] = str(exc)
        ioctx.close()
    print(json.dumps({"done": done, "errors": errors}))


if __name__ == "__main__":
    main()
