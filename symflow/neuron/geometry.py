r"""THE geometry of a neuron's constraint manifold: a product of unit spheres in a weighted Euclidean space.

A neuron is stored in pieces of constant weight ``w`` (a piece: contiguous real entries of one
vector). For every storage the same four formulas hold:

    <u, v>      = sum_pieces w <u_p, v_p>                         (inner)
    |x|_S^2     = sum_{pieces of sphere S} w |x_p|^2              (sphere_norms)
    x_S        <- x_S / |x_S|                                     (retract)
    g_S        <- g_S - x_S <x_S, g_S>_S / |x_S|^2                (project_tangent)

per neuron (the leading axes) and per sphere ``S`` (a group of vector names,
:attr:`symflow.neuron.Neuron.sphere_groups`). The weights are Plancherel's for Fourier rows
(``n d`` per entry of a ``d``-dimensional irrep block, ``2 n d`` for a representative of a
complex-conjugate pair, so the values equal those of the parameter-space vectors) and ``1`` for
parameter rows.

:class:`SphereGeometry` implements the formulas once; a storage strategy says where the pieces are:

* :class:`RowGeometry`: complex rows ``(..., L)`` (the spectral layouts' full and compact forms);
  pieces are column ranges of the float64 view;
* :class:`BlockedGeometry`: ``m`` complex rows stored part by part (the integrators' working arrays,
  :meth:`symflow.dynamics.state.SpectralLayout.blocked`);
* :class:`ParameterGeometry`: a dict ``{name: (M, n) real}`` of parameter rows (the parameter-space
  trainer, :mod:`symflow.dynamics.training`), weight 1;
* :class:`StackedGeometry`: stacked points ``(..., V n)`` (:mod:`symflow.neuron.points`) of any dtype
  (float, complex, ``mpmath`` objects: the brute-force reference and the landscape), weight 1.

The Lagrange multiplier of a sphere is ``lambda_S = <x_S, g_S>_S / |x_S|^2`` (:meth:`SphereGeometry.multipliers`);
the tangent space at a point is the orthogonal complement of one radial direction per sphere
(:func:`tangent_basis`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

_VECDOT = getattr(np, "vecdot", None)


def rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products along the last axis of two real arrays (no temporary array)."""
    if _VECDOT is not None:
        return _VECDOT(a, b)
    return np.einsum("...i,...i->...", a, b)


def real_view(x) -> np.ndarray:
    """The float64 view (real and imaginary parts interleaved) of a complex array, copying only if
    its last axis is not contiguous."""
    x = np.asarray(x)
    if x.dtype != np.complex128:
        x = x.astype(np.complex128)
    if x.ndim == 0 or x.strides[-1] != x.itemsize:
        x = np.ascontiguousarray(x)
    return x.view(np.float64)


def merge_ranges(ranges) -> list:
    """Merge adjacent ``(start, stop, w)`` ranges of equal weight (sorted by start)."""
    out = []
    for a, b, w in sorted(ranges):
        if out and out[-1][1] == a and out[-1][2] == w:
            out[-1] = (out[-1][0], b, w)
        else:
            out.append((a, b, w))
    return out


def weighted_dots(terms, dot=rowdot):
    """``sum_k w_k <x_k, y_k>`` along the last axis for ``terms = [(x_k, y_k, w_k), ...]`` (real arrays)."""
    out = None
    for x, y, w in terms:
        part = dot(x, y)
        if w != 1.0:
            part *= w
        if out is None:
            out = part
        else:
            out += part
    return out


