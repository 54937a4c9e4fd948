"""The reduced Fourier-domain flow of a population of independent neurons: THE evaluator.

For each neuron (GC, Stage I; docs/theory.md section 3), on every nontrivial irrep block ``rho``

    d nu_hat[rho]/dt = drive_nu(blocks of rho) - radial_nu(Omega) nu_hat[rho]
    Omega = sum_{rho != 1} omega_block(blocks of rho)          (real for real signals)

and on the trivial block ``d nu_hat[1]/dt = -c_nu Omega nu_hat[1]``. For quadratic CE with
separate spheres ``drive_xi = (1/n) th2 th1``, ``drive_th1 = (1/n) th2^* xi``,
``drive_th2 = (1/n) xi th1^*``, ``radial = Omega``, ``c = 1``. The block formulas are derived by
the theory engine (:meth:`symflow.theory.Model.block_flow`); their numeric kernels come from a
backend behind one interface (:func:`symflow.codegen.flow_kernels`: the generated, cached NumPy
module, or ``sympy.lambdify`` of the same formulas), vectorised over neurons and over all irreps of
equal dimension. Cost per evaluation: ``O(M sum_rho d_rho^3)``, versus ``O(M n^2)`` in parameter space.

:class:`FlowEvaluator` is the only place where the flow is assembled from the block kernels. How the
state is stored is a strategy (:class:`StorageForm`) of that one evaluator:

* full rows (:class:`~symflow.dynamics.state.FourierLayout`): every irrep, ``Omega`` the complex sum;
* the cyclic half spectrum (``Z_n`` full rows): frequencies ``0..n//2`` through the kernels,
  ``n - k`` filled by conjugation;
* compact rows (:class:`~symflow.dynamics.state.CompactLayout`, :class:`CompactFlow`): one member of
  each complex-conjugate pair, ``Omega`` the weighted real sum (the half spectrum is the compact
  layout of ``Z_n``);

each also on the integrators' blocked working arrays (``layout=`` the blocked form
``layout.blocked(m)`` of :class:`~symflow.dynamics.state.SpectralLayout`).

``Im(Omega)`` is checked on every evaluation: it must be below ``OMEGA_IMAG_TOL`` times
``sum |omega_block|``; otherwise the state violates the reality constraint and
:class:`~symflow.errors.IntegrationError` is raised (the imaginary part is never dropped silently).
"""
from __future__ import annotations

import numpy as np

from ..errors import IntegrationError, ModelError
from ..groups.compact.signals import mass
from . import initial
from .state import FourierLayout, FourierState, mirror_cyclic_conjugates

#: Relative size of Im(Omega) (against sum |omega_block|) accepted as rounding.
OMEGA_IMAG_TOL = 1e-8
#: Relative asymmetry ``|nu_hat[n-k] - conj nu_hat[k]|`` (and ``|Im nu_hat[0]|``), against
#: ``max |nu_hat|``, that the cyclic half spectrum accepts as rounding of a real state.
CONJUGATE_ASYMMETRY_TOL = 1e-8


def _diverged() -> IntegrationError:
    return IntegrationError("the state became non-finite (nan or inf): the integration diverged; "
                            "lower the step size or tighten the tolerances")


def _check_imaginary(imag, size) -> None:
    """``|Im Omega| <= OMEGA_IMAG_TOL sum |omega_block|`` per neuron, else :class:`IntegrationError`."""
    if not (np.abs(imag) <= OMEGA_IMAG_TOL * size + 1e-300).all():
        worst = float(np.max(np.abs(imag) / np.maximum(size, 1e-300)))
        raise IntegrationError(f"Im(Omega) is {worst:.3g} relative to sum |omega_block| (> {OMEGA_IMAG_TOL}): the "
                               "state violates the reality constraint nu_hat[conj rho] = conj(nu_hat[rho])")


def _float_rows(a: np.ndarray, m: int) -> np.ndarray:
    """``(m, ...)`` complex array as ``(m, 2 * entries)`` float64 (a view when its rows are contiguous)."""
    a = np.asarray(a, dtype=np.complex128)
    if a.shape[0] != m:
        a = np.broadcast_to(a, (m,) + a.shape[1:])
    flat = a.reshape(m, -1)
    if flat.strides[-1] != 16:
        flat = np.ascontiguousarray(flat)
    return flat.view(np.float64)


