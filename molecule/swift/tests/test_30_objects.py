"""100 objects through the VIP with a keystone token, read back intact; 3 replicas of each in 3
zones on 3 hosts (swift-get-nodes, then a direct HEAD to every object server)."""

from sw import (
    CONTAINER,
    COUNT,
    PREFIX,
    account,
    direct_head,
    in_parallel,
    objects,
    placements,
    zone_of,
)


def test_put_and_read_back_100_objects_through_the_vip():
    put = objects("put")
    assert put["errors"] == {} and len(put["done"]) == COUNT
    got = objects("get")
    assert got["errors"] == {} and len(got["done"]) == COUNT


def test_three_replicas_on_three_hosts_in_three_zones():
    names = [f"{PREFIX}-{n:04d}" for n in range(0, COUNT, 10)]
    nodes = placements(account(), CONTAINER, names)
    for name in names:
        placed = [zone_of(ip) for ip, _port, _device, _cmd in nodes[name]]
        assert len({h for h, _z in placed}) == 3, (name, placed)
        assert len({z for _h, z in placed}) == 3, (name, placed)
    commands = [(name, command) for name in names for *_where, command in nodes[name]]
    codes = in_parallel(lambda item: direct_head(item[1]), commands)
    assert [c for c, code in zip(commands, codes, strict=True) if code != "200"] == []
