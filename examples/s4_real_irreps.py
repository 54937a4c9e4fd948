"""S4: real irreps of dimensions 1, 2, 3, 3 — single orbit, rank one, Omega* and rates per dimension.

    python examples/s4_real_irreps.py          # 512 neurons (about 15 s)
    python examples/s4_real_irreps.py --fast   # 64 neurons

Checks (GC on a non-abelian group with only real irreps): each neuron ends on one irrep, rank
one and aligned, with the exact Omega* of that irrep's dimension, and the competition and
rank-reduction rates are the derived eigenvalues. Basin fractions per irrep are measured.
"""
import sys

from _study_example import main

if __name__ == "__main__":
    sys.exit(main(__doc__, "S4", 512, 64, {"end state", "energies", "rates", "basins"}, stage2=False))