class SphereGeometry(ABC):
    """The formulas of the module docstring over abstract pieces.

    A storage strategy sets ``pieces`` (``[(key, w)]``: the whole row), ``sphere_pieces`` (one such
    list per sphere), ``sphere_spans`` (per sphere, the keys of :meth:`span` covering it: what the
    retraction rescales) and implements :meth:`columns` (the real entries of a piece), :meth:`span`
    (a writable array of a span) and :meth:`flat` (the array the keys index). ``dot`` is the row dot
    product; ``reciprocal``: the retraction multiplies by ``1/|x|`` (else divides by ``|x|``).
    """

    pieces: list = ()
    sphere_pieces: list = ()
    sphere_spans: list = ()
    dot = staticmethod(rowdot)
    reciprocal = True

    def flat(self, x):
        return x

    @abstractmethod
    def columns(self, x, key):
        """The real entries of the piece ``key`` of ``flat(x)``."""

    @abstractmethod
    def span(self, x, key):
        """A writable array of the span ``key`` of ``x``."""

    def batch_shape(self, x) -> tuple:
        return np.shape(x)[:-1]

    # ------------------------------------------------------------------ the formulas
    def inner(self, u, v) -> np.ndarray:
        """``<u, v> = sum_pieces w <u_p, v_p>`` per neuron."""
        uf = self.flat(u)
        vf = uf if v is u else self.flat(v)
        return weighted_dots(((self.columns(uf, k), self.columns(vf, k), w) for k, w in self.pieces), self.dot)

    def _sphere_inner(self, s, xf, gf):
        return weighted_dots(((self.columns(xf, k), self.columns(gf, k), w) for k, w in self.sphere_pieces[s]),
                             self.dot)

    def sphere_norms(self, x) -> np.ndarray:
        """``|x|_S`` per neuron and sphere, shape ``batch + (#spheres,)``."""
        xf = self.flat(x)
        columns = self.columns

        def squares(pieces):
            for k, w in pieces:
                c = columns(xf, k)
                yield c, c, w

        cols = [np.sqrt(weighted_dots(squares(pieces), self.dot)) for pieces in self.sphere_pieces]
        if not cols:
            return np.zeros(tuple(self.batch_shape(x)) + (0,))
        return np.stack(cols, axis=-1)

    def retract(self, x):
        """``x_S <- x_S / |x_S|`` on every sphere, in place; returns ``x``."""
        if not self.sphere_spans:
            return x
        norms = self.sphere_norms(x)
        for s, spans in enumerate(self.sphere_spans):
            if self.reciprocal:
                factor = (1.0 / norms[..., s])[..., None]
                for k in spans:
                    part = self.span(x, k)
                    part *= factor
            else:
                norm = norms[..., s][..., None]
                for k in spans:
                    part = self.span(x, k)
                    part /= norm
        return x

    def _multiplier(self, s, xf, gf):
        return self._sphere_inner(s, xf, gf) / self._sphere_inner(s, xf, xf)

    def multipliers(self, x, g) -> list:
        """``lambda_S = <x_S, g_S>_S / |x_S|^2`` per sphere (a list of arrays of the batch shape)."""
        xf, gf = self.flat(x), self.flat(g)
        return [self._multiplier(s, xf, gf) for s in range(len(self.sphere_spans))]

    def project_tangent(self, x, g):
        """``g_S <- g_S - x_S <x_S, g_S> / |x_S|^2`` on every sphere, in place; returns ``g``."""
        xf, gf = self.flat(x), self.flat(g)
        for s, spans in enumerate(self.sphere_spans):
            coef = self._multiplier(s, xf, gf)[..., None]
            for k in spans:
                part = self.span(g, k)
                part -= coef * self.span(x, k)
        return g


class RowGeometry(SphereGeometry):
    """Complex rows ``(..., L)``; ``weight_ranges = {name: [(start, stop, w)]}`` in complex entries and
    ``spheres`` (groups of names). Pieces are merged ranges of equal weight of the float64 view."""

    def __init__(self, names, weight_ranges: dict, spheres):
        self.pieces = [((2 * a, 2 * b), w) for a, b, w in merge_ranges([r for nm in names for r in weight_ranges[nm]])]
        sphere_ranges = [merge_ranges([r for nm in sphere for r in weight_ranges[nm]]) for sphere in spheres]
        self.sphere_pieces = [[((2 * a, 2 * b), w) for a, b, w in ranges] for ranges in sphere_ranges]
        self.sphere_spans = [[(a, b) for a, b, _ in merge_ranges([(a, b, 0.0) for a, b, _ in ranges])]
                             for ranges in sphere_ranges]

    flat = staticmethod(real_view)

    def columns(self, x, key):
        return x[..., key[0]:key[1]]

    def span(self, x, key):
        return x[..., key[0]:key[1]]


class BlockedGeometry(SphereGeometry):
    """``m`` rows of a :class:`RowGeometry`'s storage kept part by part: ``parts`` are the
    ``(start, stop, name)`` row ranges stored one after the other, each as an ``(m, stop - start)``
    contiguous block (see :meth:`symflow.dynamics.state.SpectralLayout.blocked`)."""

    def __init__(self, names, weight_ranges: dict, spheres, parts, m: int):
        self.m = int(m)
        ranges = {}
        for a, b, name in parts:
            for ra, rb, w in weight_ranges[name]:
                lo, hi = max(ra, a), min(rb, b)
                if lo < hi:
                    ranges.setdefault(name, []).append(((a, b, lo - a, hi - a), w))
        self.pieces = [r for nm in names for r in ranges.get(nm, [])]
        self.sphere_pieces = [[r for nm in sphere for r in ranges.get(nm, [])] for sphere in spheres]
        self.sphere_spans = [[(a, b) for a, b, nm in parts if nm in sphere] for sphere in spheres]

    def flat(self, x):
        return x.reshape(-1).view(np.float64)

    def batch_shape(self, x) -> tuple:
        return (self.m,)

    def columns(self, x, key):
        a, b, lo, hi = key
        m = self.m
        return x[2 * m * a:2 * m * b].reshape(m, 2 * (b - a))[:, 2 * lo:2 * hi]

    def span(self, x, key):
        a, b = key
        m = self.m
        return x.reshape(-1)[m * a:m * b].reshape(m, b - a).view(np.float64)


