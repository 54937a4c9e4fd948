"""LaTeX and plain-text rendering of the theory engine's derived objects (``symflow derive`` prints these).

Names follow docs/theory.md: ``\\hat\\theta_1`` for the block ``theta1hat``, ``\\hat\\xi``, ``\\Omega``;
block entries ``theta1_i_j`` print as ``\\theta_{1,ij}``. Display never changes a formula: it
prints the derived SymPy objects with a symbol-name map.
"""
from __future__ import annotations

import re

import sympy as sp

from .symbols import N, hat_vector


# ---------------------------------------------------------------------- plain text
HAT = {"theta1": "θ̂₁", "theta2": "θ̂₂", "theta": "θ̂", "xi": "ξ̂", "u": "û", "v": "v̂"}


def matrix_text(e) -> str:
    """Readable text of a compact block formula: ``θ̂₂* ξ̂`` for ``Adjoint(theta2hat)*xihat``."""
    if isinstance(e, sp.MatrixSymbol):
        return HAT.get(hat_vector(e), e.name)
    if isinstance(e, sp.Adjoint):
        inner = matrix_text(e.arg)
        return inner + "*" if isinstance(e.arg, sp.MatrixSymbol) else f"({inner})*"
    if isinstance(e, sp.MatPow):
        return f"{matrix_text(e.base)}^{e.exp}"
    if isinstance(e, sp.MatAdd):
        parts = [matrix_text(a) for a in e.args]
        parts.sort(key=lambda s: s.startswith("-"))
        out = parts[0]
        for s in parts[1:]:
            out += " - " + s[1:] if s.startswith("-") else " + " + s
        return out
    if isinstance(e, sp.MatMul):
        scalar, mats = sp.Integer(1), []
        for a in e.args:
            if a.is_Matrix:
                mats.append(matrix_text(a))
            else:
                scalar *= a
        body = " ".join(mats)
        if scalar == 1:
            return body
        if scalar == -1:
            return "-" + body
        s = scalar_text(scalar)
        if s.startswith("-"):
            return "-" + _wrap(s[1:]) + " " + body
        return _wrap(s) + " " + body
    return scalar_text(e)


def _wrap(s: str) -> str:
    return f"({s})" if any(c in s for c in "+-/ ") else s


def scalar_text(e) -> str:
    """``sstr`` with ``Ω``, ``^`` for powers and ``·`` for products (``2*Omega`` -> ``2Ω``)."""
    s = sp.sstr(e).replace("Omega", "Ω").replace("**", "^")
    s = s.replace("*Ω", "Ω") if s.replace("-", "").split("*Ω")[0].isdigit() else s
    return s.replace("*", "·")


def omega_decay_text(c, target: str) -> str:
    """Text of the linear term ``-c Ω target``: ``-Ω x`` for ``c = 1``, ``-3Ω x``, and ``0`` when
    ``c = 0`` (the unconstrained flow has no radial term: never ``-0Ω x``)."""
    c = sp.sympify(c)
    if c == 0:
        return "0"
    if c == 1:
        return f"-Ω {target}"
    s = scalar_text(c)
    return f"-{_wrap(s)}Ω {target}" if not s.startswith("-") else f"+{_wrap(s[1:])}Ω {target}"


def energy_text(E) -> str:
    """Plain text of the generic Fourier form of the energy: ``Ω = Σ_ρ≠1 d_ρ [tr(ξ̂* θ̂₂ θ̂₁)]``."""
    model = E.model
    d = sp.Symbol("d")
    terms = []
    for coef, word in E.trace_words(d, N):
        letters = []
        for name, power, adj in word:
            base = HAT.get(name, name) if power == 1 else f"({name}^{power})^"
            letters.append(base + ("*" if adj else ""))
        c = sp.sstr(coef / d)
        terms.append(("" if c == "1" else c + " ") + "tr(" + " ".join(letters) + ")")
    lhs = "Ω" if model.loss == "ce" else "E"
    return f"{lhs} = Σ_ρ≠1 d_ρ [" + " + ".join(terms) + "]"


# ---------------------------------------------------------------------- LaTeX
_GREEK = {"theta": "\\theta", "xi": "\\xi"}


def vector_latex(name: str) -> str:
    """``theta1 -> \\theta_{1}``, ``xi -> \\xi``, ``u -> u``, ``theta1p2 -> \\theta_{1}^{\\odot 2}``."""
    m = re.fullmatch(r"([a-z]+?)(\d*)(?:p(\d+))?", name)
    if not m:
        return name
    base, idx, pw = m.groups()
    out = _GREEK.get(base, base)
    if idx:
        out += "_{%s}" % idx
    if pw:
        out = "{%s}^{\\odot %s}" % (out, pw)
    return out


def hat_latex(name: str) -> str:
    return "\\hat{%s}" % vector_latex(name) if "_" not in vector_latex(name) else \
        "\\hat{%s}_{%s}" % tuple(vector_latex(name).split("_", 1)[i].strip("{}") for i in (0, 1))


