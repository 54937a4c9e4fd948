"""Deliberately broken systems: the catalogue must catch every one of them.

A mutant takes a :class:`~symflow.testing.checks.System` and returns a copy with one part
replaced (dependency injection; the original is untouched):

* ``sign-flip``: a sign flipped in the generated right-hand side. When the system runs generated
  code, the mutant edits the module's *source text* (every assignment to the drive of the last
  vector, ``xi`` for CE, is negated: ``drive_xi = -(...)``), imports the edited copy and uses it;
  otherwise it flips the same term numerically: ``dB/dt = -G - k Omega B`` instead of
  ``G - k Omega B``.
* ``missing-projection``: the tangent projection dropped, ``dB/dt = G`` (the Euclidean gradient;
  ``+ k Omega B`` added back on every block, trivial one included).
* ``wrong-normalisation``: the Fourier transform without its ``1/n``
  (``nu_hat[rho] = sum_g nu(g) rho(g)^*``), the inverse unchanged.
* ``no-retraction``: the geometric integrator without its projection and retraction (a plain
  ambient RK4 step, whose norms drift by ``O(dt^5)`` per step).

:data:`MUTANTS` maps each name to ``(apply, caught_by)``: the invariants that must fail.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import SymflowError
from ..groups.fourier import FourierCoefficients
from .checks import System


def _radial_coefficients(system: System) -> dict:
    return {k: float(system.model.trivial_flow[k]) for k in system.vector_names}


def _add_radial(system: System, vel: dict, coeffs: dict, omega, factor: float) -> dict:
    """``vel[k] + factor * c_k * Omega * coeffs[k]`` on every block."""
    c = _radial_coefficients(system)
    om = np.asarray(omega)
    out = {}
    for k, v in vel.items():
        blocks = {}
        for d, b in v.blocks.items():
            blocks[d] = b + factor * c[k] * om[..., None, None, None] * coeffs[k].blocks[d]
        out[k] = FourierCoefficients(system.group, blocks)
    return out


def sign_flip(system: System) -> System:
    """Flip the sign of the drive of the last vector (``xi`` for CE) in the right-hand side."""
    mutated = _source_sign_flip(system)
    if mutated is not None:
        return mutated
    rhs = system.fourier_rhs
    target = system.vector_names[-1]

    def flipped(coeffs):
        vel, omega = rhs(coeffs)
        # v = G - c Omega B  ->  -G - c Omega B = -v - 2 c Omega B
        neg = {k: (_scale(system, v, -1.0) if k == target else v) for k, v in vel.items()}
        fixed = _add_radial(system, {target: neg[target]}, coeffs, omega, -2.0)
        neg[target] = fixed[target]
        return neg, omega

    return system.replace(fourier_rhs=flipped, label=system.label + " [mutant: sign-flip]")


def _scale(system, coeffs, factor):
    return FourierCoefficients(system.group, {d: factor * b for d, b in coeffs.blocks.items()})


def _source_sign_flip(system: System) -> System | None:
    """Source-level mutant of the generated module, when the system exposes it
    (``system.extras["generated_source"]`` and ``["load_generated"]``); else ``None``."""
    source = system.extras.get("generated_source")
    load = system.extras.get("load_generated")
    if source is None or load is None:
        return None
    new = flip_drive_sign(source, system.vector_names[-1])
    return system.replace(fourier_rhs=load(new), label=system.label + " [mutant: sign-flip in generated code]")


def flip_drive_sign(source: str, name: str) -> str:
    """Negate the right-hand side of every assignment to ``drive_<name>`` (whole block or entry)
    in generated source: ``drive_xi[..., 0, 0] = x0*x1`` becomes ``... = -(x0*x1)``."""
    out, changed = [], 0
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if (stripped.startswith(f"drive_{name} =") or stripped.startswith(f"drive_{name}[")) and " = " in stripped \
                and "numpy.empty" not in stripped:
            lhs, rhs = line.rstrip("\n").split(" = ", 1)
            line = f"{lhs} = -({rhs})\n"
            changed += 1
        out.append(line)
    if not changed:
        raise SymflowError(f"no assignment to drive_{name} found in the generated code")
    return "".join(out)


def missing_projection(system: System) -> System:
    """Drop the tangent projection: return the Euclidean gradient ``G`` (``+ c Omega B`` added back)."""
    rhs = system.fourier_rhs

    def unprojected(coeffs):
        vel, omega = rhs(coeffs)
        return _add_radial(system, vel, coeffs, omega, +1.0), omega

    return system.replace(fourier_rhs=unprojected, label=system.label + " [mutant: missing-projection]")


def wrong_normalisation(system: System) -> System:
    """Forward transform without the ``1/n`` (inverse unchanged)."""
    fourier = system.fourier
    n = system.group.order

    def unnormalised(x):
        return _scale(system, fourier(x), float(n))

    return system.replace(fourier=unnormalised, label=system.label + " [mutant: wrong-normalisation]")


def no_retraction(system: System) -> System:
    """The integrator step without the projection onto real signals and the retraction."""
    step = system.step
    if step is None:
        raise SymflowError("this system has no integrator step to mutate")

    def ambient(fourier_rhs, state, dt):
        return step(fourier_rhs, state, dt, retract=False)

    return system.replace(step=ambient, label=system.label + " [mutant: no-retraction]")


#: name -> (mutant, invariants that must report it)
MUTANTS: dict[str, tuple[Callable[[System], System], tuple[str, ...]]] = {
    "sign-flip": (sign_flip, ("codegen.matches-sympy", "flow.fourier-vs-parameter", "flow.energy-monotone",
                              "equilibria.stationary")),
    "missing-projection": (missing_projection, ("flow.norm-preservation", "flow.fourier-vs-parameter",
                                                "equilibria.stationary")),
    "wrong-normalisation": (wrong_normalisation, ("fourier.definition", "fourier.plancherel",
                                                  "flow.fourier-vs-parameter")),
    "no-retraction": (no_retraction, ("integrator.geometric",)),
}


def mutate(system: System, name: str) -> System:
    """The mutant ``name`` (one of :data:`MUTANTS`) of ``system``."""
    if name not in MUTANTS:
        raise SymflowError(f"unknown mutant {name!r}; choose one of {', '.join(MUTANTS)}")
    return MUTANTS[name][0](system)
