"""The Python API a newcomer meets first (issue 12, "The newcomer's path", Python):

* ``Group.from_permutations`` reads cycle text and turns bad text into a ``GroupAxiomError`` naming
  the accepted forms, never a raw ``ValueError``;
* ``simulate`` / ``run_until_aligned`` refuse a ``width`` that disagrees with a ready ``init``;
* library calls draw no progress bar unless asked (``progress=True``); the CLI still draws one;
* substitution by plain names (``symflow.theory.symbols.subs`` / ``symbol``).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symflow
from symflow.errors import GroupAxiomError, SymflowError

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ permutation generators
@pytest.mark.parametrize("gens", [["(1 2"], ["(a b)"], ["(1 1)"], ["x(0 1)"], ["(0 1))"], [""], [[0.5, 1]],
                                  [[[0, 1], [2, 3]]], "(0 1"])
def test_bad_permutation_text_is_group_axiom_error(gens):
    with pytest.raises(GroupAxiomError) as info:
        symflow.Group.from_permutations(gens)
    msg = str(info.value)
    assert "\n" not in msg and "(0 1 2)(3 4)" in msg and "array form" in msg


def test_cycle_text_generators():
    S4 = symflow.Group.from_permutations(["(0 1 2 3)", "(0 1)"])
    assert S4.order == 24
    V4 = symflow.Group.from_permutations(["(0 1)(2 3)", "(0,2)(1,3)"])
    assert V4.order == 4 and "(0 1)(2 3)" in V4.labels
    # the labels print in the notation the generators are read in (round trip)
    again = symflow.Group.from_permutations(S4.labels[1:])
    assert sorted(again.labels) == sorted(S4.labels)
    assert symflow.Group.from_permutations("(0 1 2)").order == 3 and symflow.Group.from_permutations(["e"]).order == 1


# ------------------------------------------------------------------ width versus a ready init
@pytest.fixture(scope="module")
def z5_start():
    from symflow.dynamics.initial import uniform

    m = symflow.Model("Z5")
    state = uniform(m, 8, 0)
    params = state.to_parameters()
    return m, {"state": state, "dict": params, "array": np.stack([params[k] for k in m.vector_names])}


@pytest.mark.parametrize("kind", ["state", "dict", "array"])
def test_width_disagreeing_with_init_is_an_error(z5_start, kind):
    m, inits = z5_start
    init = inits[kind]
    with pytest.raises(SymflowError, match="width 3 disagrees with init, which holds 8 neurons"):
        symflow.simulate(m, width=3, init=init, t_end=1.0)
    with pytest.raises(SymflowError, match="width 3 disagrees"):
        symflow.run_until_aligned(m, width=3, init=init)
    assert symflow.simulate(m, init=init, t_end=1.0, n_save=2).width == 8          # width from the init
    assert symflow.simulate(m, width=8, init=init, t_end=1.0, n_save=2).width == 8


def test_init_array_of_wrong_shape(z5_start):
    m, inits = z5_start
    with pytest.raises(SymflowError, match=r"shape \(vectors, M, n\)"):
        symflow.simulate(m, init=inits["array"][0], t_end=1.0)


# ------------------------------------------------------------------ no progress bar unless asked
LIBRARY_CALLS = """
import symflow
from symflow.modular.grokking import run_grokking
from symflow.modular.lottery import run_lottery
symflow.simulate("Z5", width=4, t_end=200.0)
symflow.run_until_aligned("Z5", 16)
run_grokking(p=7, width=8, steps=20)
run_lottery(5, 3, 0.05)
symflow.run_study("Z3", width=8, stage2=False)
symflow.Model("Z5").energy().verify(points=1)
symflow.spectrum("Z5", 1)
"""


def _python(code, *args, **env):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TTY_COMPATIBLE="1", COLUMNS="100", **env)  # rich: a terminal
    return subprocess.run([sys.executable, *args] if args else [sys.executable, "-c", code], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)


def test_library_calls_draw_no_progress_bar():
    run = _python(LIBRARY_CALLS)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    # asked for, a bar is drawn (so the forced terminal above would have shown one)
    asked = _python('import symflow; symflow.simulate("Z5", width=4, t_end=200.0, progress=True)')
    assert asked.returncode == 0 and "reduced flow" in asked.stderr


def test_cli_still_draws_its_progress_bar():
    run = _python(None, "-m", "symflow", "simulate", "Z5", "--width", "4", "--t-end", "200")
    assert run.returncode == 0 and "reduced flow" in run.stderr
    quiet = _python(None, "-m", "symflow", "simulate", "Z5", "--width", "4", "--t-end", "200", "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == ""


# ------------------------------------------------------------------ substitution by plain names
def test_subs_by_plain_name():
    from symflow.theory.symbols import N, OMEGA, subs, symbol

    rhs = symflow.Model("Z7").block_flow(1).rhs
    xi = rhs["xi"]
    assert sp.Symbol("n") not in xi.free_symbols and xi.subs(sp.Symbol("n"), 7) == xi   # the trap
    at7 = subs(xi, n=7)
    assert N not in at7.free_symbols and at7 == xi.subs(N, 7)
    assert subs(xi, {sp.Symbol("n"): 7}) == at7                   # a plain Symbol is matched by name
    both = subs(rhs, n=7, Omega=0)                                 # a dict of formulas
    assert set(both) == set(rhs) and all(N not in v.free_symbols and OMEGA not in v.free_symbols
                                         for v in both.values())
    with pytest.raises(SymflowError, match="no symbol named 'N'.*Omega"):
        subs(xi, N=7)
    with pytest.raises(SymflowError):
        subs(3, n=7)


def test_symbol_names_the_engine_symbols():
    from symflow.theory.symbols import N, OMEGA, block_symbols, irrep_block_symbols, parameter_symbols, symbol

    assert symbol("n") is N and symbol("Omega") is OMEGA
    assert symbol("theta1_3") == parameter_symbols("theta1", 5)[3]
    assert symbol("xi_0_1") == block_symbols("xi", 2)[0, 1]
    assert symbol("theta1hat_2_0_0") == irrep_block_symbols("theta1", 2, 1)[0, 0]
    with pytest.raises(SymflowError, match="not a symbol of the theory engine"):
        symbol("m n")
