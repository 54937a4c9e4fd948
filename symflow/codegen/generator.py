"""Generate a plain NumPy module of block kernels for a model's reduced Fourier-domain flow.

For every block dimension ``d`` of the group the module has, on arrays of shape
``(..., k, d, d)`` (neurons, irreps of dimension ``d``, the block; entries ``theta1[..., i, j]``)::

    omega_block_<d>(theta1, theta2, xi, n) -> (..., k)      one block's contribution to Omega
    drive_<d>(theta1, theta2, xi, n)       -> (drive_theta1, drive_theta2, drive_xi)
    block_terms_<d>(theta1, theta2, xi, n) -> (omega_block, drives)  sharing subexpressions

plus ``radial(Omega)`` and ``TRIVIAL_RATE`` (``d nu/dt = drive - radial(Omega) nu`` on nontrivial
blocks, ``-c Omega nu`` on the trivial one). The module is generic in the group order ``n``; the
flow itself (sum of ``omega_block`` over the irreps, reality check, radial and trivial terms) is
assembled from these kernels by :mod:`symflow.dynamics`.

Two code styles, chosen per ``d`` (``style="auto"``):

* ``"entries"``: one scalar expression per block entry, common subexpressions eliminated by
  ``sympy.cse`` (temporaries ``x0, x1, ...``), one assignment per line. ``O(d^3)`` array
  operations; fastest for small ``d`` (every operation is a flat elementwise NumPy loop).
* ``"matrix"``: the same expressions as batched matrix products (``@`` on the stacked blocks,
  conjugate transposes by ``numpy.swapaxes``), printed from their
  :class:`~symflow.theory.matrix_expr.MatrixExpr` built by the theory engine. ``O(1)`` array
  operations of cost ``O(d^3)`` each; fastest for large ``d``.

``AUTO_MATRIX_FROM_D`` is the crossover measured by ``bench/bench_codegen.py`` (entries for
``d < AUTO_MATRIX_FROM_D``). Generated code is exact up to floating-point rounding: the
tests compare it with ``sympy.N`` at random points to a relative ``1e-12``.

The same printer, ``cse`` writer, provenance header and hashes generate every other module symflow
runs: :func:`generate_function_source` prints ``func(*args) -> tuple of arrays`` for a list of
expressions (the modular-addition rates, :func:`symflow.codegen.modular_rates`); the cache is
:mod:`.cache` for both.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import keyword
import textwrap
from dataclasses import dataclass

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .._version import __version__ as SYMFLOW_VERSION
from ..errors import ModelError
from ..theory.energy import energy_trace_words
from ..theory.trace_calculus import drive_expressions
from ..theory.matrix_expr import Factor, MatrixExpr
from .cache import STYLES
from .expressions import FlowExpressions, flow_expressions, function_expression_hash

#: Blocks of dimension >= this use matrix-level code under ``style="auto"`` (measured crossover).
AUTO_MATRIX_FROM_D = 3


def choose_style(d: int, style: str = "auto") -> str:
    if style not in STYLES:
        raise ModelError(f"code style must be one of {', '.join(STYLES)}, got {style!r}")
    if style == "auto":
        return "matrix" if d >= AUTO_MATRIX_FROM_D else "entries"
    return style


class _Printer(NumPyPrinter):
    """NumPy printer writing ``numpy.`` functions (the generated module imports ``numpy``).

    Products print their scalar factors (numbers, ``n`` and temporaries built from them) first,
    grouped in parentheses, so ``2*x/n*a*b`` costs two array passes instead of four.
    """

    def __init__(self, scalars=()):
        super().__init__({"fully_qualified_modules": True, "strict": True})
        self.scalars = set(scalars)

    def _is_scalar(self, e) -> bool:
        return e.free_symbols <= self.scalars

    def _print_Max(self, expr):
        """``numpy.maximum(a, numpy.maximum(b, ...))``: binary and broadcasting (SymPy's default reduces a
        list with ``functools``, which the generated module does not import)."""
        return self._nested("numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("numpy.minimum", expr.args)

    def _nested(self, func, args):
        out = self._print(args[-1])
        for a in reversed(args[:-1]):
            out = f"{func}({self._print(a)}, {out})"
        return out

    def _print_Mul(self, expr):
        scal = [a for a in expr.args if self._is_scalar(a)]
        arr = [a for a in expr.args if not self._is_scalar(a)]
        if not scal or not arr or (len(scal) == 1 and scal[0] == -1):
            return super()._print_Mul(expr)
        s = self._print(sp.Mul(*scal))
        a = self.parenthesize(arr[0], 50) if len(arr) == 1 else "*".join(self.parenthesize(x, 50) for x in arr)
        return f"({s})*{a}"


def _print(expr, scalars=()) -> str:
    return _Printer(scalars).doprint(expr)


# ---------------------------------------------------------------------------- entry style
#: Sums with more terms are split over several lines (Python's compiler recurses on long sums).
MAX_TERMS_PER_LINE = 32


def _assign(lines: list, target: str, expr, scalars) -> None:
    """``target = expr``, long sums split into partial sums of ``MAX_TERMS_PER_LINE`` terms."""
    args = sp.Add.make_args(expr) if isinstance(expr, sp.Add) else (expr,)
    if len(args) <= MAX_TERMS_PER_LINE:
        lines.append(f"{target} = {_print(expr, scalars)}")
        return
    for k in range(0, len(args), MAX_TERMS_PER_LINE):
        part = _print(sp.Add(*args[k:k + MAX_TERMS_PER_LINE]), scalars)
        lines.append(f"{target} = {part}" if k == 0 else f"{target} = {target} + {part}")

def _cse_lines(lines: list, exprs, scalars: set) -> list:
    """Common subexpressions of ``exprs`` (``sympy.cse``, canonical order, temporaries ``x0, x1, ...``)
    assigned one per line onto ``lines``; temporaries of scalars only join ``scalars``. Returns the
    reduced expressions."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("x"), order="canonical")
    for sym, e in replacements:
        if e.free_symbols <= scalars:
            scalars.add(sym)
        _assign(lines, str(sym), e, scalars)
    return reduced


