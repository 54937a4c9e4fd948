"""The model: one neuron of the two-layer network of docs/theory.md section 2 (or Li2, section 7).

A :class:`Model` fixes everything the derivations depend on:

* the group ``G`` (order ``n``), by name or as a :class:`~symflow.groups.group.Group`;
* the loss: ``"ce"``, cross-entropy in the small-logit regime (GC), per neuron the energy
  ``E = (1/2) n^-2 sum_{g1,g2} xi~(g1 g2) sigma(theta1(g1) + theta2(g2))`` (``xi~`` centred; the
  factor ``1/2`` makes ``sigma = z^2`` give exactly GC's ``Omega`` in GC's time unit ``c = 2a/M``);
  or ``"mse"``, Li2's sample-centred MSE, ``E = (1/2) sum_h (z_h - mean z)^2`` with
  ``z_h = sum_{ab = h} sigma(u(a) + v(b))``;
* the activation ``sigma``, a polynomial in ``z`` (default ``z**2``); for the MSE loss also any other
  activation of the one vocabulary (relu, silu: brute force and the landscape's ascent only, no derivation);
* for the MSE loss a training ``mask`` (Li2's energy on a subset of the table, see
  :mod:`symflow.neuron.bruteforce`; part of :meth:`Model.key`);
* shared (``theta1 = theta2``) or unshared input embeddings;
* the constraint: ``"sphere"`` (Stage I; ``spheres="separate"``: every vector on its own unit
  sphere, ``"joint"``: ``[theta1; theta2]`` on one sphere, as in the GC authors' code) or ``"none"``
  (plain gradient ascent, no radial terms).

Per neuron the network decouples (docs/theory.md section 2), so the model is width-free. The model
derives: :meth:`Model.energy` (parameter space and Fourier space, with an exact proof of their
equality for the group), :meth:`Model.block_flow` (the Riemannian flow of one generic irrep block
of dimension ``d``) and :attr:`Model.trivial_flow`.

The neuron's variant (loss, shared, spheres, constraint: vector names, input roles, sphere groups)
is one :class:`~symflow.neuron.Neuron`, ``model.neuron``; the model's ``input_names``,
``vector_names``, ``spheres``, ... are read-only views of it (which vectors share a sphere:
``model.neuron.sphere_groups``).

Start-up: building a model with the default activation and computing :meth:`Model.key` does not
import SymPy (the activation is parsed on first use); SymPy is imported where a derivation runs.
"""
from __future__ import annotations

import hashlib
from functools import cached_property

import numpy as np

from ..errors import ModelError, SymflowError
from ..groups import as_group
from ..groups.group import Group
from ..neuron import Neuron
from ..neuron.activation import as_activation, polynomial_activation_of
from ..neuron.bruteforce import training_counts
from .scope import notes, warn_if_unrepresentable

#: Block flows depend on the settings and d only (not on the group): derived once per process.
_FLOW_CACHE: dict = {}

#: Families whose name identifies the group (other groups are keyed by a hash of their table).
NAMED_FAMILIES = ("cyclic", "abelian", "dihedral", "symmetric", "alternating", "frobenius",
                  "dicyclic", "quaternion", "gap")


def cross_terms(activation) -> tuple:
    """Binomial expansion of ``sigma(x + y)`` without the pure terms: ``((a, b, coef), ...)``.

    ``sigma(x + y) = sum_{a, b} coef_{ab} x^a y^b``; terms with ``a = 0`` or ``b = 0`` are dropped
    because they vanish in the energy (``sum_{g2} xi~(g1 g2) = 0`` for CE; a constant in ``h``
    removed by the centring for MSE). Sorted by total degree, then ``a``.
    """
    import sympy as sp

    from .symbols import Z

    x, y = sp.symbols("x y")
    poly = sp.Poly(sp.expand(activation.subs(Z, x + y)), x, y)
    terms = [(int(a), int(b), sp.Rational(c)) for (a, b), c in poly.terms() if a > 0 and b > 0 and c != 0]
    return tuple(sorted(terms, key=lambda t: (t[0] + t[1], t[0])))


