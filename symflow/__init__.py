"""symflow: what a two-layer network trained on a finite group's composition table learns, and how fast.

The whole path of a theorist's session, from one flat namespace (walk-through: ``docs/tutorial.md``)::

    import symflow
    G = symflow.group("F21")                  # exact irreps, character table, Fourier transform
    G.orbits                                  # irrep orbits {rho, conj rho}: id, label, dim, type
    m = symflow.Model(G)                      # GC's neuron: z**2, small-logit CE, separate spheres
    m.energy().fourier                        # the energy in Fourier space (SymPy), proved equal to
                                              #   the parameter-space sum by m.energy().verify()
    m.block_flow(3).rhs                       # the Riemannian flow of one 3x3 irrep block
    symflow.abelian_closed_form(symflow.Model("Z7"))   # magnitude/phase ODEs of an abelian group
    eq = symflow.equilibrium(m, 2)            # the equilibrium on orbit 2, exact Omega*
    symflow.spectrum(m, 2)                    # its tangent spectrum: the rates, exactly
    run = symflow.simulate(m, width=512, seed=0)       # a population of neurons, reduced flow
    run.summary()                             # fractions per orbit, alignment, Omega
    symflow.landscape("D5", shared=True)      # every attractor random starts find, not only the theorem's

>>> import symflow
>>> G = symflow.group("F21")
>>> [(o.id, o.label, o.type) for o in G.orbits]
[(0, 'chi_0', 'trivial'), (1, 'chi_1/chi_2', 'complex'), (2, 'rho_1/rho_3', 'complex')]
>>> symflow.equilibrium(symflow.Model(G), 2).omega_star
sqrt(14)/882

Names: :func:`group`, :class:`Group`, :class:`Irrep`, :class:`IrrepOrbit`, :class:`Neuron`,
:class:`Model`, :func:`equilibrium`, :func:`equilibria`, :func:`spectrum`, :func:`spectra`,
:func:`abelian_closed_form`, :func:`simulate`, :func:`run_until_aligned`, :func:`landscape`,
:func:`run_study`, :func:`verify`, :class:`ScopeWarning`, and the errors (:class:`SymflowError` and its subclasses). Everything beyond the
group is imported on first use, so ``import symflow`` stays light.
"""
from ._version import __version__
from .errors import GroupAxiomError, IntegrationError, ModelError, SymflowError, UnknownGroupError

#: Names imported on first use, so ``import symflow`` (and the command line's first moments, where a Ctrl-C
#: must end with one line) loads no NumPy: ``{name: (module, attribute)}``.
_LAZY = {"group": (".groups", "group"), "Group": (".groups", "Group"), "Irrep": (".groups", "Irrep"),
         "IrrepOrbit": (".groups.orbits", "IrrepOrbit"), "Neuron": (".neuron", "Neuron"),
         "Model": (".theory.model", "Model")}

__all__ = ["group", "Group", "Irrep", "IrrepOrbit", "Neuron", "Model", "equilibrium", "equilibria", "spectrum",
           "spectra", "abelian_closed_form", "simulate", "run_until_aligned", "landscape", "run_study", "verify",
           "ScopeWarning", "SymflowError",
           "UnknownGroupError", "GroupAxiomError", "ModelError", "IntegrationError", "__version__"]


def __getattr__(name):
    """The derivation, simulation and study entry points, imported on first use (they need SymPy,
    SciPy or the generated code; ``import symflow`` does not)."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attribute)
    if name == "equilibrium":
        from .theory.equilibria import equilibrium
        return equilibrium
    if name == "equilibria":
        from .theory.equilibria import orbit_equilibria
        return orbit_equilibria
    if name == "spectrum":
        from .theory.rates import spectrum
        return spectrum
    if name == "spectra":
        from .theory.rates import orbit_spectra
        return orbit_spectra
    if name == "abelian_closed_form":
        from .theory.closed_forms import abelian_closed_form
        return abelian_closed_form
    if name in ("simulate", "run_until_aligned"):
        from . import dynamics
        return getattr(dynamics, name)
    if name == "landscape":
        from .landscape import landscape
        return landscape
    if name == "ScopeWarning":
        from .theory.scope import ScopeWarning
        return ScopeWarning
    if name == "run_study":
        from .study import run_study
        return run_study
    if name == "verify":
        from .testing import verify
        return verify
    raise AttributeError(f"module 'symflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
