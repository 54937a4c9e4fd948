"""The catalogue of invariants that ``symflow verify`` runs, and how to add your own.

An :class:`Invariant` pairs a check function ``check(system, example)`` (raising
:class:`~symflow.testing.checks.CheckFailure`) with a Hypothesis strategy factory
``examples(system) -> SearchStrategy`` and an applicability test ``applies(system)`` that returns
``None`` or the reason the invariant does not apply (reported as *skipped*, never dropped)::

    @invariant("flow.my-property", examples=lambda s: strategies.model_states(s.model),
               needs=("model", "fourier_rhs"))
    def my_property(system, state):
        velocities, energy = system.flow(state)
        ...

``needs`` names :class:`~symflow.testing.checks.System` attributes that must be present (a
missing one skips the invariant with a reason). :data:`CATALOGUE` is the ordered registry;
:func:`invariant` appends to it (or to a registry you pass).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from ..errors import SymflowError

from . import checks
from . import strategies as sfs
from .checks import System


@dataclass(frozen=True)
class Invariant:
    """One catalogue entry: ``check(system, example)`` over ``examples(system)``.

    ``unpack=True`` calls ``check(system, *example)`` for tuple examples.
    """

    name: str
    check: Callable
    examples: Callable
    applies: Callable = field(default=lambda s: None)
    needs: tuple = ()
    unpack: bool = False
    doc: str = ""

    def skip_reason(self, system: System) -> str | None:
        """``None`` when the invariant applies to ``system``, else why not."""
        for attr in self.needs:
            if getattr(system, attr, None) is None:
                why = system.extras.get(f"missing:{attr}") if hasattr(system, "extras") else None
                return why or f"the system has no {attr!r} (not provided by this model)"
        return self.applies(system)

    def run(self, system: System, example) -> None:
        if self.unpack:
            self.check(system, *example)
        else:
            self.check(system, example)

    @property
    def summary(self) -> str:
        return (self.doc or self.check.__doc__ or "").strip().splitlines()[0] if (self.doc or self.check.__doc__) else ""


#: The ordered registry used by ``symflow verify``.
CATALOGUE: list[Invariant] = []


def invariant(name: str, examples: Callable, applies: Callable | None = None, needs: tuple = (),
              unpack: bool = False, registry: list | None = None):
    """Decorator registering ``check(system, example)`` as an :class:`Invariant` called ``name``."""

    def deco(fn):
        inv = Invariant(name=name, check=fn, examples=examples, applies=applies or (lambda s: None),
                        needs=tuple(needs), unpack=unpack, doc=(fn.__doc__ or "").strip())
        reg = CATALOGUE if registry is None else registry
        reg[:] = [i for i in reg if i.name != name]
        reg.append(inv)
        return fn

    return deco


def get(name: str) -> Invariant:
    """The catalogue entry called ``name``."""
    for inv in CATALOGUE:
        if inv.name == name:
            return inv
    raise KeyError(f"no invariant {name!r}; known: {', '.join(i.name for i in CATALOGUE)}")


# ---------------------------------------------------------------------- group invariants
def _irrep_index(s):
    return sfs.irrep_indices(s.group)


def _irrep_pair(s):
    k = sfs.irrep_indices(s.group)
    return st.tuples(k, k)


def _signal(s):
    return sfs.signals(s.group.order)


def _two_signals(s):
    return st.tuples(sfs.signals(s.group.order), sfs.signals(s.group.order))


@invariant("irreps.homomorphism", _irrep_index)
def _homomorphism(system, i):
    """rho(g) rho(h) = rho(gh) and rho(g) unitary, for every g, h (one irrep per example)."""
    checks.homomorphism(system, i)
    checks.unitarity(system, i)


@invariant("irreps.orthogonality", _irrep_pair, unpack=True)
def _orthogonality(system, i, j):
    """Schur orthogonality of matrix entries and of characters for a pair of irreps."""
    checks.schur_orthogonality(system, i, j)
    checks.character_orthogonality(system, i, j)


@invariant("irreps.characters", _irrep_index)
def _characters(system, i):
    """Characters are class functions; sum d^2 = n; #irreps = #classes; indicators match conjugates."""
    checks.dimension_sum(system)
    checks.class_function(system, i)
    checks.indicator_consistency(system, i)


