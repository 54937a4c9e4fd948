"""Timings of ``symflow rates NAME --json`` for the named groups up to order 120 (prints, no asserts).

Per group, in one interpreter: ``group`` = ``symflow group NAME --json`` (builds the group, its
irreps and the exact character table: the baseline, measured in the same run), then ``rates`` =
``symflow rates NAME --json`` on the cached group with the per-class derivation cache of
:mod:`symflow.theory.rates` cleared first (a cold derivation, as in a fresh CLI call, but
without interpreter start-up). ``ratio`` = rates / group. ``cpu`` is process CPU time (all
threads): the steadier figure on a loaded machine. Default verification applies (one orbit per
``(dim, type)`` class checked against the brute-force Cayley-table spectrum, n <= 200).

Issue target: all groups together under 60 s. Usage: ``python bench/bench_rates.py [NAME ...]``
(``--shared`` or ``--joint`` to time those variants).
"""
from __future__ import annotations

import contextlib
import io
import sys
import time

GROUPS = (
    [f"Z{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 30, 60, 97, 120)]
    + ["Z2xZ2", "Z2xZ4", "Z3xZ3", "Z2xZ2xZ2", "Z3xZ5", "Z2xZ6", "Z4xZ4", "Z2xZ2xZ4", "Z5xZ5", "Z6xZ6",
       "Z2xZ2xZ2xZ2"]
    + [f"D{n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 60)]
    + ["Q8"] + [f"Dic{n}" for n in (3, 4, 5, 6, 7, 8, 10, 15, 30)]
    + ["S3", "S4", "S5", "A4", "A5"]
    + [f"F{m}" for m in (20, 21, 39, 42, 52, 55, 57, 78, 93, 110, 111, 114, 116)]
)


def _timed(argv):
    from symflow.cli import main

    buf = io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    if rc != 0:
        raise SystemExit(f"symflow {' '.join(argv)} exited with {rc}")
    return time.perf_counter() - t0, time.process_time() - c0, buf.getvalue()


def main(argv=None) -> None:
    import json

    from symflow.theory import rates

    args = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--shared" in args:
        args.remove("--shared")
        extra.append("--shared")
    if "--joint" in args:
        args.remove("--joint")
        extra += ["--spheres", "joint"]
    names = args or GROUPS
    print(f"{'group':>12} {'n':>4} {'orbits':>6} {'group s':>8} {'rates s':>8} {'cpu s':>7} {'ratio':>6}")
    tot_g = tot_r = tot_c = 0.0
    for name in names:
        tg, _, gout = _timed(["group", name, "--json"])
        rates._CACHE.clear()
        tr, cr, rout = _timed(["rates", name, "--json"] + extra)
        rep = json.loads(rout)
        n = json.loads(gout).get("order", "?")
        tot_g, tot_r, tot_c = tot_g + tg, tot_r + tr, tot_c + cr
        print(f"{name:>12} {n:>4} {len(rep['orbits']):>6} {tg:8.3f} {tr:8.3f} {cr:7.3f} {tr / tg:6.1f}", flush=True)
    print(f"{'total':>12} {'':>4} {'':>6} {tot_g:8.2f} {tot_r:8.2f} {tot_c:7.2f} {tot_r / tot_g:6.1f}")
    print(f"{len(names)} groups; target: rates total < 60 s -> {'met' if tot_r < 60 else 'NOT met'} ({tot_r:.1f} s)")


if __name__ == "__main__":
    main()
