"""``symflow derive NAME``: the energy, its exact verification, the block flow and abelian closed forms.

Prints, with rich: the energy functional (generic Fourier form; the parameter-space form for
small groups, a summary otherwise) and its exact proof for the group; the Riemannian flow of a
generic irrep block for every irrep dimension of the group, with the trivial-block decay; for
abelian groups the magnitude/phase system, the ``w`` equation and the competition law.
``--latex`` prints the same content as LaTeX.
"""
from __future__ import annotations

import sys
import time

#: Groups up to this order also get the parameter-space energy written out.
PARAMETER_FORM_MAX_ORDER = 6
#: From this many irreps (= classes) on, the exact proof takes long enough (tens of seconds; minutes for
#: Z1009) that a hint on stderr says how to skip it.
PROOF_HINT_IRREPS = 100


def register(sub):
    p = sub.add_parser("derive", help="derive the energy, the Riemannian block flow and abelian closed forms",
                       description="Derive (SymPy) the per-neuron energy in parameter and Fourier space, prove "
                                   "them equal for the group, and derive the flow per irrep block.")
    p.add_argument("name", help="group name, e.g. Z7, Z3xZ5, D5, Q8, S4, A5, F21")
    p.add_argument("--shared", action="store_true", help="shared input embedding theta1 = theta2")
    p.add_argument("--spheres", choices=["separate", "joint"], default=None,
                   help="separate unit spheres (CE default) or [theta1; theta2] on one sphere (MSE default)")
    p.add_argument("--loss", choices=["ce", "mse"], default="ce",
                   help="small-logit cross-entropy (GC) or sample-centred MSE (Li2)")
    p.add_argument("--activation", default=None, metavar="EXPR",
                   help="polynomial activation in z, e.g. 'z**2' (default) or 'z**2+z**3' (not quadratic: the energy "
                        "and its proof; the per-block flow needs a quadratic)")
    p.add_argument("--constraint", choices=["sphere", "none"], default="sphere",
                   help="projected flow on spheres (Stage I) or the plain gradient")
    p.add_argument("--points", type=int, default=5, metavar="K",
                   help="random exact points for the energy proof (default 5); '--points 0' skips it, much faster for "
                        "large groups: the proof on Z1009 takes minutes, the rest about 20 s")
    p.add_argument("--no-progress", action="store_true", help="no progress bar for the exact proof")
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of rich text")
    p.set_defaults(func=run)


def _model(args):
    from ..errors import ModelError
    from ..theory import Model

    if args.points < 0:
        raise ModelError(f"--points must be >= 0, got {args.points}")
    m = Model(args.name, shared=args.shared, spheres=args.spheres, activation=args.activation,
              loss=args.loss, constraint=args.constraint)
    return m


def proof_hint(G, points: int) -> str:
    """The stderr hint printed before a long exact proof (groups with >= ``PROOF_HINT_IRREPS`` irreps)."""
    return (f"derive {G.name}: the exact proof of the energy at {points} point(s) builds all {len(G.classes)} "
            f"exact irreps of {G.name} (order {G.order}) and takes a while (minutes near order 1000); '--points 0' skips it "
            f"('--points 1' proves at one point)")


def run(args) -> int:
    m = _model(args)
    t0 = time.perf_counter()
    E = m.energy()
    if args.points and len(m.group.classes) >= PROOF_HINT_IRREPS:
        print(proof_hint(m.group, args.points), file=sys.stderr, flush=True)
    report = E.verify(points=args.points, progress=not args.no_progress) if args.points else None
    # A non-quadratic activation has no per-block flow (its energy couples the blocks): show the
    # energy and its proof, and say why the flow is missing.
    flows = m.block_flows() if m.is_bilinear else None
    cf = None
    if flows is not None and m.group.is_abelian and m.loss == "ce":
        from ..progress import progress_bar
        from ..theory import abelian_closed_form

        with progress_bar(f"abelian closed form of {m.group.name} ({len(m.group.orbits) - 1} frequencies)", total=None,
                          enabled=not args.no_progress and m.group.order >= PROOF_HINT_IRREPS):
            cf = abelian_closed_form(m)
    seconds = time.perf_counter() - t0
    if args.latex:
        _print_latex(m, E, report, flows, cf)
    else:
        _print_rich(m, E, report, flows, cf, seconds)
    if report is not None and not report.passed:
        return 1
    return 0


def _no_flow_note(m) -> str:
    from ..errors import ModelError

    try:
        m.require_block_flow()
    except ModelError as exc:
        return f"No per-block flow: {exc}"
    return ""