@invariant("fourier.definition", _signal)
def _fourier_definition(system, x):
    """The transform equals its definition (1/n) sum_g x(g) rho(g)^* (normalisation and order)."""
    checks.fourier_definition(system, x)


@invariant("fourier.inversion", _signal)
def _fourier_inversion(system, x):
    """inverse_fourier(fourier(x)) = x and x(g) = sum_rho d tr(x_hat rho(g))."""
    checks.fourier_inversion(system, x)


@invariant("fourier.plancherel", _signal)
def _plancherel(system, x):
    """Plancherel: sum_g x(g)^2 = n sum_rho d ||x_hat[rho]||_F^2."""
    checks.plancherel(system, x)


@invariant("fourier.convolution", _two_signals, unpack=True)
def _convolution(system, f, g):
    """Convolution theorem (f*g)_hat = n g_hat f_hat against the Cayley-table convolution."""
    checks.convolution_theorem(system, f, g)


# ---------------------------------------------------------------------- model invariants
def _state(s):
    return sfs.model_states(s.model)


def _constrained(s):
    return None if s.model.neuron.constrained else "unconstrained model: no spheres"


def _symmetry(s):
    return st.tuples(sfs.model_states(s.model), sfs.elements(s.group), st.sampled_from(checks.symmetry_actions(s)))


def _abelian(s):
    if not s.group.is_abelian:
        return f"{s.group.name} is non-abelian (phase rotations act on characters)"
    if not checks.phase_pairs(s.group):
        return f"{s.group.name} has only real characters: no phase to rotate"
    return None


def _phases(s):
    return st.tuples(sfs.model_states(s.model), sfs.phase_angles(s.group))


@invariant("energy.matches-bruteforce", _state, needs=("model", "fourier_rhs"))
def _energy(system, state):
    """The energy computed in Fourier space equals the Cayley-table sum (bruteforce)."""
    checks.energy_matches_reference(system, state)


@invariant("flow.fourier-vs-parameter", _state, needs=("model", "fourier_rhs"))
def _flow_agreement(system, state):
    """The Fourier flow mapped back to parameter space equals the parameter-space flow (bruteforce)."""
    checks.flow_matches_reference(system, state)


@invariant("flow.norm-preservation", _state, applies=_constrained, needs=("model", "fourier_rhs"))
def _tangent(system, state):
    """Norms stay 1: the velocity is tangent to every sphere."""
    checks.flow_tangent(system, state)


@invariant("flow.energy-monotone", _state, needs=("model", "fourier_rhs"))
def _ascent(system, state):
    """dE/dt = <grad E, v> = sum |v|^2 >= 0 along the exact flow."""
    checks.energy_ascent(system, state)


@invariant("flow.translation-equivariance", _symmetry, needs=("model", "fourier_rhs"), unpack=True)
def _translations(system, state, h, action):
    """Energy invariant and flow equivariant under group translations (left, right, middle, conjugation)."""
    checks.translation_equivariance(system, state, h, action)


@invariant("flow.phase-equivariance", _phases, applies=_abelian, needs=("model", "fourier_rhs"), unpack=True)
def _phase(system, state, angles):
    """Abelian: energy invariant and flow equivariant under phase rotations (e^{ia}, e^{ib}, e^{i(a+b)})."""
    checks.phase_equivariance(system, state, angles)


@invariant("codegen.matches-sympy", _state, needs=("model", "fourier_rhs", "sympy_rhs"))
def _codegen(system, state):
    """The generated NumPy right-hand side equals the SymPy expressions (lambdify) on Fourier states."""
    checks.codegen_matches_sympy(system, state)


