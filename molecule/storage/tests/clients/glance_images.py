#!/usr/bin/python3
"""A small glance v2 client for the storage scenario's tests (standard library only).

Credentials come from the OS_* variables of /root/openrc. Commands (one per call):
  create URL NAME                    -> prints the new image id
  upload URL ID FILE STORE           -> PUT the file into STORE (X-Image-Meta-Store)
  stage URL ID FILE                  -> PUT the file into the staging area (interoperable import)
  import URL ID STORE                -> glance-direct import of the staged data into STORE
  show URL ID                        -> prints the image as JSON
  sha256 URL ID                      -> prints the sha256 of the downloaded data
  list URL                           -> prints the image ids, one a line
  delete URL ID
URL is glance's base URL (the VIP or one host's own address).
"""

import hashlib
import json
import os
import sys
import urllib.request


def token():
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": os.environ["OS_USERNAME"],
                        "domain": {"name": os.environ.get("OS_USER_DOMAIN_NAME", "Default")},
                        "password": os.environ["OS_PASSWORD"],
                    }
                },
            },
            "scope": {
                "project": {
                    "name": os.environ["OS_PROJECT_NAME"],
                    "domain": {"name": os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default")},
                }
            },
        }
    }
    url = os.environ["OS_AUTH_URL"].rstrip("/") + "/auth/tokens"
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.headers["X-Subject-Token"]


def call(method, url, data=None, headers=None, timeout=600):
    headers = {"X-Auth-Token": token(), **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    return urllib.request.urlopen(request, timeout=timeout)


def main(command, base=None, *args):
    base = (base or "").rstrip("/")
    if command == "create":
        url = f"{base}/v2/images"
        body = {"name": args[0], "disk_format": "raw", "container_format": "bare"}
        with call(
            "POST", url, json.dumps(body).encode(), {"Content-Type": "application/json"}
        ) as a:
            print(json.load(a)["id"])
    elif command in ("upload", "stage"):
        image, path = args[0], args[1]
        headers = {"Content-Type": "application/octet-stream"}
        if command == "upload":
            headers["X-Image-Meta-Store"] = args[2]
        size = os.path.getsize(path)
        headers["Content-Length"] = str(size)
        suffix = "file" if command == "upload" else "stage"
        with open(path, "rb") as data:
            call("PUT", f"{base}/v2/images/{image}/{suffix}", data, headers).close()
    elif command == "import":
        image, store = args
        body = {"method": {"name": "glance-direct"}, "stores": [store]}
        call(
            "POST",
            f"{base}/v2/images/{image}/import",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        ).close()
    elif command == "show":
        with call("GET", f"{base}/v2/images/{args[0]}") as answer:
            print(json.dumps(json.load(answer)))
    elif command == "sha256":
        digest = hashlib.sha256()
        with call("GET", f"{base}/v2/images/{args[0]}/file") as answer:
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                digest.update(chunk)
        print(digest.hexdigest())
    elif command == "list":
        with call("GET", f"{base}/v2/images?limit=1000") as answer:
            for image in json.load(answer)["images"]:
                print(image["id"])
    elif command == "delete":
        call("DELETE", f"{base}/v2/images/{args[0]}").close()
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