class Model:
    """One neuron of the two-layer group-composition network; see the module docstring.

    >>> from symflow import Model
    >>> m = Model("F21")
    >>> m.vector_names, m.neuron.sphere_groups
    (('theta1', 'theta2', 'xi'), (('theta1',), ('theta2',), ('xi',)))
    >>> Model("Z7", shared=True).neuron.roles
    ('theta', 'theta', 'xi')

    Parameters
    ----------
    group : str, Group or Cayley table
        Anything :func:`~symflow.groups.names.as_group` accepts.
    shared : bool
        ``theta1 = theta2`` (one input embedding).
    spheres : {"separate", "joint"} or None
        ``None`` means ``"separate"`` for CE (GC's paper) and ``"joint"`` for MSE (Li2: each hidden
        unit ``w = [u; v]`` on one sphere).
    activation : None, str or SymPy expression
        Polynomial in ``z`` (or ``quad`` and its aliases ``x^2``, ``sqr``: the one vocabulary of
        :mod:`symflow.neuron.activation`); default ``z**2``.
    loss : {"ce", "mse"}
    constraint : {"sphere", "none"}
        ``"none"``: the flow is the plain gradient, with no ``-Omega`` terms.
    mask : None or boolean (n, n) array
        MSE only: the training entries ``(g1, g2)`` of the table (Li2's empirical energy); ``None`` or a full
        mask is the whole table. A proper mask has no Fourier form and no reduced flow.
    """

    def __init__(self, group, shared: bool = False, spheres: str | None = None, activation=None,
                 loss: str = "ce", constraint: str = "sphere", mask=None):
        self.group = group if getattr(group, "is_compact", False) else as_group(group)
        self.neuron = Neuron(loss=loss, shared=shared, spheres=spheres, constraint=constraint)
        self._activation_input = activation
        self.mask, self.training = _training(self.group, self.neuron, mask)
        if activation is not None:  # parse now so that a bad activation fails here, not on first use
            self.sigma = _activation(activation, self.neuron)
            if self.sigma.is_polynomial:
                self.activation = self.sigma.expression
            if self.sigma.is_polynomial and not self.cross_terms:
                raise ModelError(f"activation {self.activation_text} has no term of degree >= 2, so "
                                 f"sigma(theta1(g1) + theta2(g2)) has no cross term and the energy vanishes "
                                 f"identically; use e.g. 'z**2'")
        self._flows: dict = {}
        self._energy = None
        if self.is_compact:
            _check_compact(self, mask)
            return
        warn_if_unrepresentable(self)

    # ------------------------------------------------------------------ the neuron (views of self.neuron)
    @property
    def loss(self) -> str:
        return self.neuron.loss

    @property
    def shared(self) -> bool:
        return self.neuron.shared

    @property
    def spheres(self) -> str:
        """``"separate"`` or ``"joint"`` (see :class:`~symflow.neuron.Neuron`)."""
        return self.neuron.spheres

    @property
    def constraint(self) -> str:
        """``"sphere"`` (Stage I, projected flow) or ``"none"`` (plain gradient)."""
        return self.neuron.constraint

    @property
    def input_names(self) -> tuple:
        """Names of the two input embeddings ``(first, second)`` (equal when shared)."""
        return self.neuron.input_names

    @property
    def output_name(self) -> str | None:
        """Name of the output vector (``"xi"`` for CE, ``None`` for MSE)."""
        return self.neuron.output_name

    @property
    def vector_names(self) -> tuple:
        """The neuron's vectors: CE ``(theta1, theta2, xi)`` / ``(theta, xi)``; MSE ``(u, v)`` / ``(u,)``."""
        return self.neuron.vector_names

    # ------------------------------------------------------------------ the activation
    @cached_property
    def sigma(self):
        """The activation, a polynomial :class:`~symflow.neuron.activation.Activation` (the quadratic by
        default, without SymPy; see :func:`~symflow.neuron.activation.polynomial_activation_of`)."""
        return polynomial_activation_of(self._activation_input)

    @cached_property
    def activation(self):
        """``sigma`` as a SymPy polynomial in ``z`` (parsed on first use)."""
        return self.sigma.expression

    @cached_property
    def activation_text(self) -> str:
        """Canonical text of the activation (``sympy.sstr``; a non-polynomial's name); ``"z**2"`` by default,
        without SymPy."""
        return self.sigma.text or self.sigma.name

    @cached_property
    def cross_terms(self) -> tuple:
        """:func:`cross_terms` of the activation."""
        return cross_terms(self.activation)

    @property
    def is_bilinear(self) -> bool:
        """True when only the ``theta1 theta2`` cross term survives (quadratic activation).

        Then the energy is a sum of independent per-irrep-block terms in the Fourier coordinates
        (bilinear in ``(theta1, theta2)`` and linear in ``xi`` for CE; ``||v_hat u_hat||^2`` for
        MSE), and the reduced per-block flow exists. Higher powers couple blocks through the
        Fourier transforms of pointwise powers.
        """
        if self._activation_input is None:
            return True
        if not self.sigma.is_polynomial:
            return False
        return len(self.cross_terms) == 1 and self.cross_terms[0][:2] == (1, 1)

    # ------------------------------------------------------------------ identity
    def to_dict(self) -> dict:
        """JSON-able settings (with the group's name and order; ``mask``, the training mask's digest, only
        when the model has one)."""
        out = {"group": self.group.name, "order": self.group.order, "shared": self.shared,
               "spheres": self.spheres, "activation": self.activation_text, "loss": self.loss,
               "constraint": self.constraint}
        if self.mask is not None:
            out["mask"] = self.mask_digest
        if self.is_compact:
            out.update(bandlimit=self.group.bandlimit, normalisation=COMPACT_NORMALISATION)
        return out

    @property
    def is_compact(self) -> bool:
        """True on a band-limited compact group (docs/theory.md section 13: Haar probability, unit ``L^2``
        spheres; the parameter space is the orthonormal real coordinates, :mod:`symflow.groups.compact.signals`)."""
        return bool(getattr(self.group, "is_compact", False))

    @property
    def is_masked(self) -> bool:
        """True when the energy is Li2's on a proper subset of the table (``mask``)."""
        return self.mask is not None

    @cached_property
    def mask_digest(self) -> str | None:
        """``"<entries>/<n^2>#<sha1[:12]>"`` of the training mask (``None`` without one)."""
        if self.mask is None:
            return None
        digest = hashlib.sha1(np.packbits(self.mask).tobytes()).hexdigest()[:12]
        return f"{int(self.mask.sum())}/{self.mask.size}#{digest}"

    def settings_key(self) -> str:
        """Stable key of the settings that block formulas depend on (everything but the group; the mask's
        digest when there is one, so that nothing derived for a masked model is mixed with another)."""
        key = (f"loss={self.loss};shared={int(self.shared)};spheres={self.spheres};"
               f"activation={self.activation_text};constraint={self.constraint}")
        return key + (f";mask={self.mask_digest}" if self.mask is not None else "")

    def key(self) -> str:
        """Stable string for hashing and caching: group identity plus all settings."""
        g = self.group
        if self.is_compact:
            return f"{g.name}/L{g.bandlimit};{self.settings_key()}"
        gid = f"{g.name}/{g.order}"
        if g.family not in NAMED_FAMILIES:
            gid += "#" + hashlib.sha1(np.ascontiguousarray(g.table, dtype=np.int64).tobytes()).hexdigest()[:12]
        return f"{gid};{self.settings_key()}"

    def __eq__(self, other):
        return isinstance(other, Model) and other.key() == self.key()

    def __hash__(self):
        return hash(self.key())

    # ------------------------------------------------------------------ derivations
    def energy(self):
        """The :class:`~symflow.theory.energy.EnergyFunctional` of this model (cached); ModelError for a
        masked model or a non-polynomial activation (no Fourier form: use symflow.neuron.bruteforce)."""
        if self.mask is not None or not self.sigma.is_polynomial:
            raise ModelError(f"the derived energy (parameter and Fourier form) needs the full table and a "
                             f"polynomial activation; {self!r} has "
                             f"{'a training mask' if self.mask is not None else 'sigma = ' + self.activation_text}: "
                             f"use symflow.neuron.bruteforce.energy(model, x)")
        if self._energy is None and self.is_compact:
            from .bandlimited import CompactEnergy

            self._energy = CompactEnergy(self)
        if self._energy is None:
            from .energy import EnergyFunctional

            self._energy = EnergyFunctional(self)
        return self._energy

    @classmethod
    def coerce(cls, model, shared: bool | None = None, spheres: str | None = None) -> "Model":
        """The one model coercion: a :class:`Model` as is, or ``Model(model, shared, spheres)`` for
        anything :class:`Model` accepts as its group (a name, a Group, a Cayley table).

        ``shared`` / ``spheres`` (``None``: the defaults) must agree with a Model given; a conflict or
        an input that is no group raises :class:`ModelError` (or the group parser's one-line error).
        """
        if isinstance(model, Model):
            if shared is not None and bool(shared) != model.shared:
                raise ModelError(f"shared={shared} conflicts with the model given ({model!r})")
            if spheres is not None and spheres != model.spheres:
                raise ModelError(f"spheres={spheres!r} conflicts with the model given ({model!r})")
            return model
        if not isinstance(model, (str, Group, list, tuple, np.ndarray)) and not getattr(model, "is_compact", False):
            raise ModelError(f"expected a symflow Model, a Group or a group name (or a Cayley table), "
                             f"got {type(model).__name__}")
        try:
            return cls(model, shared=bool(shared) if shared is not None else False, spheres=spheres)
        except SymflowError:
            raise
        except Exception as exc:  # pragma: no cover - defensive
            raise ModelError(f"cannot build a model from {model!r}: {exc}") from None

    def require_stage_one(self) -> None:
        """Raise :class:`ModelError` unless this is the setting where equilibria and rates are derived:
        GC's Stage I (CE loss, quadratic activation, sphere constraint)."""
        if self.constraint != "sphere":
            raise ModelError("equilibria and rates live on the spheres of Stage I; this model has "
                             f"constraint={self.constraint!r} (no sphere, Omega grows without bound)")
        if not self.is_bilinear:
            raise ModelError(f"equilibria and rates are derived for the quadratic activation z**2; this model "
                             f"has sigma = {self.activation_text}")
        if self.loss != "ce":
            raise ModelError(f"equilibria and rates are derived for the cross-entropy energy Omega "
                             f"(loss='ce'); got loss={self.loss!r}")

    def require_block_flow(self) -> None:
        """Raise :class:`ModelError` unless the reduced per-block Fourier flow exists."""
        if self.mask is not None:
            raise ModelError("reduced flow needs the full table: a training mask breaks the Fourier block "
                             "structure of the energy; the brute-force energy and gradient "
                             "(symflow.neuron.bruteforce) and the landscape's ascent (search='ascent') handle it")
        if not self.sigma.is_polynomial:
            raise ModelError(f"reduced flow needs a quadratic activation; sigma = {self.activation_text} is not a "
                             f"polynomial (the brute-force energy and the landscape's ascent, search='ascent', "
                             f"handle it)")
        if not self.is_bilinear:
            raise ModelError(
                f"reduced flow needs a quadratic activation (the energy must be a sum of independent "
                f"irrep blocks); sigma = {self.activation_text} has cross terms "
                f"{', '.join(f'theta1^{a} theta2^{b}' for a, b, _ in self.cross_terms)} whose Fourier "
                f"form uses pointwise powers and couples all blocks. The parameter-space energy and "
                f"gradient are still available: Model.energy().parameter_space / .gradient()")

    def block_flow(self, d: int):
        """The :class:`~symflow.theory.flow.BlockFlow` of a generic nontrivial irrep block of dimension ``d``.

        Derived once per ``(settings, d)`` (not per group or neuron) and cached.
        """
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ModelError(f"block dimension d must be a positive integer, got {d!r}")
        d = int(d)
        if d not in self._flows:
            from .flow import derive_block_flow

            self.require_block_flow()
            key = (self.settings_key(), d)
            if key not in _FLOW_CACHE:
                _FLOW_CACHE[key] = derive_block_flow(self, d)
            self._flows[d] = _FLOW_CACHE[key]
        return self._flows[d]

    def block_flows(self) -> dict:
        """``{d: BlockFlow}`` for every irrep dimension of the group."""
        return {d: self.block_flow(d) for d in sorted(self.group.irreps_by_dim)}

    @cached_property
    def trivial_flow(self) -> dict:
        """``{name: c}`` with ``d nu_hat[1]/dt = -c * Omega * nu_hat[1]`` on the trivial block (zero drive)."""
        import sympy as sp

        from .symbols import OMEGA

        bf = self.block_flow(1)
        return {name: sp.simplify(bf.radial[name] / OMEGA) for name in self.vector_names}

    @property
    def scope(self) -> list:
        """One-line notes on what the theorems do not cover for this model (:mod:`symflow.theory.scope`)."""
        return notes(self)

    # ------------------------------------------------------------------ display
    def describe(self) -> str:
        act = self.activation_text
        kind = "shared" if self.shared else "unshared"
        loss = "cross-entropy (small-logit)" if self.loss == "ce" else "sample-centred MSE (Li2)"
        if self.is_compact:
            return (f"{self.group.name} (band limit {self.group.bandlimit}; {COMPACT_NORMALISATION}), {kind} "
                    f"embeddings, sigma(z) = {act}, {loss}, "
                    + self.neuron.describe_spheres().replace("S^{n-1}", f"S^{{D-1}}") + f", D = {self.group.coordinates}")
        return (f"{self.group.name} (n={self.group.order}), {kind} embeddings, sigma(z) = {act}, {loss}, "
                f"{self.neuron.describe_spheres()}")

    def __repr__(self) -> str:
        mask = f", mask={self.mask_digest!r}" if self.mask is not None else ""
        if self.is_compact:
            mask = f", bandlimit={self.group.bandlimit}"
        return (f"Model({self.group.name!r}, shared={self.shared}, spheres={self.spheres!r}, "
                f"activation={self.activation_text!r}, loss={self.loss!r}, constraint={self.constraint!r}{mask})")

    def _repr_latex_(self) -> str:
        from .display import model_latex

        return "$" + model_latex(self) + "$"


