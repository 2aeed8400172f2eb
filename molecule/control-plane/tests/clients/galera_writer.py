"""Drill client, run on a lab host: writes numbered rows through the VIP, one per transaction.

A row counts as acknowledged only when its INSERT (autocommit) returned OK. On any error the
client reconnects (through the VIP again) and retries the same row; a duplicate-key answer on
a retry means the earlier attempt committed although its answer was lost: that row exists but
is not counted as acknowledged. Prints (or writes) a JSON report: acked, node per row, errors.
"""

import argparse
import json
import os
import time

import pymysql


def main():
    parser = argparse.ArgumentParser()
    for name in ("host", "user", "password", "database", "run"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--report", help="write the report here instead of stdout")
    args = parser.parse_args()

    acked, nodes, errors = [], {}, []
    deadline = time.monotonic() + args.seconds
    n = args.first
    conn, node = None, None
    while n < args.first + args.count and time.monotonic() < deadline:
        try:
            if conn is None:
                conn = pymysql.connect(
                    host=args.host,
                    user=args.user,
                    password=args.password,
                    database=args.database,
                    autocommit=True,
                    connect_timeout=3,
                    read_timeout=10,
                    write_timeout=10,
                )
                with conn.cursor() as cur:
                    cur.execute("SELECT @@hostname")
                    node = cur.fetchone()[0]
            with conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO `rows` (run, n, node) VALUES (%s, %s, %s)", (args.run, n, node)
                )
            acked.append(n)
            nodes[n] = node
            n += 1
            if args.pause:
                time.sleep(args.pause)
        except pymysql.err.IntegrityError as exc:
            if exc.args and exc.args[0] == 1062:
                errors.append({"t": time.time(), "n": n, "error": "duplicate: committed, unacked"})
                n += 1
            else:
                raise
        except (pymysql.MySQLError, OSError) as exc:
            errors.append({"t": time.time(), "n": n, "error": repr(exc)})
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
            conn = None
            time.sleep(0.3)
    report = json.dumps({"acked": acked, "nodes": nodes, "errors": errors, "next": n})
    if args.report:
        with open(args.report + ".tmp", "w") as out:
            out.write(report)
        os.rename(args.report + ".tmp", args.report)
    else:
        print(report)


if __name__ == "__main__":
    main()
