"""Property-based verification: Hypothesis strategies, invariant checks, the catalogue and its runner.

The same pieces serve the project's own test suite and users checking their own models::

    from symflow.testing import strategies, checks, system_for, run_catalogue
    report = run_catalogue(system_for("F21"), examples=20, seed=0)
    report.ok, report.to_json()

* :mod:`~symflow.testing.strategies` - groups (named families, random products, relabelled Cayley
  tables), irreps, signals, points on products of spheres, Fourier states, model definitions;
* :mod:`~symflow.testing.checks` - one small function per invariant, each comparing the code
  under test with an independent computation (definitions, Cayley-table sums);
* :mod:`~symflow.testing.catalogue` - the ordered :data:`CATALOGUE` of invariants and
  :func:`system_for`, which bundles a model's parts into a :class:`System`;
* :mod:`~symflow.testing.runner` - runs invariants with Hypothesis, captures shrunk
  counterexamples, renders the rich table and the JSON report;
* :mod:`~symflow.testing.mutants` - deliberately broken systems the catalogue must catch.
"""
from . import catalogue, checks, mutants, runner, strategies
from .catalogue import CATALOGUE, Invariant, invariant, system_for
from .checks import CheckFailure, System, expect, expect_close
from .mutants import MUTANTS, mutate
from .runner import CheckResult, VerifyReport, run_catalogue, run_invariant


def verify(model, examples: int = 20, seed: int = 0, invariants=None) -> VerifyReport:
    """Run the invariant catalogue on ``model`` (a :class:`~symflow.theory.model.Model`, a group name or a
    Group), as ``symflow verify`` does; returns the :class:`VerifyReport` (``.ok``, ``.failures``).

    >>> import symflow
    >>> symflow.verify("Z5", examples=3).ok
    True
    """
    from ..theory.model import Model

    system = system_for(model=model) if isinstance(model, Model) else system_for(model)
    return run_catalogue(system, examples=examples, seed=seed, invariants=invariants)

__all__ = ["strategies", "checks", "catalogue", "runner", "mutants", "CATALOGUE", "Invariant", "invariant",
           "system_for", "System", "CheckFailure", "expect", "expect_close", "MUTANTS", "mutate",
           "CheckResult", "VerifyReport", "run_catalogue", "run_invariant", "verify"]