def _integrator_examples(s):
    return st.tuples(sfs.model_states(s.model), st.integers(1, 4))


@invariant("integrator.geometric", _integrator_examples, applies=_constrained, needs=("model", "step", "fourier_rhs"),
           unpack=True)
def _integrator(system, state, steps):
    """Geometric integrator: norms stay 1 to rounding and the energy never decreases over its steps."""
    checks.integrator_steps(system, state, steps)


def _equilibrium_examples(s):
    k = len(s.equilibria())
    return st.tuples(st.integers(0, k - 1), sfs.elements(s.group), st.sampled_from(checks.symmetry_actions(s)))


def _has_equilibria(s):
    """Skip only when the prediction *refuses* the model (ModelError); any other error is a failure
    of the prediction and is reported as such when the invariant runs."""
    from ..errors import ModelError

    try:
        eqs = s.equilibria()
    except ModelError as exc:
        return f"no equilibrium prediction for this model: {exc}"
    except Exception:
        return None
    return None if eqs else f"{s.group.name} has no non-trivial irrep orbit"


@invariant("equilibria.stationary", _equilibrium_examples, applies=_has_equilibria,
           needs=("model", "fourier_rhs", "equilibria"), unpack=True)
def _stationary(system, position, h, action):
    """Predicted equilibria (moved by a symmetry) are stationary with energy Omega*."""
    checks.equilibrium_stationary(system, position, h, action)


def _spectrum_examples(s):
    return st.integers(0, len(s.equilibria()) - 1)


@invariant("spectrum.sign", _spectrum_examples, applies=_has_equilibria,
           needs=("model", "fourier_rhs", "equilibria", "spectrum"))
def _spectrum(system, position):
    """The predicted tangent spectrum equals the linearised flow's, with the predicted sign (stability)."""
    checks.spectrum_sign(system, position)


