"""Abelian closed forms: the block flow in magnitude/phase coordinates per frequency pair.

For an abelian group (``Z_p`` or a product of cyclic groups, order ``n``) every irrep is a
character ``chi_k`` and a real neuron lives on conjugate pairs ``{k, -k}``. docs/theory.md section 4's
change of variables, per pair ``k`` (``w_k`` the frequency):

    theta(j) = alpha_0 + sum_k alpha_k cos(w_k j + phi_k),   theta_hat[k] = (alpha_k / 2) e^{i phi_k}
    xi(j)    = beta_0  + sum_k beta_k  cos(w_k j + psi_k),   xi_hat[k]    = (beta_k / 2)  e^{i psi_k}

and for a self-conjugate frequency (``k = -k``, e.g. ``n/2`` for even ``n``; ``chi_k = +-1``) a real
amplitude ``theta_hat[k] = alpha_k`` without phase. Substituting into the derived 1x1 block flow
(:meth:`Model.block_flow(1) <symflow.theory.model.Model.block_flow>`) and splitting
``e^{-i phi} d theta_hat/dt = (alpha' + i alpha phi') / 2`` into real and imaginary parts gives the
magnitude/phase ODEs. SymPy then derives, for the CE loss:

* the misalignment ``D_k = 2 phi_k - psi_k`` (shared) or ``phi1_k + phi2_k - psi_k`` (unshared) and
  its ODE;
* the complex variable ``w_k = alpha_k^2 beta_k e^{i D_k}`` (shared; ``alpha1 alpha2 beta e^{iD}``
  unshared) with ``dw_k/dt = (real drive) - c Omega w_k``, so ``Im w_k`` decays like
  ``exp(-c int Omega)`` (``c`` derived: 5 shared, 3 unshared on separate spheres);
* the competition law ``d/dt ln(alpha_k / alpha_l)`` (the ``Omega`` terms cancel).

All expressions are derived from the model's block flow, never typed in; the tests check them at
random points against the Fourier flow and :func:`symflow.neuron.bruteforce.flow`.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import ModelError, SymflowError
from .display import closed_form_latex
from .model import Model
from .symbols import N, OMEGA

T = sp.Symbol("t", real=True)


def _pos(name):
    return sp.Symbol(name, positive=True)


def _real(name):
    return sp.Symbol(name, real=True)


class _Coordinates:
    """Magnitude/phase symbols of one frequency (template index ``k`` or a concrete orbit number)."""

    def __init__(self, model, k, kind):
        self.kind = kind  # "pair" or "real"
        self.k = k
        shared = model.shared
        ins = ["alpha"] if shared else ["alpha1", "alpha2"]
        phs = ["phi"] if shared else ["phi1", "phi2"]
        mk = _pos if kind == "pair" else _real
        self.mag = {"in": [mk(f"{a}_{k}") for a in ins], "out": mk(f"beta_{k}")}
        self.phase = {"in": [_real(f"{p}_{k}") for p in phs], "out": _real(f"psi_{k}")} if kind == "pair" else None
        self.D = _real(f"D_{k}") if kind == "pair" else None

    @property
    def magnitudes(self) -> list:
        return self.mag["in"] + [self.mag["out"]]

    @property
    def phases(self) -> list:
        return (self.phase["in"] + [self.phase["out"]]) if self.phase else []

    def misalignment(self):
        """``D`` in terms of the phases: ``2 phi - psi`` (shared) / ``phi1 + phi2 - psi``."""
        ph = self.phase["in"]
        return (2 * ph[0] if len(ph) == 1 else ph[0] + ph[1]) - self.phase["out"]


#: Templates depend on the model's settings only (symbolic n): derived once per process.
_TEMPLATES: dict = {}
_TEMPLATE_ATTRS = ("_pair", "_other", "_realc", "pair_rates", "real_rates", "template", "omega_template",
                   "w_symbol", "w_definition", "w_rate", "w_drive", "w_equation", "competition", "trivial_rates")


class AbelianClosedForm:
    """Magnitude/phase form of the flow of an abelian model (see the module docstring).

    Attributes
    ----------
    model : the Model
    frequencies : list of ``(orbit number f, irrep indices, frequency label, kind)``; ``kind`` is
        ``"pair"`` (``{k, -k}``) or ``"real"`` (self-conjugate)
    template : dict kind -> list of ``Eq`` for a generic frequency ``k`` with symbolic ``n``
    variables : list of all state symbols of the group's system (trivial amplitudes first)
    equations : list of ``Eq(Derivative(x, t), rhs)`` for the whole group (``n`` = group order),
        in terms of ``Omega``, magnitudes and ``D_f``
    omega_expr : ``Omega`` in terms of the variables (group's ``n``)
    omega_template : contribution of one pair / one real frequency to ``Omega``
    w_equation : ``Eq(dw_k/dt, drive - c Omega w_k)`` (template); ``w_rate`` is ``c``
    competition : ``Eq(d/dt ln(alpha_k/alpha_l), ...)`` (template)
    """

    def __init__(self, model):
        G = model.group
        if not G.is_abelian:
            raise ModelError(f"abelian closed forms need an abelian group; {G.name} is not abelian "
                             f"(use Model.block_flow(d) for the matrix flow)")
        if model.loss != "ce":
            raise ModelError("abelian closed forms are derived for the CE loss (the MSE energy "
                             "2 n^3 sum d |v_hat u_hat|^2 does not depend on the phases, so there is no misalignment); "
                             "use Model.block_flow(1) for the MSE flow")
        model.require_block_flow()
        self.model = model
        self.bf = model.block_flow(1)
        key = model.settings_key()
        if key not in _TEMPLATES:
            self._derive_templates()
            _TEMPLATES[key] = {a: getattr(self, a) for a in _TEMPLATE_ATTRS}
        else:
            self.__dict__.update(_TEMPLATES[key])
        self._build_system()

    # ------------------------------------------------------------------ templates
    def _block_values(self, c: _Coordinates):
        """Block entry -> value in polar coordinates (pair) or real amplitude."""
        m = self.model
        ins = list(m.input_names[:1] if m.shared else m.input_names)
        vals = {}
        for idx, name in enumerate(ins):
            mag = c.mag["in"][idx]
            vals[name] = (mag / 2) * sp.exp(sp.I * c.phase["in"][idx]) if c.kind == "pair" else mag
        mag = c.mag["out"]
        # the output phase is written through the misalignment: psi = (2 phi or phi1 + phi2) - D
        psi = c.misalignment().subs(c.phase["out"], 0) - c.D if c.kind == "pair" else None
        vals[m.output_name] = (mag / 2) * sp.exp(sp.I * psi) if c.kind == "pair" else mag
        return vals

    def _block_substitution(self, c: _Coordinates) -> dict:
        """``{B_11: value, conj(B_11): conj(value)}`` for every block of the frequency's coordinates."""
        sub = {}
        for name, v in self._block_values(c).items():
            s = self.bf.blocks[name][0, 0]
            sub[s] = v
            sub[sp.conjugate(s)] = sp.conjugate(v)
        return sub

    def _polar_rates(self, c: _Coordinates) -> dict:
        """``{symbol: rate}`` for magnitudes and phases of one frequency, from the block flow."""
        bf = self.bf
        sub = self._block_substitution(c)
        rates = {}
        ins = list(self.model.input_names[:1] if self.model.shared else self.model.input_names)
        order = [(name, c.mag["in"][i], c.phase["in"][i] if c.phase else None) for i, name in enumerate(ins)]
        order.append((self.model.output_name, c.mag["out"], c.phase["out"] if c.phase else None))
        for name, mag, ph in order:
            dz = bf.rhs[name][0, 0].xreplace(sub)
            if c.kind == "pair":
                # d/dt (mag/2 e^{i ph}) = (mag' + i mag ph') e^{i ph} / 2
                angle = c.misalignment().subs(c.phase["out"], 0) - c.D if ph == c.phase["out"] else ph
                rot = sp.expand(2 * sp.exp(-sp.I * angle) * dz)
                rates[mag] = self._in_D(sp.re(rot), c)
                rates[ph] = self._in_D(sp.im(rot) / mag, c)
            else:
                rates[mag] = sp.expand(dz)
        return rates

    def _in_D(self, expr, c: _Coordinates):
        """Real expression in magnitudes and ``D`` (the absolute phases cancel once ``psi`` is written via ``D``)."""
        e = sp.expand(sp.expand_complex(sp.expand(expr)))
        if e.free_symbols & set(c.phases):
            e = sp.expand(sp.trigsimp(e))
        if e.free_symbols & set(c.phases):
            raise ModelError(f"internal: the rate {e} still depends on the absolute phases")  # pragma: no cover
        return e

    def _omega_part(self, c: _Coordinates, n):
        """Contribution of one frequency (both members of a pair) to Omega."""
        bf = self.bf
        sub = {N: n, **self._block_substitution(c)}
        w = bf.omega_block.xreplace(sub)
        if c.kind == "pair":
            return self._in_D(2 * sp.re(sp.expand(w)), c)
        return sp.expand(w)

    def _derive_templates(self):
        m = self.model
        k, l = sp.Symbol("k", integer=True), sp.Symbol("l", integer=True)
        pair, other = _Coordinates(m, k, "pair"), _Coordinates(m, l, "pair")
        real = _Coordinates(m, k, "real")
        self._pair, self._other, self._realc = pair, other, real
        r_pair = self._polar_rates(pair)
        r_real = self._polar_rates(real)
        ph_in = pair.phase["in"]
        dD = (2 * r_pair[ph_in[0]] if m.shared else r_pair[ph_in[0]] + r_pair[ph_in[1]]) - r_pair[pair.phase["out"]]
        r_pair[pair.D] = sp.factor(sp.together(dD))
        self.pair_rates, self.real_rates = r_pair, r_real
        d = lambda x: sp.Derivative(sp.Function(x.name)(T), T)
        self.template = {
            "pair": [sp.Eq(d(x), r_pair[x]) for x in pair.magnitudes + pair.phases + [pair.D]],
            "real": [sp.Eq(d(x), r_real[x]) for x in real.magnitudes],
        }
        self.omega_template = {"pair": self._omega_part(pair, N), "real": self._omega_part(real, N)}
        # w_k = (product of input magnitudes) * beta * e^{i D}
        mags = pair.mag["in"]
        prod_in = mags[0] ** 2 if m.shared else mags[0] * mags[1]
        w_val = prod_in * pair.mag["out"] * sp.exp(sp.I * pair.D)
        dw = sum(sp.diff(w_val, x) * r_pair[x] for x in pair.magnitudes + [pair.D])
        dw = sp.expand(dw)
        rate = sp.cancel(sp.expand(-sp.diff(dw, OMEGA) / w_val))
        if rate.free_symbols:
            raise ModelError(f"internal: dw/dt is not drive - c Omega w (c = {rate})")  # pragma: no cover
        drive = sp.expand(sp.expand_complex(sp.expand(dw + rate * OMEGA * w_val)))
        if sp.expand(sp.im(drive)) != 0:
            raise ModelError(f"internal: the w drive {drive} is not real")  # pragma: no cover
        self.w_symbol = sp.Symbol("w_k")
        self.w_definition = sp.Eq(self.w_symbol, w_val)
        self.w_rate = rate
        self.w_drive = sp.factor(sp.trigsimp(drive))
        self.w_equation = sp.Eq(sp.Derivative(sp.Function("w_k")(T), T), self.w_drive - rate * OMEGA * self.w_symbol)
        # competition: d/dt ln(a_k / a_l) for the first input magnitude
        a_k, a_l = pair.mag["in"][0], other.mag["in"][0]
        r_other = self._polar_rates(other)
        comp = sp.factor(sp.together(sp.expand(r_pair[a_k] / a_k - r_other[a_l] / a_l)))
        if comp.has(OMEGA):
            raise ModelError("internal: Omega does not cancel in the competition law")  # pragma: no cover
        self.competition = sp.Eq(sp.Derivative(sp.log(sp.Function(a_k.name)(T) / sp.Function(a_l.name)(T)), T), comp)
        self.trivial_rates = {name: -c * OMEGA for name, c in m.trivial_flow.items()}

    # ------------------------------------------------------------------ the group's system
    def _build_system(self):
        """The trivial variables. The frequencies (:attr:`frequencies`, from the orbit records: no irrep is
        built) and the group's system (:attr:`equations`, ...) are written out on first use (``O(n)`` records and
        SymPy equations: seconds near ``n = 10^6``, so ``derive``, which shows the templates, never pays them)."""
        m = self.model
        ins0 = [_real("alpha_0")] if m.shared else [_real("alpha1_0"), _real("alpha2_0")]
        self.trivial_variables = ins0 + [_real("beta_0")]

    @cached_property
    def frequencies(self) -> list:
        """``[(orbit number f, orbit, frequency label, kind)]`` of the nontrivial orbits, in orbit order."""
        G = self.model.group
        factors = G.abelian_factors
        freqs = []
        for orb in G.orbits:  # the orbit number f is the orbit id (the trivial orbit is id 0)
            if orb.is_trivial:
                continue
            if factors is not None:  # the frequency digits of the orbit's first character
                label = tuple(int(x) for x in np.unravel_index(orb[0], tuple(int(f) for f in factors)))
            else:
                label = G.irreps[orb[0]].meta.get("frequency", orb[0])
            freqs.append((orb.id, orb, label, "pair" if orb.type == "complex" else "real"))
        return freqs

    @cached_property
    def frequency_counts(self) -> dict:
        """``{"pair": conjugate pairs {k, -k}, "real": self-conjugate frequencies}`` (nontrivial). For a
        product ``Z_n1 x ... x Z_nr`` from the factors: ``2k = 0`` has ``prod_i (2 if n_i even else 1)``
        solutions, the rest pair up; no orbit is built."""
        factors = self.model.group.abelian_factors
        if factors is not None and "frequencies" not in self.__dict__:
            n = self.model.group.order
            selfconj = int(np.prod([2 if int(f) % 2 == 0 else 1 for f in factors]))
            return {"pair": (n - selfconj) // 2, "real": selfconj - 1}
        return {"pair": sum(1 for f in self.frequencies if f[3] == "pair"),
                "real": sum(1 for f in self.frequencies if f[3] == "real")}

    def first_frequencies(self, limit: int) -> list:
        """The first ``limit`` entries ``(f, label, kind)`` of :attr:`frequencies`; a product of cyclic groups
        walks its frequencies ``k = 1, 2, ...`` (orbit representative: ``k <= -k`` in the mixed-radix order)
        instead of building all orbits."""
        factors = self.model.group.abelian_factors
        if factors is None or "frequencies" in self.__dict__:
            return [(f, label, kind) for f, _, label, kind in self.frequencies[:limit]]
        f = tuple(int(x) for x in factors)
        n = self.model.group.order
        out, k, orbit_id = [], 1, 0
        while len(out) < limit and k < n:
            digits = np.unravel_index(k, f)
            conj = int(np.ravel_multi_index(tuple((-int(d)) % m for d, m in zip(digits, f)), f))
            if conj >= k:
                orbit_id += 1
                out.append((orbit_id, tuple(int(d) for d in digits), "real" if conj == k else "pair"))
            k += 1
        return out

    @property
    def coordinates(self) -> list:
        return self._system[0]

    @property
    def variables(self) -> list:
        return self._system[1]

    @property
    def equations(self) -> list:
        return self._system[2]

    @property
    def omega_expr(self):
        return self._system[3]

    @cached_property
    def _system(self) -> tuple:
        m = self.model
        n = m.group.order
        freqs = self.frequencies
        coords, variables, equations, omega = [], list(self.trivial_variables), [], sp.Integer(0)
        d = lambda x: sp.Derivative(sp.Function(x.name)(T), T)
        for name, x in zip(list(m.input_names[:1] if m.shared else m.input_names) + [m.output_name],
                           self.trivial_variables):
            equations.append(sp.Eq(d(x), self.trivial_rates[name] * x))
        for f, orb, label, kind in freqs:
            c = _Coordinates(m, f, kind)
            coords.append(c)
            tmpl = self._pair if kind == "pair" else self._realc
            rates = self.pair_rates if kind == "pair" else self.real_rates
            sub = {N: n}
            for a, b in zip(tmpl.magnitudes + tmpl.phases + ([tmpl.D] if tmpl.D is not None else []),
                            c.magnitudes + c.phases + ([c.D] if c.D is not None else [])):
                sub[a] = b
            targets = c.magnitudes + c.phases + ([c.D] if c.D is not None else [])
            sources = tmpl.magnitudes + tmpl.phases + ([tmpl.D] if tmpl.D is not None else [])
            variables += c.magnitudes + c.phases
            for src, tgt in zip(sources, targets):
                equations.append(sp.Eq(d(tgt), rates[src].xreplace(sub)))
            omega += self.omega_template[kind].xreplace(sub)
        return coords, variables, equations, omega

    # ------------------------------------------------------------------ numerics
    @cached_property
    def _numeric(self):
        coords = self.coordinates
        Ds = [c.D for c in coords if c.D is not None]
        args = self.variables + Ds
        f_omega = sp.lambdify(args, self.omega_expr, modules="numpy")
        lhs = [eq.lhs.expr.func.__name__ if hasattr(eq.lhs.expr, "func") else str(eq.lhs.expr) for eq in self.equations]
        rhs = [eq.rhs for eq in self.equations]
        f_rhs = sp.lambdify([OMEGA] + args, rhs, modules="numpy")
        return args, f_omega, lhs, f_rhs

    def evaluate(self, state: dict) -> dict:
        """Numeric derivatives of every variable (and ``D_f``) at ``state``; also ``"Omega"``.

        ``state`` maps variable names (``"alpha_1"``, ``"phi_1"``, ``"beta_0"``, ...) to floats or
        arrays; the misalignments ``D_f`` are computed from the phases when absent. Double
        precision; no tolerance involved.
        """
        args, f_omega, lhs, f_rhs = self._numeric
        names = [a.name for a in self.variables]
        missing = [nm for nm in names if nm not in state]
        if missing:
            raise SymflowError(f"state is missing {', '.join(missing[:6])}{'...' if len(missing) > 6 else ''}; "
                               f"the variables are {', '.join(names)}")
        vals = {nm: np.asarray(state[nm], dtype=float) for nm in names}
        for c in self.coordinates:
            if c.D is not None:
                vals[c.D.name] = np.asarray(state[c.D.name], dtype=float) if c.D.name in state else \
                    sp.lambdify(c.phases, c.misalignment(), modules="numpy")(*[vals[p.name] for p in c.phases])
        argv = [vals[a.name] for a in args]
        om = np.asarray(f_omega(*argv), dtype=float)
        out = dict(zip(lhs, [np.asarray(v, dtype=float) * np.ones_like(om) for v in f_rhs(om, *argv)]))
        out["Omega"] = om
        return out

    def from_signals(self, **signals) -> dict:
        """Magnitudes and phases of real signals (``theta=`` or ``theta1=, theta2=``, and ``xi=``).

        Inverse of the change of variables: ``alpha_k = 2 |theta_hat[k]|``, ``phi_k = arg theta_hat[k]``
        for a pair; ``alpha_k = theta_hat[k]`` (real) for a self-conjugate frequency.
        """
        m = self.model
        G = m.group
        names = list(m.input_names[:1] if m.shared else m.input_names) + [m.output_name]
        if set(signals) != set(names):
            raise SymflowError(f"pass the signals {', '.join(names)} as keyword arguments")
        hats = {k: G.fourier(np.asarray(v, dtype=float)).to_list() for k, v in signals.items()}
        state = {}
        for nm, var in zip(names, self.trivial_variables):
            state[var.name] = hats[nm][G.trivial_index][..., 0, 0].real
        for c, (f, orb, label, kind) in zip(self.coordinates, self.frequencies):
            r = orb[0]
            for idx, nm in enumerate(names):
                z = hats[nm][r][..., 0, 0]
                mag = c.magnitudes[idx]
                if kind == "pair":
                    state[mag.name] = 2 * np.abs(z)
                    state[c.phases[idx].name] = np.angle(z)
                else:
                    if np.any(np.abs(z.imag) > 1e-9 * (1 + np.abs(z))):
                        raise SymflowError(f"the coefficient of the self-conjugate frequency {label} of {nm} is not "
                                           f"real (imaginary part {np.abs(z.imag).max():.3g}): not a real signal")
                    state[mag.name] = z.real
        return state

    # ------------------------------------------------------------------ display
    def latex(self) -> str:
        return closed_form_latex(self)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self) -> str:
        return (f"<AbelianClosedForm of {self.model!r}: {len(self.frequencies)} frequencies, "
                f"w rate {self.w_rate} Omega>")


def abelian_closed_form(model) -> AbelianClosedForm:
    """The :class:`AbelianClosedForm` of an abelian model (a ``Model`` or a group name such as ``"Z7"``).

    >>> cf = abelian_closed_form("Z7")
    >>> cf
    <AbelianClosedForm of Model('Z7', shared=False, spheres='separate', activation='z**2', loss='ce', constraint='sphere'): 3 frequencies, w rate 3 Omega>
    >>> cf.w_rate                          # the misalignment decays at 3 Omega
    3
    """
    return AbelianClosedForm(Model.coerce(model))