# ---------------------------------------------------------------------------- storage forms
class StorageForm:
    """How an evaluator's rows store the blocks: which blocks go through the kernels
    (:meth:`kernel_blocks`), how ``Omega`` is reduced from the ``omega_block`` values (:meth:`energy`),
    where each velocity block is written (:meth:`velocity_view`) and what completes the velocity
    (:meth:`finish`). ``d nu/dt = drive - radial(Omega) nu`` is :meth:`update` on each block
    (complex arithmetic, ``Omega`` broadcast over the block axes ``omega_axes``)."""

    #: index turning ``Omega`` (M,) into the shape the radial coefficients multiply blocks with
    omega_axes = (slice(None), None, None, None)

    def update(self, v, g, c, b, m) -> None:
        """``v = g - c b`` in place."""
        np.multiply(c, b, out=v)
        np.subtract(g, v, out=v)

    def kernel_blocks(self, data, lay, names, d, check):
        return tuple(lay.view(data, nm, d) for nm in names)

    def velocity_view(self, out, lay, name, d):
        return lay.view(out, name, d)

    def finish(self, out, lay, names) -> None:
        pass


class FullRows(StorageForm):
    """Every irrep stored: ``Omega = sum`` of ``omega_block`` over nontrivial irreps (complex;
    ``Im`` checked against ``OMEGA_IMAG_TOL sum |omega_block|``)."""

    def energy(self, terms, check):
        omega = size = 0.0
        for d, om in terms:
            if d == 1:
                om = om[:, 1:]
            omega = omega + om.sum(axis=1)
            if check:
                size = size + np.abs(om).sum(axis=1)
        if not np.isfinite(omega).all():
            raise _diverged()
        if check:
            _check_imaginary(omega.imag, size)
        return omega.real


