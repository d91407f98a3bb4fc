#!/usr/bin/env python3
"""Independent checker of an llmc-plan-memory result (reads generic-form IR on stdin).

It does not re-run first fit: it checks the plan's invariants. For every func.func with
llm.arena_per_token: every op result has an llm.offset; any two values whose live ranges
(defining op .. last use, the return included) overlap occupy disjoint [offset, offset+width);
every value fits in the arena, and the arena is no larger than the highest end. Prints
"PLAN OK values=N arena=A" per function, or "PLAN BAD: ..." and exits 1. Owner: mlir.
"""
import re
import sys

OP = re.compile(r'^\s*(?:(%[\w.$-]+)(?::(\d+))?\s*=\s*)?"([\w.]+)"\((.*?)\)')
OFFSET = re.compile(r'llm\.offset = array<i64: ([\d, ]+)>')
RESULTS = re.compile(r'->\s*(\(.*\)|tensor<[^>]*>|[\w]+)\s*$')
WIDTH = re.compile(r'tensor<(?:\?|\d+)x(\d+)xf32>')
ARENA = re.compile(r'llm\.arena_per_token = (\d+)')


def fail(msg):
    print("PLAN BAD: " + msg)
    sys.exit(1)


def check_function(lines, arena):
    values = {}  # name -> [def index, last use, offset, width]
    for idx, line in enumerate(lines):
        m = OP.match(line)
        if not m:
            continue
        name, count, opname, operands = m.groups()
        for use in re.findall(r'%[\w.$-]+(?:#\d+)?', operands):
            if use in values:
                values[use][1] = max(values[use][1], idx)
        if not name:
            continue
        off = OFFSET.search(line)
        res = RESULTS.search(line)
        if not off or not res:
            fail(f"{opname} at line {idx}: no llm.offset or result types")
        offsets = [int(x) for x in off.group(1).split(",")]
        widths = [int(w) for w in WIDTH.findall(res.group(1))]
        n = int(count) if count else 1
        if len(offsets) != n or len(widths) != n:
            fail(f"{opname}: {n} results, {len(offsets)} offsets, {len(widths)} widths")
        names = [name] if n == 1 else [f"{name}#{i}" for i in range(n)]
        for nm, o, w in zip(names, offsets, widths):
            values[nm] = [idx, idx, o, w]
    items = sorted(values.items(), key=lambda kv: kv[1][0])
    top = 0
    for i, (a, (s1, e1, o1, w1)) in enumerate(items):
        top = max(top, o1 + w1)
        if o1 < 0 or o1 + w1 > arena:
            fail(f"{a} [{o1}, {o1 + w1}) outside the arena of {arena}")
        for b, (s2, e2, o2, w2) in items[i + 1:]:
            live_overlap = s1 <= e2 and s2 <= e1
            mem_overlap = o1 < o2 + w2 and o2 < o1 + w1
            if live_overlap and mem_overlap:
                fail(f"{a} and {b} are live together and overlap in memory")
    if top != arena:
        fail(f"arena {arena} but the highest end is {top}")
    print(f"PLAN OK values={len(values)} arena={arena}")


def main():
    lines = sys.stdin.read().splitlines()
    found = 0
    for i, line in enumerate(lines):
        if '"func.func"' not in line:
            continue
        # The function's attributes are printed after its region, on its closing line.
        depth, j = 0, i
        body = []
        while j < len(lines):
            depth += lines[j].count("({") - lines[j].count("})")
            body.append(lines[j])
            if depth <= 0 and j > i:
                break
            j += 1
        m = ARENA.search(lines[j]) if j < len(lines) else None
        if not m:
            fail("function without llm.arena_per_token")
        check_function(body[1:], int(m.group(1)))
        found += 1
    if not found:
        fail("no function found")


if __name__ == "__main__":
    main()
