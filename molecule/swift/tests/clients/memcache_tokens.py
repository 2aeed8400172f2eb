"""Test client, run on a memcached host: the token cache entries keystonemiddleware left.

memcache_tokens.py ADDRESS   prints {"tokens": N, "plaintext": M}: N entries named tokens/...,
                             M of them whose value holds a token's JSON in clear text
"""

import json
import socket
import sys
from urllib.parse import unquote


def command(sock, line, end):
    sock.sendall(line.encode() + b"\r\n")
    data = b""
    while not data.endswith(end):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    (address,) = sys.argv[1:]
    sock = socket.create_connection((address, 11211), timeout=10)
    dump = command(sock, "lru_crawler metadump all", b"END\r\n").decode(errors="replace")
    keys = [
        unquote(part[4:])
        for line in dump.splitlines()
        for part in line.split()
        if part.startswith("key=")
    ]
    tokens = [k for k in keys if k.startswith("tokens/")]
    plaintext = 0
    for key in tokens:
        value = command(sock, f"get {key}", b"END\r\n")
        # A cached token in clear text is keystone's JSON: user, project, roles, catalog.
        if b'"user"' in value or b'"roles"' in value or b"admin" in value:
            plaintext += 1
    print(json.dumps({"tokens": len(tokens), "plaintext": plaintext}))


if __name__ == "__main__":
    main()
