"""Initial conditions for a population of ``M`` neurons, reproducible from a seed.

* :func:`uniform` - uniform on the product of spheres: every vector is a standard Gaussian in
  parameter space ``R^n`` (``numpy.random.default_rng(seed)``, drawn in ``vector_names`` order),
  normalised per sphere (the joint sphere normalises ``[theta1; theta2]``), then transformed.
* :func:`single_orbit` - every vector supported on one irrep orbit ``{rho, conj rho}`` (a
  Gaussian projected on the orbit's real isotypic component), optionally plus ``noise`` times
  a uniform start, normalised. :func:`single_frequency` is the abelian special case ``k``.
* :func:`from_parameters` - user arrays ``(M, n)``; normalised per sphere (``normalise=True``).

All return a :class:`~symflow.dynamics.state.FourierState`. Bad input (width 0, non-finite or
zero vectors, unknown orbit) raises :class:`~symflow.errors.SymflowError` naming the accepted forms.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..neuron.geometry import StackedGeometry
from ..neuron.points import split, stack
from ..validation import integer
from .state import FourierLayout, FourierState, neuron_of

INITS = ("uniform", "orbit", "frequency")


def check_width(width) -> int:
    """``width`` as a positive int, or a clear error."""
    width = integer(width, "width", minimum=None, what="a positive integer number of neurons")
    if width < 1:
        raise SymflowError(f"width {width}: at least one neuron is needed (width >= 1)")
    return int(width)


def check_seed(seed) -> int:
    """``seed`` as a non-negative int (every run takes one), or a clear error."""
    return integer(seed, "seed", minimum=0)


def _normalise(model, arrays: dict) -> dict:
    """Each neuron's vectors onto their unit spheres by the one geometry (``x_S <- x_S / |x_S|``,
    :meth:`symflow.neuron.geometry.StackedGeometry.retract`); a zero vector on a sphere is an error."""
    if not model.neuron.constrained:
        return arrays
    x = stack(model, arrays)
    geometry = StackedGeometry.of(model)
    sq = geometry.sphere_norms(x)
    if not np.all(sq > 0) or not np.all(np.isfinite(sq)):
        bad, s = (int(i) for i in np.argwhere(~(sq > 0) | ~np.isfinite(sq))[0])
        raise SymflowError(f"neuron {bad}: the vector(s) {'+'.join(model.neuron.sphere_groups[s])} are zero, so they "
                           f"cannot be normalised onto the unit sphere")
    return split(model, geometry.retract(x))


def gaussian_parameters(model, width: int, seed: int) -> dict:
    """Standard Gaussian vectors ``{name: (M, n)}`` (unnormalised), drawn in name order."""
    width, seed = check_width(width), check_seed(seed)
    rng = np.random.default_rng(seed)
    n = model.group.order
    return {nm: rng.standard_normal((width, n)) for nm in model.vector_names}


def uniform(model, width: int, seed: int = 0) -> FourierState:
    """Uniform on the product of spheres (see module docstring)."""
    return FourierState.from_parameters(model, _normalise(model, gaussian_parameters(model, width, seed)))


#: Normals discarded at a time while a stream of :func:`uniform_chunks` moves to its vector's draws.
SKIP_BLOCK = 2 ** 20


def uniform_chunks(model, width: int, seed: int, rows: int):
    """The rows of :func:`uniform` ``(model, width, seed)`` as successive states of at most ``rows`` neurons,
    in order, without drawing them all: :func:`gaussian_parameters` draws ``width x n`` normals per vector in
    name order from one generator, so vector ``i``'s rows ``a..b`` are that generator's normals
    ``(i width + a) n .. (i width + b) n``; each vector gets its own generator of ``seed``, first moved past
    ``i width n`` normals (discarded ``SKIP_BLOCK`` at a time), then drawing ``rows x n`` at a time (NumPy's
    draws do not depend on how they are split), so chunk ``k`` holds exactly the neurons ``k rows ..
    (k+1) rows - 1``, identical to the unchunked draw."""
    width, seed = check_width(width), check_seed(seed)
    rows = integer(rows, "rows", minimum=1)
    n = model.group.order
    gens = []
    for i, _ in enumerate(model.vector_names):
        rng = np.random.default_rng(seed)
        skip = i * width * n
        while skip:
            k = min(skip, SKIP_BLOCK)
            rng.standard_normal(k)
            skip -= k
        gens.append(rng)
    for a in range(0, width, rows):
        m = min(rows, width - a)
        arrays = {nm: g.standard_normal((m, n)) for nm, g in zip(model.vector_names, gens)}
        yield FourierState.from_parameters(model, _normalise(model, arrays))


def from_parameters(model, arrays, normalise: bool = True) -> FourierState:
    """User parameter arrays ``{name: (M, n)}`` (or a tuple in ``vector_names`` order)."""
    arrays = neuron_of(model).parameter_arrays(arrays, model.group.order)
    if normalise:
        arrays = _normalise(model, arrays)
    return FourierState.from_parameters(model, arrays)


def _orbit_index(layout: FourierLayout, orbit) -> int:
    """The id of an orbit given by id or by (display) label, e.g. ``"k=1/6"``, ``"1"``, ``"chi_1/chi_6"``."""
    orbits = layout.orbits
    if isinstance(orbit, str):
        for o in orbits:
            lab = o.display_label
            if orbit == lab or orbit in lab.split("/") or orbit in lab.replace("k=", "").split("/"):
                return o.id
        raise SymflowError(f"unknown orbit {orbit!r}; the orbits of {layout.group.name} are "
                           f"{', '.join(o.display_label for o in orbits)} (or pass an index 1..{len(orbits) - 1})")
    if isinstance(orbit, (bool, np.bool_)) or not isinstance(orbit, (int, np.integer)) or not 0 <= orbit < len(orbits):
        raise SymflowError(f"orbit must be an index 0..{len(orbits) - 1} or a label "
                           f"({', '.join(o.display_label for o in orbits)}), got {orbit!r}")
    return int(orbit)


def single_orbit(model, width: int, seed: int = 0, orbit=1, noise: float = 0.0) -> FourierState:
    """Every vector supported on one irrep orbit (index into ``layout.orbits`` or a label).

    ``noise`` (>= 0) adds that multiple of a uniform start before normalising.
    """
    if not (np.isfinite(noise) and noise >= 0):
        raise SymflowError(f"noise must be a finite number >= 0, got {noise!r}")
    layout = FourierLayout.for_model(model)
    k = _orbit_index(layout, orbit)
    base = FourierState.from_parameters(model, gaussian_parameters(model, width, seed))
    keep = np.zeros(len(layout.slot_dims), dtype=bool)
    keep[list(layout.orbit_slots_of(layout.orbits[k]))] = True
    data = base.data.copy()
    for nm in layout.names:
        for d in layout.dims:
            first = layout.slot(d, 0)
            mask = keep[first:first + layout.counts[d]]
            layout.view(data, nm, d)[:, ~mask] = 0.0
    state = FourierState(layout, data)
    params = _normalise(model, state.to_parameters())
    if noise:
        extra = _normalise(model, gaussian_parameters(model, width, seed + 1))
        params = {nm: params[nm] + noise * extra[nm] for nm in params}
    return FourierState.from_parameters(model, _normalise(model, params))


def single_frequency(model, width: int, seed: int = 0, k: int = 1, noise: float = 0.0) -> FourierState:
    """Abelian groups: every vector on the frequency pair ``{k, -k}`` (cyclic groups; for products
    pass the orbit label, e.g. ``"(0,1)"``, to :func:`single_orbit`)."""
    G = model.group
    if G.abelian_factors is None:
        raise SymflowError(f"single_frequency needs an abelian group given as cyclic factors; {G.name} is not. "
                           f"Use single_orbit(model, width, seed, orbit) instead")
    if len(G.abelian_factors) == 1:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 0 < k < G.order:
            raise SymflowError(f"frequency k must be an integer 1..{G.order - 1}, got {k!r}")
        layout = FourierLayout.for_model(model)
        orbit = next(o.id for o in layout.orbits if k in o)   # numpy.fft order: slot = frequency = irrep
        return single_orbit(model, width, seed, orbit=orbit, noise=noise)
    return single_orbit(model, width, seed, orbit=str(k), noise=noise)


def initial_state(model, width: int, seed: int = 0, init="uniform", **options) -> FourierState:
    """Dispatch: ``init`` is ``"uniform"``, ``"orbit"`` (``orbit=``), ``"frequency"`` (``k=``), a
    :class:`FourierState`, a dict of parameter arrays (or a tuple / stacked array in ``vector_names``
    order)."""
    if isinstance(init, FourierState):
        return init
    if isinstance(init, np.ndarray):
        if init.ndim != 3:
            raise SymflowError(f"an init array must have shape (vectors, M, n), the vectors {', '.join(model.vector_names)} "
                               f"stacked; got shape {init.shape} (or pass a dict name -> (M, n) array)")
        init = tuple(init)
    if isinstance(init, (dict, tuple, list)):
        return from_parameters(model, init, normalise=options.get("normalise", True))
    if init == "uniform":
        return uniform(model, width, seed)
    if init == "orbit":
        return single_orbit(model, width, seed, orbit=options.get("orbit", 1), noise=options.get("noise", 0.0))
    if init == "frequency":
        return single_frequency(model, width, seed, k=options.get("k", 1), noise=options.get("noise", 0.0))
    raise SymflowError(f"unknown init {init!r}; accepted: {', '.join(INITS)}, a FourierState, or a dict "
                       f"name -> (M, n) array")


def is_ready(init) -> bool:
    """Whether ``init`` is a ready population (a state or parameter arrays) rather than a named start."""
    return isinstance(init, (FourierState, dict, tuple, list, np.ndarray)) or hasattr(init, "data")