# ---------------------------------------------------------------------- text
def _print_rich(m, E, report, flows, cf, seconds):
    import sympy as sp
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from ..theory.display import HAT, block_flow_text, energy_text, omega_decay_text

    con = Console()
    con.print(Panel(Text(m.describe()), title=f"symflow derive {m.group.name}", expand=False))
    con.print("[bold]Energy functional[/] (Fourier form, sum over nontrivial irreps ρ):")
    con.print(Text("  " + energy_text(E)))
    G = m.group
    nsym = len(m.vector_names) * G.order
    if G.order <= PARAMETER_FORM_MAX_ORDER:
        con.print("[bold]Parameter space[/] (sums over the Cayley table):")
        con.print(Text("  " + ("Omega" if m.loss == "ce" else "E") + " = " + sp.sstr(sp.expand(E.parameter_space))))
    else:
        con.print(f"[bold]Parameter space[/]: {G.order}^2 = {G.order ** 2} Cayley-table products per cross term in "
                  f"{nsym} real symbols ({', '.join(f'{k}_0..{k}_{G.order - 1}' for k in m.vector_names)}); "
                  "Model.energy().parameter_space holds it")
    if report is not None:
        style = "green" if report.passed else "bold red"
        con.print(Text("  " + report.summary(), style=style))
    con.print()
    if flows is None:
        con.print(Text(_no_flow_note(m), style="yellow"))
        con.print(Text(f"derived in {seconds:.2f} s (sympy {sp.__version__})", style="dim"))
        return
    con.print("[bold]Riemannian flow per irrep block[/] (d = block dimension; Ω = the neuron's energy; "
              "X* = conjugate transpose):")
    table = Table(show_header=True, header_style="bold")
    table.add_column("d")
    table.add_column("irreps")
    table.add_column("flow")
    for d, bf in flows.items():
        k = len(G.irreps_by_dim[d]) - (1 if G.irreps[G.trivial_index].dim == d else 0)
        rows = "\n".join(block_flow_text(bf))
        table.add_row(str(d), str(k), rows)
    con.print(table)
    triv = ", ".join(f"d{HAT.get(k, k)}[1]/dt = {omega_decay_text(c, HAT.get(k, k) + '[1]')}"
                     for k, c in m.trivial_flow.items())
    con.print(Text("  trivial block: " + triv))
    if cf is not None:
        con.print()
        _print_closed_form_rich(con, cf)
    con.print(Text(f"derived in {seconds:.2f} s (sympy {sp.__version__})", style="dim"))


def _print_closed_form_rich(con, cf):
    from rich.text import Text

    from ..theory.display import omega_decay_text, scalar_text as _scalar_text

    con.print("[bold]Abelian closed form[/] (per frequency pair k: θ̂[k] = (α_k/2) e^{iφ_k}, ξ̂[k] = (β_k/2) e^{iψ_k}):")
    for eq in cf.template["pair"]:
        con.print(Text(f"  d{eq.lhs.expr.func.__name__}/dt = {_scalar_text(eq.rhs)}"))
    if any(f[3] == "real" for f in cf.frequencies):
        con.print("  self-conjugate frequency (real amplitudes):")
        for eq in cf.template["real"]:
            con.print(Text(f"  d{eq.lhs.expr.func.__name__}/dt = {_scalar_text(eq.rhs)}"))
    om = " + ".join(f"Σ_{kind} {_scalar_text(v)}" for kind, v in cf.omega_template.items()
                    if kind == "pair" or any(f[3] == "real" for f in cf.frequencies))
    con.print(Text(f"  Ω = {om}"))
    if cf.w_rate == 0:  # no sphere constraint: no radial term, so no -c Ω w_k term
        w_law = f"dw_k/dt = {_scalar_text(cf.w_drive)}   (real: Im w_k is conserved)"
    else:
        w_law = (f"dw_k/dt = {_scalar_text(cf.w_drive)} {omega_decay_text(cf.w_rate, 'w_k').replace('-', '- ', 1)}   "
                 f"(Im w_k decays like exp(-{_scalar_text(cf.w_rate)} ∫Ω dt))")
    con.print(Text(f"  w_k = {_scalar_text(cf.w_definition.rhs)}:  {w_law}"))
    con.print(Text(f"  competition: d/dt ln({cf.competition.lhs.expr.args[0]}) = {_scalar_text(cf.competition.rhs)}"))
    labels = ", ".join(f"{f}:{lab}" for f, _, lab, kind in cf.frequencies[:12])
    more = "" if len(cf.frequencies) <= 12 else f", ... ({len(cf.frequencies)} in all)"
    con.print(Text(f"  frequencies of {cf.model.group.name} (index: character): {labels}{more}", style="dim"))


# ---------------------------------------------------------------------- LaTeX
def _print_latex(m, E, report, flows, cf):
    from ..theory.display import block_flow_latex, closed_form_latex, energy_latex, model_latex

    out = [f"% symflow derive {m.group.name}: {m.describe()}", model_latex(m), energy_latex(E, "fourier")]
    if m.group.order <= PARAMETER_FORM_MAX_ORDER:
        out.append(energy_latex(E, "parameter"))
    if report is not None:
        out.append("% " + report.summary())
    if flows is None:
        out.append("% " + _no_flow_note(m))
    for d, bf in (flows or {}).items():
        out.append(f"% block dimension d = {d}")
        out.append(block_flow_latex(bf))
    if cf is not None:
        out.append("% abelian closed form")
        out.append(closed_form_latex(cf))
    print("\n\n".join(out))
