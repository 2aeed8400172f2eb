"""Drill 1: the active writer's mariadbd is killed (SIGKILL) while a client writes through the
VIP. Writes must resume on another node, and every acknowledged row must be on every node."""

import json
import time
import uuid

import pytest
from cp import (
    DRILL_DB,
    DRILL_PASSWORD,
    DRILL_USER,
    GALERA,
    VIP,
    active_writer,
    check,
    ensure_drill_database,
    galera_backends,
    galera_healthy,
    put_client,
    rows_on,
    run,
    sql,
    vip_holder,
    wait_for,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

ROWS = 400


def test_writer_killed_writes_resume_and_no_acknowledged_row_is_lost():
    assert galera_healthy(), "the cluster must be healthy before the drill"
    ensure_drill_database()
    run_id = f"kill-{uuid.uuid4().hex[:8]}"
    victim = active_writer()
    assert victim == GALERA[0]
    client = next(n for n in reversed(GALERA) if n != victim)
    path = put_client(client, "galera_writer.py")
    report = "/tmp/strata-drill/kill-report.json"
    run(client, f"rm -f {report}; systemctl reset-failed strata-drill-writer 2>/dev/null")
    check(
        client,
        f"systemd-run --unit strata-drill-writer --collect python3 {path} --host {VIP} "
        f"--user {DRILL_USER} --password {DRILL_PASSWORD} --database {DRILL_DB} "
        f"--run {run_id} --count {ROWS} --seconds 240 --pause 0.02 --report {report}",
    )

    def written():
        count = f"SELECT COUNT(*) FROM {DRILL_DB}.rows WHERE run = '{run_id}'"
        return int(sql(victim, count)[0][0])

    wait_for(lambda: written() >= 40, 60, "the client's first rows")
    killed_at = time.time()
    check(victim, "pkill -KILL -x mariadbd")

    wait_for(lambda: run(client, f"test -e {report}").rc == 0, 300, "the client to finish")
    result = json.loads(check(client, f"cat {report}"))
    acked = set(result["acked"])
    nodes = {int(n): node for n, node in result["nodes"].items()}
    after_kill = {
        node
        for n, node in nodes.items()
        if n > max((int(e["n"]) for e in result["errors"] if e["t"] >= killed_at), default=0)
    }
    assert result["errors"], "the client never noticed the kill"
    assert len(acked) >= ROWS - 5, f"writes did not resume: {len(acked)} of {ROWS} acknowledged"
    assert any(node != victim for node in nodes.values()), (
        f"no write went to another node than {victim}: {set(nodes.values())}"
    )
    assert after_kill, "no row acknowledged after the last error"

    # The killed node comes back by itself (systemd restarts it) and catches up (IST).
    wait_for(galera_healthy, 300, "all three nodes Synced again")
    for node in GALERA:
        missing = acked - rows_on(node, run_id)
        assert not missing, f"{node} lacks acknowledged rows {sorted(missing)[:20]}"
    # haproxy is back to one active writer, the first node.
    wait_for(lambda: active_writer() == GALERA[0], 60, "the first node active again")
    rows = galera_backends(vip_holder())
    assert [r["svname"] for r in rows if r["bck"] == "0"] == [GALERA[0]]
