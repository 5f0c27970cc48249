#!/usr/bin/env python3
"""Writes the topology files of the validation benchmark (see README.md) into a directory.

Each file is a worst case for one check: everything overlapping in one namespace, 100k namespaces,
undeclared references next to many near-miss names (did-you-mean), routes against many interfaces,
NAT rules against many namespaces that turn forwarding off, and an error on every line. The "max-" files
are filled up to just under the loader's limit (4 MiB; --limit-mib to try another).
"""
import os
import sys

LIMIT = 4 * 1024 * 1024 - 64 * 1024  # just under the loader's limit (TopologyLoader.MaxFileBytes)


def head(name):
    return f"version: 1\nname: {name}\n"


def fill(lines, make, start=0):
    """Appends make(i) for i = start, start+1, ... while the text stays under LIMIT; returns the count."""
    size = sum(len(l) for l in lines)
    i = start
    while True:
        line = make(i)
        if size + len(line) > LIMIT:
            return i - start
        lines.append(line)
        size += len(line)
        i += 1


def addr8(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}/8"


def bridges_in_one_slash8(count):
    lines = [head("overlap"), "bridges:\n"]
    for i in range(1, count + 1):
        lines.append(f"  b{i}: {{ addresses: [{addr8(i)}] }}\n")
    return lines


def max_overlap():
    lines = [head("overlap"), "bridges:\n"]
    n = fill(lines, lambda i: f"  b{i}: {{ addresses: [{addr8(i)}] }}\n", 1)
    return lines, f"{n} bridges, every address in 10.0.0.0/8"


def namespaces(count):
    lines = [head("many"), "namespaces:\n"]
    lines += [f"  n{i}: {{}}\n" for i in range(count)]
    return lines


def max_namespaces():
    lines = [head("many"), "namespaces:\n"]
    n = fill(lines, lambda i: f"  n{i}: {{}}\n")
    return lines, f"{n} namespaces"


def max_undeclared_bridges():
    # 2,000 declared bridges br0..br1999, then veth ends naming near misses of them (bX0..): every reference
    # undeclared, every one with candidates of similar length for did-you-mean.
    lines = [head("refs"), "bridges:\n"]
    lines += [f"  br{i}: {{}}\n" for i in range(2000)]
    lines.append("veths:\n")
    n = fill(lines, lambda i: f"  - a: {{ name: a{i}, bridge: bx{i % 2000} }}\n    b: {{ name: b{i} }}\n")
    return lines, f"2000 bridges, {n} veths whose 'bridge:' is a near miss"


def max_undeclared_namespaces():
    lines = [head("refs"), "namespaces:\n"]
    lines += [f"  ns{i}: {{}}\n" for i in range(20000)]
    lines.append("bridges:\n")
    n = fill(lines, lambda i: f"  b{i}: {{ namespace: nx{i % 20000} }}\n")
    return lines, f"20000 namespaces, {n} bridges in a near-miss namespace"


def max_routes():
    # One namespace with as many routes as fill half the file, each through a gateway in no declared subnet (the
    # check looks at every address of the namespace), and as many interfaces there as fill the other half.
    lines = [head("routes"), "namespaces:\n  r:\n    routes:\n"]
    half = LIMIT // 2
    size, routes = sum(map(len, lines)), 0
    while size < half:
        i = routes
        line = f"      - {{ to: 172.{16 + (i >> 16) % 16}.{(i >> 8) & 255}.{i & 255}/32, via: 192.168.{(i >> 8) & 255}.{i & 255 or 1} }}\n"
        lines.append(line)
        size += len(line)
        routes += 1
    lines.append("  o: {}\nveths:\n")
    n = fill(lines, lambda i: f"  - a: {{ namespace: r, name: v{i}, addresses: [10.{(i >> 8) & 255}.{i & 255}.1/24] }}\n    b: {{ namespace: o, name: w{i} }}\n")
    return lines, f"{routes} routes, {n} interfaces in one namespace"


def max_nat_forwarding_off():
    lines = [head("nat"), "namespaces:\n"]
    lines += [f"  n{i}: {{ sysctls: {{ net.ipv4.ip_forward: 0 }} }}\n" for i in range(30000)]
    lines.append("nat:\n")
    n = fill(lines, lambda i: f"  - masquerade: {{ namespace: n{29999 - i % 30000}, source: 10.{(i >> 8) & 255}.{i & 255}.0/24 }}\n")
    return lines, f"30000 namespaces with forwarding off, {n} masquerade rules"


def max_errors():
    lines = [head("errors"), "bridges:\n"]
    n = fill(lines, lambda i: f"  b{i}: {{ mtu: x }}\n")
    return lines, f"{n} bridges, each with an invalid mtu (one error per line)"


CASES = {
    "bridges-8000-one-slash8": lambda: (bridges_in_one_slash8(8000), "8000 bridges, every address in 10.0.0.0/8"),
    "namespaces-100k": lambda: (namespaces(100000), "100000 namespaces"),
    "max-overlap": max_overlap,
    "max-namespaces": max_namespaces,
    "max-undeclared-bridges": max_undeclared_bridges,
    "max-undeclared-namespaces": max_undeclared_namespaces,
    "max-routes": max_routes,
    "max-nat-forwarding-off": max_nat_forwarding_off,
    "max-errors": max_errors,
}


def main():
    global LIMIT
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--limit-mib":
        LIMIT = int(float(args[1]) * 1024 * 1024) - 64 * 1024
        args = args[2:]
    if not args:
        print(f"usage: {sys.argv[0]} [--limit-mib N] DIRECTORY [CASE...]", file=sys.stderr)
        return 1
    out = args[0]
    os.makedirs(out, exist_ok=True)
    for name in args[1:] or CASES:
        lines, what = CASES[name]()
        path = os.path.join(out, name + ".yaml")
        with open(path, "w") as f:
            f.writelines(lines)
        print(f"{name}\t{os.path.getsize(path)}\t{what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