def _modular_examples(s):
    p = s.group.order
    ks = [k for k in range(1, (p - 1) // 2 + 1) if np.gcd(k, p) == 1]
    amp = st.floats(0.05, 2.0, allow_nan=False)
    ang = st.floats(-np.pi, np.pi, allow_nan=False)
    return st.tuples(amp, amp, ang, ang, st.sampled_from(ks))


def _conserved_examples(s):
    amp = st.floats(0.05, 2.0, allow_nan=False)
    return st.tuples(amp, amp, st.floats(-np.pi, np.pi, allow_nan=False))


@invariant("modular.matches-bruteforce", _modular_examples, needs=("modular_rates",), unpack=True)
def _modular(system, alpha, beta, phi, psi, k):
    """MA: the derived per-frequency ODE equals the projected brute-force gradient on Z_p."""
    checks.modular_matches_bruteforce(system, alpha, beta, phi, psi, k)


@invariant("modular.conserved", _conserved_examples, needs=("modular_rates",), unpack=True)
def _conserved(system, alpha, beta, D):
    """MA: I1 = alpha^2 - 2 beta^2 and I2 = alpha^2 beta sin D are conserved."""
    checks.modular_conserved(system, alpha, beta, D)


# ---------------------------------------------------------------------- building the system
def system_for(group=None, shared: bool = False, spheres: str | None = None, loss: str = "ce", activation=None,
               model=None) -> System:
    """The :class:`System` of a model: its group, transform, generated right-hand side (or the
    SymPy one when no generated code exists), integrator step and predictions.

    ``fourier_rhs`` runs the generated module (:func:`symflow.codegen.flow_kernels`) through the
    simulator's :class:`~symflow.dynamics.flow.FlowEvaluator`; ``sympy_rhs`` evaluates the SymPy
    block expressions directly (:func:`sympy_fourier_rhs`).

    ``group`` is a name or a Group (or pass a ready ``model``). Parts that do not exist for the
    model are left ``None`` with the reason in ``extras["missing:<part>"]`` (the runner reports
    the invariants that need them as skipped).
    """
    from ..groups import group as group_by_name
    from ..theory.model import Model

    if model is None:
        if group is None:
            raise SymflowError("system_for needs a group (name or Group) or a model")
        G = group_by_name(group) if isinstance(group, str) else group
        model = Model(G, shared=shared, spheres=spheres, activation=activation, loss=loss)
    G = model.group
    sys = System(group=G, model=model, label=repr(model))
    sys.extras["model"] = model.to_dict()
    try:
        model.require_block_flow()
        sympy_rhs = sympy_fourier_rhs(model)
    except SymflowError as exc:
        sympy_rhs = None
        sys.extras["missing:fourier_rhs"] = f"no reduced Fourier flow: {str(exc).split(';')[0]}"
        sys.extras["missing:sympy_rhs"] = sys.extras["missing:fourier_rhs"]
    if sympy_rhs is not None:
        generated, why, kernels = _generated_rhs(model)
        sys.sympy_rhs = sympy_rhs if generated is not None else None
        sys.fourier_rhs = generated if generated is not None else sympy_rhs
        if generated is None:
            sys.extras["missing:sympy_rhs"] = why
        else:
            sys.extras["generated_source"] = kernels.source
            sys.extras["generated_path"] = str(kernels.path)
            sys.extras["load_generated"] = lambda text: load_source(model, text)
        step, why = _integrator_step(model, sys)
        sys.step = step
        if step is None:
            sys.extras["missing:step"] = why
    if model.loss == "ce" and G.family == "cyclic" and G.order % 2 == 1 and G.order >= 3:
        sys.modular_rates = _modular_rates(G.order)
    else:
        sys.extras["missing:modular_rates"] = "modular addition needs Z_p with p odd and loss=ce"
    if model.loss == "ce":
        from ..theory import equilibria, rates

        cache = {}

        def eqs():
            if "eq" not in cache:
                cache["eq"] = equilibria.orbit_equilibria(model)
            return cache["eq"]

        sys.equilibria = eqs
        if model.neuron.constrained and model.is_bilinear:
            sys.spectrum = rates.spectrum
        else:
            sys.extras["missing:spectrum"] = "rates cover the quadratic CE model on spheres"
    else:
        sys.extras["missing:equilibria"] = "equilibria and rates are derived for loss=ce"
        sys.extras["missing:spectrum"] = sys.extras["missing:equilibria"]
    return sys


def sympy_fourier_rhs(model):
    """``fourier_rhs(coeffs) -> (velocities, omega)`` on the model's SymPy block flows through ``lambdify``
    (no generated code): the flow evaluator (:class:`~symflow.dynamics.flow.FlowEvaluator`, full rows)
    with the ``lambdify`` kernel backend. The reference of ``codegen.matches-sympy``: the same assembly,
    other kernels."""
    from ..dynamics.flow import FlowEvaluator

    return FlowEvaluator(model, backend="lambdify", use_symmetry=False).on_coefficients


def _modular_rates(p: int):
    """Lazy ``(alpha, beta, D) -> rates`` of :class:`symflow.theory.modular.ModularAdditionODE` for ``Z_p``."""

    def rates(alpha, beta, D):
        return _modular_ode(p)(alpha, beta, D, p)

    return rates


@lru_cache(maxsize=16)
def _modular_ode(p: int):
    from ..codegen import modular_rates
    from ..theory.modular import ModularAdditionODE

    return modular_rates(ModularAdditionODE(p))


def _generated_rhs(model):
    """``(fourier_rhs, None, kernels)`` running the generated NumPy module through the simulator's
    evaluator (:class:`symflow.dynamics.flow.FlowEvaluator`, what ``symflow simulate`` integrates)."""
    from ..codegen import flow_kernels

    kernels = flow_kernels(model)
    return _flow_with(model, kernels).on_coefficients, None, kernels


def rhs_from_module(model, module):
    """``fourier_rhs(coeffs) -> (velocities, omega)`` for a generated ``module`` (e.g. a mutated copy):
    the simulator's evaluator running ``module``'s block kernels."""
    from ..codegen.kernels import FlowKernels

    return _flow_with(model, FlowKernels.from_module(module)).on_coefficients


def _flow_with(model, kernels):
    """The simulator's :class:`~symflow.dynamics.flow.FlowEvaluator` of ``model`` running ``kernels``."""
    from ..dynamics.flow import FlowEvaluator

    return FlowEvaluator(model, kernels=kernels)


def load_source(model, source: str):
    """Import generated-module ``source`` (e.g. a mutated copy) from a private temporary file and
    return its ``fourier_rhs``."""
    import importlib.util
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="symflow_mutant_", suffix=".py")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.unlink(path)
    return rhs_from_module(model, module)


def _integrator_step(model, system):
    """``(step, None)`` with ``step(fourier_rhs, state, dt, retract=True) -> state``: one classical
    RK4 step of :class:`symflow.dynamics.steppers.GeometricRK` (ambient step, projection onto real
    signals, retraction onto the spheres) applied to the right-hand side ``fourier_rhs``; or
    ``(None, reason)`` for an unconstrained model."""
    from ..dynamics.state import FourierLayout
    from ..dynamics.steppers import GeometricRK

    if not model.neuron.constrained:
        return None, "unconstrained model: no spheres to retract onto"
    layout = FourierLayout.for_model(model)

    def step(fourier_rhs, state, dt, retract: bool = True):
        flow = _RhsAdapter(model, layout, fourier_rhs, retract)
        single = np.asarray(state[model.vector_names[0]]).ndim == 1
        y = flow.pack({k: model.group.fourier(np.atleast_2d(np.asarray(v, dtype=float))) for k, v in state.items()})
        y_new, _, _ = GeometricRK(dt=float(dt)).rk_step(flow, y, float(dt), flow.rhs(y))
        out = flow.unpack_real(y_new)
        return {k: v[0] for k, v in out.items()} if single else out

    return step, None


class _RhsAdapter:
    """The interface :class:`GeometricRK` needs (``evaluate``, ``rhs``, ``layout``) around a ``fourier_rhs``
    of a :class:`System`; ``retract=False`` turns the projection and retraction into no-ops."""

    def __init__(self, model, layout, fourier_rhs, retract: bool = True):
        self.model, self.fourier_rhs = model, fourier_rhs
        self.layout = layout if retract else _NoRetraction(layout)
        self._layout = layout

    def pack(self, coeffs: dict) -> np.ndarray:
        return self._layout.pack(coeffs)[0]

    def unpack(self, data: np.ndarray) -> dict:
        return self._layout.unpack(data)

    def unpack_real(self, data: np.ndarray) -> dict:
        from ..groups.fourier import inverse_fourier

        return {k: inverse_fourier(self.model.group, c, real=True) for k, c in self.unpack(data).items()}

    def evaluate(self, data: np.ndarray, out: np.ndarray | None = None, check: bool = True):
        """``(Omega, velocity)`` like :meth:`FlowEvaluator.evaluate` (``check`` is accepted and ignored)."""
        vel, omega = self.fourier_rhs(self.unpack(data))
        packed = self.pack(vel)
        if out is None:
            return np.asarray(omega), packed
        out[...] = packed
        return np.asarray(omega), out

    def rhs(self, data: np.ndarray) -> np.ndarray:
        return self.evaluate(data)[1]


class _NoRetraction:
    """A layout whose ``realify`` and ``retract`` do nothing (the ``no-retraction`` mutant)."""

    def __init__(self, layout):
        self._layout = layout

    def realify(self, data):
        return data

    def retract(self, data):
        return data

    def __getattr__(self, name):
        return getattr(self._layout, name)
