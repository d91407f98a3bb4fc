#!/usr/bin/env python3
"""Sums an Nsight Compute --csv (metric gpu__time_duration) by kernel name.

  ncu-summary.py CSV [--from-last NAME] [--label TEXT]

--from-last NAME: only the launches from the last kernel whose name contains NAME on (e.g. the
prefill after the limits measurement: --from-last embedding).
"""
import argparse
import collections
import csv

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--from-last", default=None)
ap.add_argument("--label", default="")
a = ap.parse_args()
rows = [r for r in csv.reader(open(a.csv)) if len(r) > 10]
hdr, rows = rows[0], rows[1:]
ki, vi, ui = hdr.index("Kernel Name"), hdr.index("Metric Value"), hdr.index("Metric Unit")
if a.from_last:
    rows = rows[max(i for i, r in enumerate(rows) if a.from_last in r[ki]):]
tot, cnt = collections.defaultdict(float), collections.Counter()
for r in rows:
    v = float(r[vi].replace(",", ""))
    v = v / 1000.0 if r[ui] in ("ns", "nsecond") else (v if r[ui] in ("us", "usecond") else v * 1000.0)
    name = r[ki][:90]
    tot[name] += v
    cnt[name] += 1
all_us = sum(tot.values())
print(f"{a.label}{len(rows)} kernels profiled, {all_us / 1000:.2f} ms device time")
for k, v in sorted(tot.items(), key=lambda x: -x[1])[:25]:
    print(f"{v / 1000:8.3f} ms {100 * v / all_us:5.1f}%  {cnt[k]:5d}x  {v / cnt[k]:8.1f} us avg  {k}")
