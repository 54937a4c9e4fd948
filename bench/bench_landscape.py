"""Timings of the landscape search (prints, no asserts): ``symflow landscape NAME [--shared] --starts N``.

Per case, in one interpreter: ``flow`` = the same seeded starts integrated by the reduced flow to the
default equilibrium tolerance with :func:`symflow.dynamics.simulate` (the baseline, measured in the same
run, after a warm-up that builds and caches the generated code), then ``landscape`` = the whole search
(flow to rounding level, Newton polish, kinds, exact energies, symmetry / family tests, spectra along
the kinds). ``ratio`` = landscape / flow.

Issue targets (2 cores): ``D5 --shared --starts 2000`` under 30 s, ``S4 --shared --starts 2000`` under
90 s. Usage: ``python bench/bench_landscape.py [NAME[:shared] ...] [--starts N]``.
"""
from __future__ import annotations

import sys
import time
import warnings

DEFAULT = ["D5:shared", "S4:shared", "F21", "S4", "Q8:shared"]


def main(argv) -> None:
    import symflow
    from symflow.landscape import landscape
    from symflow.theory.scope import ScopeWarning

    warnings.simplefilter("ignore", ScopeWarning)
    starts = 2000
    if "--starts" in argv:
        i = argv.index("--starts")
        starts = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    cases = argv or DEFAULT
    print(f"{'case':<14}{'starts':>7}{'flow s':>9}{'landscape s':>13}{'ratio':>7}{'kinds':>7}{'discovered':>11}")
    for case in cases:
        name, _, variant = case.partition(":")
        model = symflow.Model(name, shared=variant == "shared")
        symflow.simulate(model, width=4, progress=False)          # warm-up: generated code cached
        t0 = time.perf_counter()
        symflow.simulate(model, width=starts, seed=0, progress=False, n_save=2)
        flow_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        L = landscape(model, starts=starts, seed=0)
        land_s = time.perf_counter() - t0
        disc = sum(1 for a in L.attractors if a.source == "discovered")
        print(f"{case:<14}{starts:>7}{flow_s:>9.2f}{land_s:>13.2f}{land_s / flow_s:>7.1f}{len(L.attractors):>7}"
              f"{disc:>11}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