class CyclicHalfSpectrum(StorageForm):
    """``Z_n`` full rows evaluated on frequencies ``0..n//2`` (the compact layout of ``Z_n``), frequency
    ``n - k`` filled with the conjugate of ``k`` (exact for real signals).

    ``Omega = sum_{k=1}^{n-1} omega_k = 2 Re sum_{0<k<n/2} omega_k (+ omega_{n/2}, n even)``. The
    reality of the state is checked directly: ``|nu_hat[n-k] - conj nu_hat[k]| <= CONJUGATE_ASYMMETRY_TOL max |nu_hat|``.
    """

    def __init__(self, n: int):
        self.n, self.half = n, n // 2 + 1
        self.pairs = (n - 1) // 2   # frequencies 1..pairs have a distinct partner

    def kernel_blocks(self, data, lay, names, d, check):
        views = [lay.view(data, nm, 1) for nm in names]
        if check:
            for nm, v in zip(names, views):
                scale = float(np.abs(v).max(initial=0.0))
                asym = float(np.abs(v[:, 1:] - np.conj(v[:, :0:-1])).max(initial=0.0))
                if not np.isfinite(scale) or not np.isfinite(asym):
                    raise _diverged()
                if asym > CONJUGATE_ASYMMETRY_TOL * scale or abs(v[:, 0].imag).max(initial=0.0) > CONJUGATE_ASYMMETRY_TOL * scale:
                    raise IntegrationError(f"{nm}: nu_hat[n-k] differs from conj(nu_hat[k]) by "
                                           f"{asym / max(scale, 1e-300):.3g} (relative); the state violates the "
                                           "reality constraint nu_hat[conj rho] = conj(nu_hat[rho])")
        return tuple(v[:, :self.half] for v in views)

    def energy(self, terms, check):
        (_, om), = terms
        omega = 2.0 * om[:, 1:self.pairs + 1].real.sum(axis=1)
        if self.n % 2 == 0:
            omega = omega + om[:, self.n // 2].real
        if not np.isfinite(omega).all():
            raise _diverged()
        return omega

    def velocity_view(self, out, lay, name, d):
        return lay.view(out, name, 1)[:, :self.half]

    def finish(self, out, lay, names) -> None:
        for name in names:
            mirror_cyclic_conjugates(lay.view(out, name, 1))


class CompactRows(StorageForm):
    """One member of each conjugate pair stored (:class:`~symflow.dynamics.state.CompactLayout`):

        Omega = sum over stored nontrivial irreps of w_rho Re(omega_block[rho])

    with ``w = 2`` for pair representatives (``omega_block[conj rho] = conj(omega_block[rho])``) and
    ``w = 1`` for self-conjugate irreps, whose imaginary parts must be rounding (``OMEGA_IMAG_TOL``
    relative to ``sum w |omega_block|``). The velocity update runs on the float64 views (real
    coefficients: no complex casts; the stored blocks of compact rows are few and large)."""

    omega_axes = (slice(None), None)

    def update(self, v, g, c, b, m) -> None:
        vf = v.reshape(m, -1).view(np.float64)
        np.multiply(b.reshape(m, -1).view(np.float64), c, out=vf)
        np.subtract(_float_rows(g, m), vf, out=vf)

    def __init__(self, layout):
        #: float64-view weights: Re(omega_block) -> w (trivial irrep 0), Im -> 0; and Im of self-conjugate
        self._w_re, self._w_im, self._w_abs = {}, {}, {}
        for d in layout.dims:
            w = layout.slot_weight[d].copy()
            if d == 1:
                w[0] = 0.0
            self._w_re[d] = np.stack([w, np.zeros_like(w)], axis=-1).reshape(-1)
            sd = np.where(layout.paired[d], 0.0, w)
            self._w_im[d] = np.stack([np.zeros_like(w), sd], axis=-1).reshape(-1) if sd.any() else None
            self._w_abs[d] = w
        #: nontrivial self-conjugate irreps are stored: their Im(omega_block) must be checked
        self._any_self_conjugate = any(v is not None for v in self._w_im.values())

    def energy(self, terms, check):
        omega = imag = size = None
        for d, om in terms:
            om = np.ascontiguousarray(om, dtype=np.complex128)
            of = om.view(np.float64)
            contrib = of @ self._w_re[d]
            omega = contrib if omega is None else omega + contrib
            if check and self._any_self_conjugate:
                if self._w_im[d] is not None:
                    im = of @ self._w_im[d]
                    imag = im if imag is None else imag + im
                s = np.abs(om) @ self._w_abs[d]
                size = s if size is None else size + s
        if not np.isfinite(omega).all():
            raise _diverged()
        if check and imag is not None:
            _check_imaginary(imag, size)
        return omega


# ---------------------------------------------------------------------------- the evaluator
class EvaluatedFlow:
    """What the integrators use of a flow whose ``evaluate(data) -> (omega, velocity)`` runs on arrays
    stored in ``self.layout``: the velocity, ``Omega``, and the Plancherel speed of a velocity."""

    def rhs(self, data: np.ndarray) -> np.ndarray:
        """Velocity ``d data/dt`` (M, L)."""
        return self.evaluate(data)[1]

    def omega(self, data: np.ndarray) -> np.ndarray:
        """``Omega`` per neuron, shape (M,)."""
        return self.evaluate(data)[0]

    def speed(self, velocity: np.ndarray) -> np.ndarray:
        """Plancherel norm of a velocity per neuron (= |Riemannian gradient| on the spheres), (M,)."""
        return np.sqrt(np.maximum(self.layout.inner(velocity, velocity), 0.0))


class FlowEvaluator(EvaluatedFlow):
    """Right-hand side of the reduced flow for states of one model (see module docstring).

    Parameters
    ----------
    model : Model (:class:`symflow.dynamics.reduced.ReducedFlow` also takes a group name)
    style : {"auto", "entries", "matrix"}
        Generated code style per block dimension (see :mod:`symflow.codegen.generator`).
    use_symmetry : bool
        Cyclic groups ``Z_n``: evaluate the blocks of frequencies ``0..n//2`` only and fill
        frequency ``n - k`` with the complex conjugate (:class:`CyclicHalfSpectrum`; all ``n``
        blocks are still stored).
    backend : {"generated", "lambdify"}
        Where the block kernels come from (:func:`symflow.codegen.flow_kernels`).
    kernels : optional
        Ready kernels with the same interface (e.g. a generated module under test); overrides
        ``style``/``backend``.
    """

    def __init__(self, model, style: str = "auto", use_cache: bool = True, use_symmetry: bool = True,
                 backend: str = "generated", kernels=None):
        if kernels is None:
            # codegen (SymPy on a cache miss) is imported when a flow is built, not with symflow.dynamics
            from ..codegen.kernels import flow_kernels

            kernels = flow_kernels(model, style=style, use_cache=use_cache, backend=backend)
        self.model = model
        self.model.require_block_flow()
        self.layout = FourierLayout.for_model(self.model)
        self._use_kernels(kernels)
        self.n = mass(self.model.group)       # 1 on a compact group (Haar probability)
        self.evaluations = 0
        #: cyclic groups: evaluate frequencies 0..n//2 only and mirror (see CyclicHalfSpectrum)
        self.half_spectrum = bool(use_symmetry and self.layout.cyclic and self.n > 2)
        self.form = CyclicHalfSpectrum(self.n) if self.half_spectrum else FullRows()

    def _use_kernels(self, kernels) -> None:
        if tuple(kernels.names) != self.layout.names:
            raise ModelError(f"the flow kernels are for vectors {kernels.names}, the model has {self.layout.names}")
        missing = [d for d in self.layout.dims if d not in kernels.block_terms]
        if missing:
            raise ModelError(f"the flow kernels lack block dimensions {missing}")
        self.kernels = kernels
        self.trivial_rate = kernels.trivial_rate

    @property
    def names(self) -> tuple:
        return self.layout.names

    # ------------------------------------------------------------------ evaluation
    #: ``evaluate`` accepts ``layout=`` (a :class:`~symflow.dynamics.state.BlockedLayout` of the rows)
    blocked_evaluation = True

    def evaluate(self, data: np.ndarray, out: np.ndarray | None = None, check: bool = True, layout=None):
        """``(Omega, velocity)`` for state rows ``data`` (M, L) complex; ``Omega`` has shape (M,).

        ``out`` (M, L) complex receives the velocity if given. ``check=False`` skips the reality
        checks (integrators use it for intermediate stages; every accepted state is checked).
        ``layout``: how ``data`` is stored (default :attr:`layout`; the integrators pass a
        :class:`~symflow.dynamics.state.BlockedLayout`).
        """
        lay, names, n, form = layout or self.layout, self.names, self.n, self.form
        if out is None:
            out = np.empty(data.shape, dtype=np.complex128)
        parts, terms = [], []
        for d in lay.dims:
            blocks = form.kernel_blocks(data, lay, names, d, check)
            om, drives = self.kernels.block_terms[d](*blocks, n)
            terms.append((d, om))
            parts.append((d, blocks, drives))
        self.evaluations += 1
        omega = form.energy(terms, check)
        # d nu/dt = drive - radial(Omega) nu; on the trivial block -c_nu Omega nu
        coeffs = self.kernels.radial(omega[form.omega_axes])
        m = data.shape[0]
        for d, blocks, drives in parts:
            for name, g, c, b in zip(names, drives, coeffs, blocks):
                v = form.velocity_view(out, lay, name, d)
                form.update(v, g, c, b, m)
                if d == 1:
                    np.multiply((-self.trivial_rate[name] * omega)[:, None, None], b[:, 0], out=v[:, 0])
        form.finish(out, lay, names)
        return omega, out

    def state(self, data) -> FourierState:
        return FourierState(self.layout, data)

    def compact_flow(self) -> "CompactFlow | None":
        """The flow on compact rows (one member of each conjugate pair, see :class:`CompactFlow`), or
        ``None`` when the group has no complex-conjugate pairs (nothing to save) or the compact
        evaluation failed its self-check against :meth:`evaluate` (then the full rows are used)."""
        if "_compact" not in self.__dict__:
            self._compact = None
            if self.layout.compact.has_pairs:
                flow = CompactFlow(self)
                self._compact = flow if flow.self_check() else None
        return self._compact

    def on_coefficients(self, coeffs: dict) -> tuple:
        """``(velocities, Omega)`` for Fourier coefficients ``{name: FourierCoefficients}`` of any batch
        shape: ``velocities`` is ``{name: FourierCoefficients}``, ``Omega`` has the batch shape."""
        data, batch = self.layout.pack(coeffs)
        omega, velocity = self.evaluate(data)
        return self.layout.unpack(velocity, batch), omega.reshape(batch)

    def velocity_parameters(self, state: FourierState) -> dict:
        """The velocity mapped back to parameter space: ``{name: (M, n)}`` (for checks)."""
        _, v = self.evaluate(state.data)
        return FourierState(self.layout, v).to_parameters()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model!r}: blocks {self.layout.counts}, code {self.kernels.styles}>"