def _entry_symbols(be):
    """Block symbols -> local names, conjugates -> ``<name>_conj`` symbols."""
    slices = be.symbol_slices()
    local, conj = {}, {}
    for s, (name, i, j) in slices.items():
        local[s] = sp.Symbol(f"{name}_{i}_{j}")
        conj[sp.conjugate(s)] = sp.Symbol(f"{name}_{i}_{j}_conj")
    return slices, local, conj


def _entry_body(be, want_omega: bool, want_drive: bool) -> list[str]:
    """Lines computing ``omega`` and/or ``drive_<name>`` with cse (entry style)."""
    slices, local, conj = _entry_symbols(be)
    exprs = []
    if want_omega:
        exprs.append(be.omega_block)
    if want_drive:
        for name in be.names:
            exprs += list(be.drive[name])
    rep = {**conj}
    exprs = [sp.sympify(e).xreplace(rep).xreplace(local) for e in exprs]
    used = set().union(*[e.free_symbols for e in exprs]) if exprs else set()
    lines = []
    args = "(" + ", ".join(be.names) + ("," if len(be.names) == 1 else "") + ")"  # a tuple also for one name
    for s, (name, i, j) in slices.items():
        ls, cs = local[s], conj[sp.conjugate(s)]
        if ls in used or cs in used:
            lines.append(f"{ls} = {name}[..., {i}, {j}]")
        if cs in used:
            lines.append(f"{cs} = numpy.conj({ls})")
    scalars = {be.n}
    reduced = _cse_lines(lines, exprs, scalars)
    pos = 0
    if want_omega:
        om = reduced[0]
        if om.free_symbols <= scalars:
            lines.append(f"omega = numpy.full(numpy.broadcast_shapes(*(a.shape for a in {args}))[:-2], "
                         f"{_print(om, scalars)}, dtype=numpy.complex128)")
        else:
            _assign(lines, "omega", om, scalars)
        pos = 1
    if want_drive:
        d = be.d
        if d > 1:
            lines.append(f"shape = numpy.broadcast_shapes(*(a.shape for a in {args}))")
        for name in be.names:
            if d == 1:
                # one entry: the (..., k) result viewed as (..., k, 1, 1), no copy
                e = reduced[pos]
                pos += 1
                if e.free_symbols <= scalars or isinstance(e, sp.Symbol):
                    lines.append(f"drive_{name} = numpy.array(numpy.broadcast_to({_print(e, scalars)}, "
                                 f"numpy.broadcast_shapes(*(a.shape for a in {args}))), dtype=numpy.complex128)")
                else:
                    value = _entry(lines, e, scalars)
                    lines.append(f"drive_{name} = {value if value == 'entry' else f'({value})'}[..., None, None]")
                continue
            lines.append(f"drive_{name} = numpy.empty(shape, dtype=numpy.complex128)")
            for i in range(d):
                for j in range(d):
                    lines.append(f"drive_{name}[..., {i}, {j}] = {_entry(lines, reduced[pos], scalars)}")
                    pos += 1
    return lines


