"""Z3 x Z5: the population diversifies uniformly over frequencies with Haar-uniform phases.

    python examples/z3xz5_diversification.py          # 512 neurons (about 10 s)
    python examples/z3xz5_diversification.py --fast   # 128 neurons

Checks (docs/theory.md section 6): the learned frequency is uniform over the 7 non-trivial conjugate
pairs (chi-square), the phases are Haar-uniform (Kolmogorov-Smirnov), the population computes
the indicator of x + y with the SymPy-derived phase-averaged weights (no ghost peaks for
unshared embeddings) and classifies the whole table. (Stage II is in the full report:
`symflow study Z3xZ5`.)
"""
import sys

from _study_example import main

if __name__ == "__main__":
    sys.exit(main(__doc__, "Z3xZ5", 512, 128, {"population law (abelian)", "mechanism (abelian)", "basins"},
                  stage2=False))