class CompactFlow(FlowEvaluator):
    """The reduced flow on compact rows (:class:`~symflow.dynamics.state.CompactLayout`).

    Real signals determine the block of ``conj rho`` from that of ``rho``, and the flow commutes with
    this symmetry, so only one member of each complex-conjugate pair is integrated: the block kernels
    run on the stored blocks only (about half of them for abelian groups and for groups such as F21
    whose nontrivial irreps come in pairs); ``Omega`` as in :class:`CompactRows`. Velocities of the
    stored blocks are those of :meth:`FlowEvaluator.evaluate`; :meth:`expand` gives full rows.
    Built by :meth:`FlowEvaluator.compact_flow`, which checks it against the full evaluation first.
    """

    def __init__(self, flow: FlowEvaluator):
        self.full = flow
        self.model, self.kernels, self.n = flow.model, flow.kernels, flow.n
        self.trivial_rate = flow.trivial_rate
        self.layout = flow.layout.compact
        self.evaluations = 0
        self.half_spectrum = False
        self.form = CompactRows(self.layout)

    def compress(self, data: np.ndarray) -> np.ndarray:
        return self.layout.compress(data)

    def expand(self, data: np.ndarray) -> np.ndarray:
        return self.layout.expand(data)

    def compact_flow(self) -> None:
        return None

    def self_check(self, width: int = 3, seed: int = 20240531, rtol: float = 1e-10) -> bool:
        """Compact and full evaluation agree on random real states (Omega and velocities, relative ``rtol``)."""
        y = initial.uniform(self.model, width, seed).data
        try:
            om_full, v_full = self.full.evaluate(y)
            om_c, v_c = self.evaluate(self.compress(y))
        except (IntegrationError, ModelError, ValueError):
            return False
        scale = max(float(np.abs(v_full).max()), 1e-300)
        return bool(np.allclose(om_c, om_full, rtol=rtol, atol=rtol * float(np.abs(om_full).max()))
                    and np.abs(self.expand(v_c) - v_full).max() <= rtol * scale)

    def __repr__(self) -> str:
        return f"<CompactFlow {self.model!r}: stored blocks {self.layout.counts} of {self.full.layout.counts}>"