def symbol_names(expr) -> dict:
    """LaTeX names for every symbol and matrix symbol in ``expr``."""
    names = {}
    for s in expr.atoms(sp.Symbol, sp.MatrixSymbol):
        nm = s.name
        m = re.fullmatch(r"(.+)hat_(\d+)_(\d+)_(\d+)", nm)
        if m:
            v, r, i, j = m.groups()
            names[s] = "{%s}^{(%s)}_{%s%s}" % (hat_latex(v), r, i, j)
            continue
        if hat_vector(s):
            names[s] = hat_latex(hat_vector(s))
            continue
        m = re.fullmatch(r"([a-z]+\d*)_(\d+)_(\d+)", nm)
        if m:
            v, i, j = m.groups()
            names[s] = "{%s}_{%s%s}" % (hat_latex(v), i, j)
            continue
        m = re.fullmatch(r"([a-z]+\d*)_(\d+)", nm)
        if m:
            v, g = m.groups()
            base = vector_latex(v)
            names[s] = "%s(%s)" % (base, g)
            continue
        if nm == "Omega":
            names[s] = "\\Omega"
    return names


def latex(expr, **kw) -> str:
    """``sympy.latex`` with symflow's symbol names (matrix symbols included)."""
    names = symbol_names(expr) if isinstance(expr, sp.Basic) else {}
    sym_names = {s: v for s, v in names.items() if isinstance(s, sp.Symbol)}
    mat = {s: sp.Symbol(v) for s, v in names.items() if isinstance(s, sp.MatrixSymbol)}
    if mat:
        expr = expr.xreplace({s: sp.MatrixSymbol(v, *s.shape) for s, v in names.items()
                              if isinstance(s, sp.MatrixSymbol)})
    return sp.latex(expr, symbol_names=sym_names, **kw)


def manifold_latex(neuron) -> str:
    """``S^{n-1}_{\\theta_1} \\times ...`` (one factor per sphere of the neuron), or ``\\text{unconstrained}``."""
    if not neuron.constrained:
        return "\\text{unconstrained}"
    return " \\times ".join("S^{%s}_{%s}" % (dim, ",".join(vector_latex(v) for v in sphere))
                             for dim, sphere in neuron.sphere_factors())


def model_latex(model) -> str:
    act = sp.latex(model.activation)
    loss = "\\text{CE (small logit)}" if model.loss == "ce" else "\\text{MSE (Li2)}"
    return (f"\\text{{{model.group.name}}}:\\ \\sigma(z) = {act},\\ {loss},\\ "
            f"\\text{{{'shared' if model.shared else 'unshared'}}},\\ {manifold_latex(model.neuron)}")


def block_flow_latex(bf) -> str:
    """``\\frac{d}{dt} \\hat B = ...`` for every vector, compact matrix form."""
    rows = []
    for k in bf.names:
        rows.append("\\frac{d}{dt}%s &= %s" % (hat_latex(k), latex(bf.compact(k))))
    return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"


def block_flow_text(bf) -> list:
    """Plain-text lines ``dθ̂₁/dt = θ̂₂* ξ̂ - Ω θ̂₁`` of a block flow (compact matrix form, ``*`` the adjoint)."""
    return [f"d{HAT.get(name, name)}/dt = {matrix_text(bf.compact(name))}" for name in bf.names]


def energy_latex(E, form: str = "fourier") -> str:
    """The energy: ``form="fourier"`` the generic block sum (``d`` symbolic), ``"group"`` the explicit
    Fourier form for the group, ``"parameter"`` the parameter-space form (long for large groups)."""
    model = E.model
    if form == "fourier":
        d = sp.Symbol("d_\\rho", positive=True, integer=True)
        terms = []
        for coef, word in E.trace_words(d, N):
            letters = []
            for name, power, adj in word:
                base = hat_latex(name) if power == 1 else "\\widehat{%s^{%d}}" % (vector_latex(name), power)
                letters.append(base + ("^{*}" if adj else ""))
            c = sp.latex(coef / d)
            terms.append(("" if c == "1" else c + "\\,") + "\\operatorname{tr}\\left(%s\\right)" % " ".join(letters))
        lhs = "\\Omega" if model.loss == "ce" else "E"
        return "%s = \\sum_{\\rho \\neq 1} d_\\rho \\left(%s\\right)" % (lhs, " + ".join(terms))
    if form == "group":
        return latex(E.fourier)
    if form == "parameter":
        return latex(E.parameter_space)
    raise ValueError(f"form must be 'fourier', 'group' or 'parameter', got {form!r}")


def closed_form_latex(cf) -> str:
    """Template equations for a generic frequency ``k``, Omega, the w equation and the competition law."""
    rows = [latex(eq.lhs) + " &= " + latex(eq.rhs) for eq in cf.template["pair"]]
    rows.append("\\Omega &= \\sum_k " + latex(cf.omega_template["pair"])
                + (" + \\sum_{k = -k} " + latex(cf.omega_template["real"]) if cf.frequency_counts["real"] else ""))
    rows.append(latex(cf.w_definition.lhs) + " &= " + latex(cf.w_definition.rhs))
    rows.append(latex(cf.w_equation.lhs) + " &= " + latex(cf.w_equation.rhs))
    rows.append(latex(cf.competition.lhs) + " &= " + latex(cf.competition.rhs))
    return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"