def _entry(lines: list, e, scalars) -> str:
    """The printed entry ``e``; a long sum is assigned to ``entry`` first (see :func:`_assign`)."""
    if isinstance(e, sp.Add) and len(e.args) > MAX_TERMS_PER_LINE:
        _assign(lines, "entry", e, scalars)
        return "entry"
    return _print(e, scalars)


# ---------------------------------------------------------------------------- matrix style
#: How the printer writes a block under each operation (``T``, ``conj`` only inside traces).
_OPERATIONS = {"T": "numpy.swapaxes({0}, -1, -2)", "conj": "numpy.conj({0})",
               "H": "numpy.conj(numpy.swapaxes({0}, -1, -2))"}


class _MatrixWriter:
    """Prints :class:`~symflow.theory.matrix_expr.MatrixExpr` sums as batched NumPy matrix code,
    sharing the conjugated/transposed blocks and the products of word prefixes."""

    def __init__(self):
        self.lines: list[str] = []
        self.blocks: dict = {}
        self.products: dict = {}
        self.count = 0

    def block(self, name: str, op: str = "") -> str:
        """``name`` under ``op`` in ``("", "T", "conj", "H")``, assigned once to ``<name>_<op>``."""
        if op == "":
            return name
        if (name, op) not in self.blocks:
            var = f"{name}_{op}"
            self.lines.append(f"{var} = " + _OPERATIONS[op].format(name))
            self.blocks[(name, op)] = var
        return self.blocks[(name, op)]

    def factor(self, f: Factor) -> str:
        return self.block(f.name, "H" if f.adjoint else "")

    def product(self, word: tuple) -> str:
        if len(word) == 1:
            return self.factor(word[0])
        if word not in self.products:
            left = self.product(word[:-1])
            right = self.factor(word[-1])
            var = f"x{self.count}"
            self.count += 1
            self.lines.append(f"{var} = {left} @ {right}  # " + " ".join(map(str, word)))
            self.products[word] = var
        return self.products[word]

    def trace_term(self, word: tuple) -> str:
        """``tr(W)``: ``tr(f1 R) = sum(f1^T * R)`` over the last two axes (no matrix product)."""
        if len(word) == 1:
            return f"numpy.trace({self.factor(word[0])}, axis1=-2, axis2=-1)"
        first = self.block(word[0].name, "conj" if word[0].adjoint else "T")
        return f"numpy.sum({first} * {self.product(word[1:])}, axis=(-2, -1))"

    def matrix_sum(self, form: MatrixExpr, like: str) -> str:
        if not form.terms:
            return f"numpy.zeros_like({like}, dtype=numpy.complex128)"
        parts = []
        for t in form.terms:
            body = self.trace_term(t.word) if form.kind == "trace" else self.product(t.word)
            parts.append(body if t.coeff == 1 else f"({_print(t.coeff)})*{body}")
        if len(parts) == 1 and form.kind == "matrix" and form.terms[0].coeff == 1:
            # never hand back (a view of) an input block as a result
            return f"numpy.array({parts[0]}, dtype=numpy.complex128)"
        return " + ".join(parts)


def _matrix_body(be, forms, want_omega: bool, want_drive: bool) -> list[str]:
    omega_form, drive_forms = forms
    w = _MatrixWriter()
    out = []
    if want_drive:
        for name in be.names:
            out.append(f"drive_{name} = {w.matrix_sum(drive_forms[name], name)}")
    if want_omega:
        out.insert(0, f"omega = {w.matrix_sum(omega_form, be.names[0])}")
    return w.lines + out


def matrix_forms(model, be):
    """``(omega_form, {name: drive_form})`` (:class:`~symflow.theory.matrix_expr.MatrixExpr`) for the
    block expressions ``be``, or ``None``.

    Built by the theory engine (:func:`~symflow.theory.energy.energy_trace_words`,
    :func:`~symflow.theory.trace_calculus.drive_expressions`). A form with blocks of pointwise
    powers (never the case for a model with a reduced block flow: its activation is quadratic) has
    no block arrays to print from: ``None``, and the generator prints entry-level code.
    """
    omega_form = energy_trace_words(model, be.d, be.n)
    drive_forms = drive_expressions(model, be.d)
    forms = [omega_form] + [drive_forms[name] for name in be.names]
    if any(f.power != 1 for form in forms for w in form.words for f in w):
        return None
    return omega_form, drive_forms


