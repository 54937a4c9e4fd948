"""The Library of Mirrors (Zeger, Wang, Mishkin, Ergen, Candes, Pilanci, arXiv 2403.01046): networks on 1-D
data as Lasso problems over an explicit dictionary, derived in SymPy, solved exactly and checked against training.

    from symflow.mirrors import make_data, run_mirrors
    result = run_mirrors(make_data([0, 4, 5, 7, 10, 11], [0, 0, 0, 2, 3, 3]), depth=4)
    result["objective"], result["features"][0]["formula"]     # 1.0, 'capped ramp [5, 8]: ...'

Modules: :mod:`.symbolic` (activations, features, units, lemmas), :mod:`.data`, :mod:`.dictionary`,
:mod:`.solve` (HiGHS LP, scikit-learn Lasso, certificates), :mod:`.network` (reconstruction, kinks),
:mod:`.training` (random starts through symflow's optimiser), :mod:`.run` (JSON contract, report).
"""
from .data import Data, make_data, parse_lists, read_csv
from .dictionary import Dictionary, build_dictionary
from .run import public, run_mirrors

__all__ = ["Data", "make_data", "parse_lists", "read_csv", "Dictionary", "build_dictionary", "run_mirrors", "public"]