class ParameterGeometry(SphereGeometry):
    """Parameter rows ``{name: (M, n) real}`` with weight 1; ``spheres``: groups of names (every name of
    a group must be present). Dots by ``einsum``; the retraction divides by the norm."""

    reciprocal = False

    def __init__(self, spheres):
        spheres = [tuple(s) for s in spheres]
        self.pieces = [(nm, 1.0) for s in spheres for nm in s]
        self.sphere_pieces = [[(nm, 1.0) for nm in s] for s in spheres]
        self.sphere_spans = spheres

    @staticmethod
    def dot(a, b):
        return np.einsum("mi,mi->m", a, b)

    def batch_shape(self, x) -> tuple:
        return np.shape(next(iter(x.values())))[:-1]

    def columns(self, x, key):
        return x[key]

    def span(self, x, key):
        return x[key]


class StackedGeometry(SphereGeometry):
    """Stacked points ``x = [nu_1; nu_2; ...]`` of shape ``(..., V n)`` (:mod:`symflow.neuron.points`), weight 1,
    on any dtype: dots are plain sums of products ``sum(a * b)`` (the dtype's own arithmetic, no BLAS: float,
    complex or ``mpmath`` objects), the norms of object arrays by :func:`mpmath.fsum`; the retraction
    divides by the norm. ``names``: the vectors in stacked order; ``spheres``: groups of names."""

    reciprocal = False

    def __init__(self, names, spheres, n: int):
        index = {nm: i for i, nm in enumerate(names)}

        def cols(nm):
            return (index[nm] * n, (index[nm] + 1) * n)

        self.pieces = [(cols(nm), 1.0) for nm in names]
        self.sphere_pieces = [[(cols(nm), 1.0) for nm in sphere] for sphere in spheres]
        self.sphere_spans = [[cols(nm) for nm in sphere] for sphere in spheres]

    @classmethod
    def of(cls, model) -> "StackedGeometry":
        """The geometry of ``model``'s stacked points (no spheres without the constraint)."""
        spheres = model.neuron.sphere_groups if model.neuron.constrained else ()
        from .points import vector_length

        return cls(model.vector_names, spheres, vector_length(model))

    @staticmethod
    def dot(a, b):
        return (a * b).sum(axis=-1)

    def sphere_norms(self, x) -> np.ndarray:
        """As :meth:`SphereGeometry.sphere_norms`; on object arrays (``mpmath``) each norm is
        ``mpmath.sqrt(mpmath.fsum(...))`` over the sphere's entries (one correctly rounded sum)."""
        x = np.asarray(x)
        if x.dtype != object:
            return super().sphere_norms(x)
        import mpmath

        rows = x.reshape(-1, x.shape[-1])
        out = np.empty((rows.shape[0], len(self.sphere_pieces)), dtype=object)
        for s, pieces in enumerate(self.sphere_pieces):
            for i, row in enumerate(rows):
                out[i, s] = mpmath.sqrt(mpmath.fsum(a * a for (lo, hi), _ in pieces for a in row[lo:hi]))
        return out.reshape(x.shape[:-1] + (len(self.sphere_pieces),))

    def columns(self, x, key):
        return x[..., key[0]:key[1]]

    def span(self, x, key):
        return x[..., key[0]:key[1]]

    # one point (shape (V n,)) is worked on as a batch of one (a view), so that every per-sphere value is an
    # array even where NumPy returns a scalar (sums of object arrays)
    def retract(self, x):
        super().retract(x[None] if np.ndim(x) == 1 else x)
        return x

    def project_tangent(self, x, g):
        if np.ndim(g) == 1:
            super().project_tangent(np.asarray(x)[None], g[None])
            return g
        return super().project_tangent(x, g)

    def multipliers(self, x, g) -> list:
        if np.ndim(x) == 1:
            return [c[0] for c in super().multipliers(np.asarray(x)[None], np.asarray(g)[None])]
        return super().multipliers(x, g)


def tangent_basis(names, sphere_groups, vectors) -> np.ndarray:
    """Orthonormal basis (columns) of the tangent space of the product of spheres at the stacked point
    ``[vectors[names[0]]; vectors[names[1]]; ...]`` (each of length ``n``): the orthogonal complement
    of the unit radial directions ``R_S`` (the point on the sphere ``S``, zero elsewhere), from the QR
    factorisation of ``[R, I]``."""
    names = list(names)
    n = len(vectors[names[0]])
    R = []
    for S in sphere_groups:
        c = np.zeros(n * len(names))
        for v in S:
            i = names.index(v)
            c[i * n:(i + 1) * n] = vectors[v]
        R.append(c / np.linalg.norm(c))
    R = np.column_stack(R)
    q, _ = np.linalg.qr(np.concatenate([R, np.eye(R.shape[0])], axis=1))
    return q[:, R.shape[1]:R.shape[0]]