#: The units of every result on a compact group (docs/theory.md section 13).
COMPACT_NORMALISATION = "Haar probability measure, unit L^2 spheres (band-limited)"


def _check_compact(model, mask) -> None:
    """One-line refusals of what has no band-limited version: the MSE energy, a training mask, an activation
    other than the quadratic (its pointwise powers leave the band, so the energy on band-limited functions is no
    longer closed under the flow)."""
    G = model.group
    what = f"{G.name} (band limit {G.bandlimit}) is a compact group"
    if model.loss != "ce" or mask is not None:
        raise ModelError(f"{what}: its model is GC's cross-entropy energy with Haar integrals (loss='ce', no training "
                         f"mask); Li2's MSE energy and training masks sum over the n^2 table entries of a finite group")
    if not model.is_bilinear:
        raise ModelError(f"{what}: the activation must be the quadratic z**2 (sigma = {model.activation_text} has "
                         f"pointwise powers of band > L, so the flow leaves the band-limited functions)")


def _activation(spec, neuron):
    """The model's activation: a polynomial (what the theory derives with), or for the MSE loss any activation
    of the one vocabulary (:func:`~symflow.neuron.activation.as_activation`)."""
    if neuron.loss == "mse":
        return as_activation(spec)
    try:
        return polynomial_activation_of(spec)
    except ModelError as exc:
        raise ModelError(f"{exc} (non-polynomial activations: loss='mse' only, Li2's model)") from None


def _training(group, neuron, mask) -> tuple:
    """``(mask, (M, N_h, N))`` of a proper training mask (read-only), ``(None, None)`` for ``None`` or a full one."""
    if mask is None:
        return None, None
    if neuron.loss != "mse":
        raise ModelError("a training mask is defined for the MSE (Li2) energy only; use loss='mse' or mask=None")
    M, counts = training_counts(group, mask)
    if M.all():
        return None, None
    M = M.copy()
    M.flags.writeable = False
    return M, (M, counts, int(counts.sum()))