# ---------------------------------------------------------------------------- module
@dataclass
class GeneratedSource:
    """Source text of a generated module with its provenance."""

    source: str
    expression_hash: str
    code_hash: str
    styles: dict
    model_key: str

    def __repr__(self) -> str:
        return (f"<GeneratedSource {self.model_key}: styles {self.styles}, {len(self.source.splitlines())} lines, "
                f"hash {self.expression_hash[:12]}>")


def _func(name: str, args: str, doc: str, body: list[str], ret: str) -> str:
    lines = [f"def {name}({args}):", textwrap.indent(f'"""{doc}"""', "    ")]
    lines += ["    " + ln for ln in body]
    lines.append(f"    return {ret}")
    return "\n".join(lines)


_RADIAL_TEMPLATE = '''

def radial(Omega):
    """Radial coefficients per vector: d nu/dt = drive - radial * nu on nontrivial blocks."""
    return ({radial_exprs})
'''


def code_hash_of(expression_hash: str, layout) -> str:
    """SHA-256 (hex) of ``expression_hash + json(layout)``: what a generated file is cached under
    (``layout``: the code style per block dimension, or a function's signature)."""
    return hashlib.sha256((expression_hash + json.dumps(layout)).encode()).hexdigest()


def module_header(title: str, about: str, expression_hash: str, code_hash: str, details: str, constants: dict) -> str:
    """The provenance header every generated module starts with: a docstring naming the symflow,
    SymPy and NumPy versions, both hashes and the date, then ``import numpy`` and ``constants``
    (``NAME = repr(value)``; ``CODE_HASH`` among them, which :func:`.cache.read_verified` checks)."""
    import numpy

    lines = [f'"""{title}, generated by symflow {SYMFLOW_VERSION} with SymPy {sp.__version__} '
             f'(NumPy {numpy.__version__}).', "", about,
             f"Expression hash: sha256:{expression_hash}", f"Code hash: sha256:{code_hash}",
             f"Generated: {datetime.date.today().isoformat()}", "", details, '"""', "import numpy", ""]
    lines += [f"{name} = {value!r}" for name, value in constants.items()]
    return "\n".join(lines) + "\n"


def generate_source(model, style: str = "auto", dims=None, fx: FlowExpressions | None = None) -> GeneratedSource:
    """Generate the module source for ``model`` (see the module docstring)."""
    if fx is None:
        fx = flow_expressions(model, dims)
    names = fx.names
    args = ", ".join(names)
    styles, sections, form_notes = {}, [], []
    for d in fx.dims:
        be = fx.blocks[d]
        st = choose_style(d, style)
        forms = matrix_forms(model, be) if st == "matrix" else None
        if st == "matrix" and forms is None:
            st = "entries"  # not a sum of matrix products: entry-level code is always available
        styles[d] = st
        if st == "matrix":
            om, dr = forms
            form_notes.append(f"    d = {d}: omega_block = {om}")
            for name in names:
                form_notes.append(f"    d = {d}: drive_{name} = {dr[name]}")
            body = lambda o, g: _matrix_body(be, forms, o, g)  # noqa: E731
        else:
            body = lambda o, g: _entry_body(be, o, g)  # noqa: E731
        drives = "(" + ", ".join(f"drive_{nm}" for nm in names) + ("," if len(names) == 1 else "") + ")"
        sections.append(f"# {'-' * 70} d = {d} ({st})")
        sections.append(_func(f"omega_block_{d}", f"{args}, n",
                              f"Contribution of each block of dimension {d} to Omega, shape (..., k).",
                              body(True, False), "omega"))
        sections.append(_func(f"drive_{d}", f"{args}, n",
                              f"Fourier-coordinate Euclidean gradient per vector, each (..., k, {d}, {d}).",
                              body(False, True), drives))
        sections.append(_func(f"block_terms_{d}", f"{args}, n",
                              "(omega_block, drives) with shared subexpressions.",
                              body(True, True), f"omega, {drives}"))
    exprs_hash = fx.hash
    code_hash = code_hash_of(exprs_hash, sorted(styles.items()))
    radial_exprs = ", ".join(_print(fx.blocks[fx.dims[0]].radial[nm]) for nm in names) + ("," if len(names) == 1 else "")
    mapping = ", ".join(f"{nm}_i_j -> {nm}[..., i, j]" for nm in names)
    dims_text = ", ".join(f"d={d} {s}" for d, s in styles.items())
    about = f"""Generic in the group order n (an argument of every kernel): serves every group whose irrep blocks have
the dimensions {tuple(fx.dims)!r}, for the neuron settings {fx.settings}.
Block dimensions and code style: {dims_text}"""
    details = f"""Arrays have shape (..., k, d, d): batch (neurons), the k irreps of dimension d, one block.
Symbols -> array slices: {mapping}; conjugate(s) -> s_conj = numpy.conj(s).
Per block (GC convention nu_hat[rho] = (1/n) sum_g nu(g) rho(g)^*):
    d nu/dt = drive_nu - radial_nu(Omega) nu          (nontrivial irreps)
    d nu[1]/dt = -TRIVIAL_RATE[nu] Omega nu[1]         (trivial irrep)
    Omega = sum over nontrivial irreps of omega_block (real for real signals)
The flow is assembled from these kernels by symflow.dynamics.
Matrix forms used:
{chr(10).join(form_notes) if form_notes else "    (entry-level code only)"}
Regenerate: symflow codegen <group> [--shared] [--spheres ...] -o FILE"""
    header = module_header("Block kernels of the reduced Fourier-domain flow", about, exprs_hash, code_hash, details,
                           {"NAMES": tuple(names), "DIMS": tuple(fx.dims), "STYLE": styles,
                            "EXPRESSION_HASH": exprs_hash, "CODE_HASH": code_hash, "SYMPY_VERSION": sp.__version__,
                            "TRIVIAL_RATE": {nm: float(fx.trivial[nm]) for nm in names}})
    body = "\n\n\n".join(sections)
    table = "BLOCK_TERMS = {" + ", ".join(f"{d}: block_terms_{d}" for d in fx.dims) + "}\n"
    table += "OMEGA_BLOCK = {" + ", ".join(f"{d}: omega_block_{d}" for d in fx.dims) + "}\n"
    table += "DRIVE = {" + ", ".join(f"{d}: drive_{d}" for d in fx.dims) + "}\n"
    source = header + "\n\n" + body + "\n\n\n" + table + _RADIAL_TEMPLATE.format(radial_exprs=radial_exprs)
    return GeneratedSource(source=source, expression_hash=exprs_hash, code_hash=code_hash, styles=styles,
                           model_key=fx.model_key)


