"""F21 (C7:C3): every neuron learns a single irrep orbit, rank one and rotationally aligned.

    python examples/f21_single_irrep.py          # 512 neurons (about 10 s)
    python examples/f21_single_irrep.py --fast   # 64 neurons

Checks (GC, Stage I): each neuron ends on one conjugate-pair orbit (the 1-dim pair or the 3-dim
pair), its 3 x 3 blocks are rank one and the three alignment cosines are 1, its energy is the
exact Omega* of its orbit (sqrt(42)/882 and sqrt(14)/882), and the decay rates near equilibrium
(competition, rank reduction, phase alignment) are the derived eigenvalues. Basin fractions are
printed as measurements.
"""
import sys

from _study_example import main

if __name__ == "__main__":
    sys.exit(main(__doc__, "F21", 512, 64, {"end state", "energies", "rates", "basins"}, stage2=False))
