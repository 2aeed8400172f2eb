#!/usr/bin/python3
"""Check or make a directory of a CephFS file system through libcephfs, as client.admin.

usage: cephfs_dir.py FS PATH check|make   (prints exists, missing or created)
"""

import sys

import cephfs


def main(fs_name, path, action):
    fs = cephfs.LibCephFS(conffile="/etc/ceph/ceph.conf")
    fs.mount(filesystem_name=fs_name.encode())
    try:
        try:
            fs.stat(path.encode())
            print("exists")
            return
        except cephfs.ObjectNotFound:
            pass
        if action == "make":
            fs.mkdirs(path.encode(), 0o755)
            print("created")
        else:
            print("missing")
    finally:
        fs.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