def fourier_velocity(model, state: dict, backend: str = "lambdify") -> tuple:
    """The reduced flow of ``model`` at ``state`` in Fourier space: ``(velocities, Omega)``.

    ``state``: ``{name: (..., n) real parameter-space array or FourierCoefficients}`` with the model's
    vector names. The kernels come from ``backend`` (default ``"lambdify"``: the SymPy block flows
    themselves, independent of the generated code), assembled by :class:`FlowEvaluator` like every
    other evaluation of the flow. Coefficients that are not those of real signals raise
    :class:`~symflow.errors.SymflowError`.
    """
    from ..errors import SymflowError
    from ..groups.fourier import FourierCoefficients

    G, names = model.group, model.vector_names
    if not isinstance(state, dict) or set(state) != set(names):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise SymflowError(f"state must be a dict with keys {names}, got {got}")
    coeffs = {k: v if isinstance(v, FourierCoefficients) else G.fourier(np.asarray(v, dtype=float))
              for k, v in state.items()}
    try:
        return FlowEvaluator(model, backend=backend, use_symmetry=False).on_coefficients(coeffs)
    except IntegrationError as exc:
        raise SymflowError(f"the energy computed from these Fourier coefficients is not real ({exc}): the "
                           "coefficients are not those of real signals (nu_hat[conj rho] must be "
                           "conj(nu_hat[rho]))") from None