# ---------------------------------------------------------------------------- functions of expressions
def _argument_names(args) -> dict:
    """``arg -> Symbol`` named as the argument when that is a usable Python name, else ``arg_<i>``."""
    return {a: sp.Symbol(str(a) if str(a).isidentifier() and not keyword.iskeyword(str(a)) and str(a) != "numpy"
                         else f"arg_{i}") for i, a in enumerate(args)}


def function_code_hash(exprs, args, func: str = "rates") -> tuple:
    """``(expression_hash, code_hash)`` of the module :func:`generate_function_source` writes."""
    exprs_hash = function_expression_hash(exprs, args)
    return exprs_hash, code_hash_of(exprs_hash, [func, [str(a) for a in args], sp.__version__])


def generate_function_source(exprs, args, func: str = "rates", title: str = "Vectorised rates") -> GeneratedSource:
    """A module defining ``func(*args) -> tuple of arrays`` that computes the SymPy ``exprs``.

    Printed like the flow kernels: common subexpressions eliminated by ``sympy.cse`` (temporaries
    ``x0, x1, ...``), one assignment per line, NumPy functions; the arrays broadcast against each
    other. Header and hashes as for every generated module (:func:`module_header`).
    """
    exprs = [sp.sympify(e) for e in exprs]
    exprs_hash, code_hash = function_code_hash(exprs, args, func)
    names = _argument_names(args)
    body, scalars = [], set()
    reduced = _cse_lines(body, [e.subs(names, simultaneous=True) for e in exprs], scalars)
    outs = ", ".join(_print(e, scalars) for e in reduced)
    arglist = ", ".join(str(names[a]) for a in args)
    header = module_header(title, f"{func}({arglist}) -> {len(exprs)} arrays, broadcast over the arguments.",
                           exprs_hash, code_hash, "Do not edit: regenerated when the expressions or the SymPy version change.",
                           {"EXPRESSION_HASH": exprs_hash, "CODE_HASH": code_hash, "SYMPY_VERSION": sp.__version__,
                            "ARGUMENTS": [str(a) for a in args], "EXPRESSIONS": [str(e) for e in exprs]})
    source = header + "\n\n" + _func(func, arglist, f"Returns {len(exprs)} arrays, broadcast over the arguments.",
                                       body, f"({outs},)") + "\n"
    return GeneratedSource(source=source, expression_hash=exprs_hash, code_hash=code_hash,
                           styles={"function": "entries"}, model_key=func)
