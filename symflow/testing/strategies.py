"""Hypothesis strategies for groups, irreps, signals, neuron states and model definitions.

Every strategy draws *small* objects so a property runs in milliseconds:

* :func:`group_names` / :func:`groups` - named families (``Z_n``, products, ``D_n``, ``Q8``,
  ``Dic_n``, ``S_n`` (n <= 4), ``A_n`` (n <= 5), Frobenius ``F21``/``F20``/...) and random
  products of cyclic groups;
* :func:`relabelled_tables` / :func:`table_groups` - Cayley tables of small named groups with
  the elements shuffled (so :meth:`symflow.groups.group.Group.from_table` and the numeric irrep
  construction are exercised), and :func:`broken_tables` - tables violating an axiom;
* :func:`signals`, :func:`sphere_points`, :func:`neuron_states`, :func:`fourier_states`,
  :func:`orbit_states` - real signals ``(..., n)``, unit vectors and neurons
  ``(theta1, theta2, xi)`` on the model's product of spheres;
* :func:`model_definitions` - keyword dictionaries for ``symflow.theory.model.Model``.

Float entries are drawn from ``[-1, 1]`` without NaN/inf/subnormals; vectors of norm below
``1e-3`` are rejected before normalising, so every drawn point is well conditioned.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..groups import group as group_by_name

from ..groups.group import Group
from ..neuron import SPHERES, Neuron

#: Named small groups per family.
FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "cyclic": tuple(f"Z{n}" for n in range(1, 13)),
    "product": ("Z2xZ2", "Z2xZ3", "Z2xZ4", "Z3xZ3", "Z2xZ2xZ2", "Z2xZ6", "Z3xZ5", "Z4xZ4"),
    "dihedral": tuple(f"D{n}" for n in range(1, 9)),
    "quaternion": ("Q8",),
    "dicyclic": ("Dic2", "Dic3", "Dic4", "Dic5"),
    "symmetric": ("S1", "S2", "S3", "S4"),
    "alternating": ("A1", "A2", "A3", "A4", "A5"),
    "frobenius": ("F6", "F10", "F20", "F21", "C7:C3"),
}

#: Smallest norm accepted before a drawn vector is normalised.
MIN_NORM = 1e-3

_FLOATS = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


@lru_cache(maxsize=None)
def _order_of(name: str) -> int:
    return group_by_name(name).order


def named_groups_list(families=None, max_order: int | None = None) -> list[str]:
    """Names of the small named groups in ``families`` (default: all), ``|G| <= max_order``."""
    fams = list(FAMILY_NAMES) if families is None else list(families)
    unknown = [f for f in fams if f not in FAMILY_NAMES]
    if unknown:
        raise ValueError(f"unknown group families {unknown}; known: {list(FAMILY_NAMES)}")
    names = [nm for f in fams for nm in FAMILY_NAMES[f]]
    if max_order is not None:
        names = [nm for nm in names if _order_of(nm) <= max_order]
    return names


@st.composite
def random_products(draw, max_order: int = 24, max_factors: int = 3):
    """Name of a random product of cyclic groups ``Z_a x Z_b x ...`` of order ``<= max_order``."""
    k = draw(st.integers(1, max_factors))
    factors = []
    for _ in range(k):
        left = max_order // int(np.prod(factors or [1]))
        if left < 2:
            break
        factors.append(draw(st.integers(2, min(left, 8))))
    if not factors:
        factors = [draw(st.integers(1, max_order))]
    return "x".join(f"Z{f}" for f in factors)


def group_names(families=None, max_order: int | None = 60, products: bool = True):
    """Strategy for group names: the named families and random cyclic products."""
    names = named_groups_list(families, max_order)
    options = [st.sampled_from(names)] if names else []
    if products and (families is None or "product" in families):
        options.append(random_products(max_order=min(max_order or 24, 24)))
    if not options:
        raise ValueError(f"no groups available for families {families}")
    return st.one_of(*options)


def groups(families=None, max_order: int | None = 60, products: bool = True):
    """Strategy for :class:`~symflow.groups.group.Group` objects (see :func:`group_names`)."""
    return group_names(families, max_order, products).map(group_by_name)


# ---------------------------------------------------------------------- Cayley tables
def relabel_table(table: np.ndarray, perm) -> np.ndarray:
    """The Cayley table after renaming element ``i`` to ``perm[i]``:
    ``new[perm[i], perm[j]] = perm[table[i, j]]``."""
    perm = np.asarray(perm, dtype=np.int64)
    t = np.asarray(table)
    new = np.empty_like(t)
    new[perm[:, None], perm[None, :]] = perm[t]
    return new


@st.composite
def relabelled_tables(draw, names=("Z4", "Z2xZ2", "S3", "D4", "Q8", "Z6", "D5", "A4", "F21"), max_order: int = 24):
    """``(table, base_name, perm)``: the Cayley table of a small named group with shuffled elements."""
    usable = [nm for nm in names if _order_of(nm) <= max_order]
    name = draw(st.sampled_from(usable))
    G = group_by_name(name)
    perm = np.array(draw(st.permutations(range(G.order))), dtype=np.int64)
    return relabel_table(G.table, perm), name, perm


def table_groups(names=("Z4", "Z2xZ2", "S3", "D4", "Q8", "Z6", "D5", "A4", "F21"), max_order: int = 24):
    """Strategy for :class:`Group` objects built by :meth:`Group.from_table` from relabelled tables
    (their irreps come from the numeric construction)."""
    return relabelled_tables(names, max_order).map(lambda tnp: Group.from_table(tnp[0], name=f"{tnp[1]}~table"))


@st.composite
def broken_tables(draw, names=("Z3", "Z4", "Z2xZ2", "S3", "D4", "Z5")):
    """``(table, kind)``: a table that is *not* a group table.

    ``kind`` is ``"closure"`` (an entry outside ``0..n-1``) or ``"latin"`` (one entry changed,
    so a row repeats an element; such a table always violates identity, inverses or associativity).
    """
    name = draw(st.sampled_from(list(names)))
    G = group_by_name(name)
    n = G.order
    t = relabel_table(G.table, draw(st.permutations(range(n))))
    i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(["closure", "latin"]))
    t = t.copy()
    if kind == "closure":
        t[i, j] = draw(st.sampled_from([-1, n, n + 3]))
    else:
        t[i, j] = (t[i, j] + draw(st.integers(1, n - 1))) % n
    return t, kind


# ---------------------------------------------------------------------- irreps and elements
def irrep_indices(group, nontrivial: bool = False):
    """Strategy for an index into ``group.irreps``."""
    lo = 1 if nontrivial and len(group.irreps) > 1 else 0
    return st.integers(lo, len(group.irreps) - 1)


def irreps(group):
    """Strategy for an :class:`~symflow.groups.irrep.Irrep` of ``group``."""
    return st.sampled_from(group.irreps)


def elements(group):
    """Strategy for an element index of ``group``."""
    return st.integers(0, group.order - 1)


# ---------------------------------------------------------------------- signals and spheres
def signals(n: int, batch: tuple = ()):
    """Real signals of shape ``batch + (n,)`` with entries in ``[-1, 1]`` and norm >= MIN_NORM."""

    def ok(x):
        return bool(np.all(np.linalg.norm(x, axis=-1) >= MIN_NORM))

    size = int(np.prod(batch, dtype=int)) * n
    shape = tuple(batch) + (n,)
    # a list of independent floats shrinks entry by entry (towards sparse, readable vectors)
    return st.lists(_FLOATS, min_size=size, max_size=size).map(lambda v: np.array(v, dtype=float).reshape(shape)).filter(ok)


def _normalise(x, axis=-1):
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


def sphere_points(n: int, batch: tuple = ()):
    """Unit vectors in ``R^n`` (shape ``batch + (n,)``)."""
    return signals(n, batch).map(_normalise)


@st.composite
def neuron_states(draw, group, shared: bool = False, spheres: str = "separate", neurons: int | None = None):
    """``(theta1, theta2, xi)`` on the product of spheres of ``Neuron(shared=..., spheres=...)``.

    ``shared=True`` gives ``theta2 = theta1`` (same array; ``spheres`` is then moot);
    ``spheres="joint"`` puts ``[theta1; theta2]`` on one unit sphere. ``neurons=M`` draws a batch
    of shape ``(M, n)``.
    """
    n = group.order
    batch = () if neurons is None else (int(neurons),)
    neuron = Neuron(shared=shared, spheres="separate" if shared else spheres)
    # the output's sphere is drawn first (the order seeded examples have always used)
    spheres_in_draw_order = sorted(neuron.sphere_groups, key=lambda s: neuron.output_name not in s)
    vectors = {}
    for sphere in spheres_in_draw_order:
        point = draw(sphere_points(n * len(sphere), batch))
        for i, name in enumerate(sphere):
            vectors[name] = point if len(sphere) == 1 else point[..., i * n:(i + 1) * n].copy()
    return tuple(vectors[name] for name in neuron.roles)


def fourier_states(group, shared: bool = False, spheres: str = "separate", neurons: int | None = None):
    """Fourier coefficients ``(theta1_hat, theta2_hat, xi_hat)`` of a drawn neuron state
    (:class:`~symflow.groups.fourier.FourierCoefficients` each)."""
    return neuron_states(group, shared, spheres, neurons).map(
        lambda s: tuple(group.fourier(v) for v in s))


@st.composite
def orbit_states(draw, group, shared: bool = False, orbit: int | None = None):
    """``(orbit_index, (theta1, theta2, xi))``: a unit-norm neuron supported on one nontrivial
    conjugate-pair orbit (the setting of the GC equilibria)."""
    basis = group.real_fourier_basis
    nontrivial = [k for k, o in enumerate(basis.orbits) if group.trivial_index not in o]
    assume(nontrivial)
    k = draw(st.sampled_from(nontrivial)) if orbit is None else orbit
    s = basis.slices[k]
    width = s.stop - s.start
    Q = basis.matrix[:, s]

    def point():
        return _normalise(Q @ draw(signals(width)))

    th1 = point()
    th2 = th1 if shared else point()
    return k, (th1, th2, point())


# ---------------------------------------------------------------------- models
@st.composite
def model_definitions(draw, names=None, max_order: int = 24, losses=("ce", "mse"), activations=(None,)):
    """Keyword dictionaries ``{"group", "shared", "spheres", "loss", "activation"}`` for ``Model(**kw)``.

    ``shared=True`` is drawn for abelian groups only (the variant the theory treats);
    ``activations`` are polynomial strings in ``z`` (``None`` = ``z**2``).
    """
    name = draw(st.sampled_from(list(names)) if names is not None else group_names(max_order=max_order))
    G = group_by_name(name)
    shared = draw(st.booleans()) if G.is_abelian else False
    spheres = "separate" if shared else draw(st.sampled_from(list(SPHERES)))
    return {"group": name, "shared": shared, "spheres": spheres, "loss": draw(st.sampled_from(list(losses))),
            "activation": draw(st.sampled_from(list(activations)))}


@st.composite
def model_states(draw, model, neurons: int | None = None):
    """A state ``{name: (n,) array}`` on the model's constraint manifold (``model.vector_names``;
    each sphere of ``model.neuron.sphere_groups`` drawn uniformly-ish as one unit vector, then split)."""
    n = model.group.order
    batch = () if neurons is None else (int(neurons),)
    neuron = model.neuron
    if not neuron.constrained:
        return {k: draw(signals(n, batch)) for k in model.vector_names}
    out = {}
    for S in neuron.sphere_groups:
        x = draw(sphere_points(n * len(S), batch))
        for i, k in enumerate(S):
            out[k] = x[..., i * n:(i + 1) * n].copy()
    return out


def phase_angles(group):
    """Angles ``(pairs, 2)`` in ``[-pi, pi]`` for the character pairs of an abelian group."""
    pairs = [o for o in group.orbits if len(o) == 2]
    return hnp.arrays(np.float64, (len(pairs), 2), elements=st.floats(-np.pi, np.pi, allow_nan=False))
