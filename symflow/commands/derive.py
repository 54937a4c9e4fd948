"""``symflow derive NAME``: the energy, its exact verification, the block flow and abelian closed forms.

Prints, with rich: the energy functional (generic Fourier form; the parameter-space form for
small groups, a summary otherwise) and its exact proof for the group; the Riemannian flow of a
generic irrep block for every irrep dimension of the group, with the trivial-block decay; for
abelian groups the magnitude/phase system, the ``w`` equation and the competition law.
``--latex`` prints the same content as LaTeX; ``--json`` prints one JSON object (public contract)::

    {"group", "order", "abelian", "time_seconds",
     "model": {"shared", "spheres", "loss", "activation", "constraint"},
     "energy": {"fourier": {"text", "latex"},
                "parameter": {"text", "latex"} (order <= 6) or {"text": null, "latex": null, "note"}},
     "proof": null (--points 0) or {"points", "seed", "exact", "failure_probability" (null if not exact),
                                     "passed", "verdict", "summary"},
     "flows": null (no per-block flow: "flow_note" says why) or
              [{"d", "irreps", "text": [one line per vector], "latex"}],
     "flow_note", "trivial_flow": {vector: text} (null without flows),
     "closed_form": null (non-abelian, MSE or no flow) or
                    {"pair": [text], "real": [text], "omega", "w", "w_rate", "competition", "latex",
                     "frequencies": count, "frequency_pairs", "self_conjugate"},
     "versions": {"symflow", "numpy", "python", "sympy"}}

The exit code is 1 when the proof fails, as for the text output.
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
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead: group, order, model settings, the energy (Fourier and "
                        "parameter space, text and LaTeX), the proof (points, failure probability, passed), the "
                        "per-block flows (text and LaTeX), abelian closed forms, versions (keys in the README)")
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
    return (f"derive {G.name}: the exact proof of the energy at {points} point(s) builds all {_irrep_count(G)} "
            f"exact irreps of {G.name} (order {G.order}) and takes a while (minutes near order 1000); '--points 0' skips it "
            f"('--points 1' proves at one point)")


def _irrep_count(G) -> int:
    """Number of irreps (= classes) of ``G``; abelian products from their order (no class list built)."""
    return G.order if G.abelian_factors is not None else len(G.classes)


def _irreps_of_dim(G, d: int) -> int:
    """Non-trivial irreps of dimension ``d`` (abelian products: all ``n - 1`` of dimension 1, no irrep built)."""
    if G.abelian_factors is not None:
        return G.order - 1 if d == 1 else 0
    return len(G.irreps_by_dim[d]) - (1 if G.irreps[G.trivial_index].dim == d else 0)


def _block_flows(m) -> dict:
    """``Model.block_flows()`` without building irreps for abelian products (every irrep has ``d = 1``)."""
    if m.group.abelian_factors is not None:
        return {1: m.block_flow(1)}
    return m.block_flows()


def _check_proof_limit(G, points: int) -> None:
    """The exact proof builds every exact character: a one-line error above the abelian irrep limit."""
    from ..errors import SymflowError
    from ..groups.abelian import MAX_IRREP_ORDER

    if points and G.abelian_factors is not None and G.order > MAX_IRREP_ORDER:
        raise SymflowError(f"derive {G.name}: the exact proof of the energy evaluates all {G.order} exact characters, "
                           f"built only for abelian groups of order <= {MAX_IRREP_ORDER}; use '--points 0' "
                           "(the energy, the flow and the closed forms need no irreps)")


def run(args) -> int:
    from ..errors import SymflowError

    if args.json and args.latex:
        raise SymflowError("--json and --latex are two output forms: give one of them")
    m = _model(args)
    _check_proof_limit(m.group, args.points)
    t0 = time.perf_counter()
    E = m.energy()
    if args.points and _irrep_count(m.group) >= PROOF_HINT_IRREPS:
        print(proof_hint(m.group, args.points), file=sys.stderr, flush=True)
    report = E.verify(points=args.points, progress=not args.no_progress) if args.points else None
    # A non-quadratic activation has no per-block flow (its energy couples the blocks): show the
    # energy and its proof, and say why the flow is missing.
    flows = _block_flows(m) if m.is_bilinear else None
    cf = None
    if flows is not None and m.group.is_abelian and m.loss == "ce":
        from ..progress import progress_bar
        from ..theory import abelian_closed_form

        with progress_bar(f"abelian closed form of {m.group.name} ({len(m.group.orbits) - 1} frequencies)", total=None,
                          enabled=not args.no_progress and m.group.order >= PROOF_HINT_IRREPS):
            cf = abelian_closed_form(m)
    seconds = time.perf_counter() - t0
    if args.json:
        import json

        print(json.dumps(derive_json(m, E, report, flows, cf, seconds)))
    elif args.latex:
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
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from ..theory.display import block_flow_text, energy_text

    from ..groups.display import rich_console

    con = rich_console()
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
        rows = "\n".join(block_flow_text(bf))
        table.add_row(str(d), str(_irreps_of_dim(G, d)), rows)
    con.print(table)
    con.print(Text("  trivial block: " + ", ".join(_trivial_flow_text(m).values())))
    if cf is not None:
        con.print()
        _print_closed_form_rich(con, cf)
    con.print(Text(f"derived in {seconds:.2f} s (sympy {sp.__version__})", style="dim"))


def _trivial_flow_text(m) -> dict:
    """``{vector: "dθ̂₁[1]/dt = -Ω θ̂₁[1]"}`` (``= 0`` without the sphere constraint)."""
    from ..theory.display import HAT, omega_decay_text

    return {k: f"d{HAT.get(k, k)}[1]/dt = {omega_decay_text(c, HAT.get(k, k) + '[1]')}"
            for k, c in m.trivial_flow.items()}


def _closed_form_text(cf) -> dict:
    """Plain text of the abelian closed form: ``pair``/``real`` template equations, ``omega``, ``w``,
    ``competition`` (what the rich output prints and the JSON holds)."""
    from ..theory.display import omega_decay_text, scalar_text as _scalar_text

    has_real = any(f[3] == "real" for f in cf.frequencies)
    eqs = {kind: [f"d{eq.lhs.expr.func.__name__}/dt = {_scalar_text(eq.rhs)}" for eq in cf.template[kind]]
           for kind in ("pair", "real")}
    om = " + ".join(f"Σ_{kind} {_scalar_text(v)}" for kind, v in cf.omega_template.items()
                    if kind == "pair" or has_real)
    if cf.w_rate == 0:  # no sphere constraint: no radial term, so no -c Ω w_k term
        w_law = f"dw_k/dt = {_scalar_text(cf.w_drive)}   (real: Im w_k is conserved)"
    else:
        w_law = (f"dw_k/dt = {_scalar_text(cf.w_drive)} {omega_decay_text(cf.w_rate, 'w_k').replace('-', '- ', 1)}   "
                 f"(Im w_k decays like exp(-{_scalar_text(cf.w_rate)} ∫Ω dt))")
    return {"pair": eqs["pair"], "real": eqs["real"] if has_real else [], "omega": f"Ω = {om}",
            "w": f"w_k = {_scalar_text(cf.w_definition.rhs)}:  {w_law}",
            "competition": f"d/dt ln({cf.competition.lhs.expr.args[0]}) = {_scalar_text(cf.competition.rhs)}"}


def _print_closed_form_rich(con, cf):
    from rich.text import Text

    text = _closed_form_text(cf)
    con.print("[bold]Abelian closed form[/] (per frequency pair k: θ̂[k] = (α_k/2) e^{iφ_k}, ξ̂[k] = (β_k/2) e^{iψ_k}):")
    for line in text["pair"]:
        con.print(Text("  " + line))
    if text["real"]:
        con.print("  self-conjugate frequency (real amplitudes):")
        for line in text["real"]:
            con.print(Text("  " + line))
    for key in ("omega", "w"):
        con.print(Text("  " + text[key]))
    con.print(Text("  competition: " + text["competition"]))
    def freq(lab) -> str:
        if isinstance(lab, tuple):
            return str(lab[0]) if len(lab) == 1 else "(" + ",".join(map(str, lab)) + ")"
        return str(lab)

    labels = ", ".join(f"{f}:{freq(lab)}" for f, _, lab, kind in cf.frequencies[:12])
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


# ---------------------------------------------------------------------- JSON
def derive_json(m, E, report, flows, cf, seconds: float) -> dict:
    """The public JSON contract of ``symflow derive NAME --json`` (see the module docstring)."""
    import sympy as sp

    from ..provenance import versions
    from ..theory.display import block_flow_latex, block_flow_text, closed_form_latex, energy_latex, energy_text

    G = m.group
    if G.order <= PARAMETER_FORM_MAX_ORDER:
        param = {"text": ("Omega" if m.loss == "ce" else "E") + " = " + sp.sstr(sp.expand(E.parameter_space)),
                 "latex": energy_latex(E, "parameter")}
    else:
        param = {"text": None, "latex": None,
                 "note": f"{G.order}^2 Cayley-table products per cross term: written out for groups of order <= "
                         f"{PARAMETER_FORM_MAX_ORDER} only (Model.energy().parameter_space holds it)"}
    proof = None
    if report is not None:
        fp = report.failure_probability
        proof = {"points": int(report.points), "seed": int(report.seed), "exact": bool(report.exact),
                 "failure_probability": None if fp != fp else float(fp), "passed": bool(report.passed),
                 "verdict": report.summary().split(":", 1)[0], "summary": report.summary()}
    closed = None
    if cf is not None:
        closed = {**_closed_form_text(cf), "latex": closed_form_latex(cf), "w_rate": str(cf.w_rate),
                  "frequencies": len(cf.frequencies),
                  "frequency_pairs": sum(1 for f in cf.frequencies if f[3] == "pair"),
                  "self_conjugate": sum(1 for f in cf.frequencies if f[3] == "real")}
    return {
        "group": G.name, "order": int(G.order), "abelian": bool(G.is_abelian), "time_seconds": round(seconds, 3),
        "model": {"shared": bool(m.shared), "spheres": m.spheres, "loss": m.loss, "activation": m.activation_text,
                  "constraint": m.constraint},
        "energy": {"fourier": {"text": energy_text(E), "latex": energy_latex(E, "fourier")}, "parameter": param},
        "proof": proof,
        "flows": None if flows is None else [
            {"d": int(d), "irreps": _irreps_of_dim(G, d), "text": block_flow_text(bf), "latex": block_flow_latex(bf)}
            for d, bf in flows.items()],
        "flow_note": None if flows is not None else _no_flow_note(m),
        "trivial_flow": None if flows is None else _trivial_flow_text(m),
        "closed_form": closed,
        "versions": versions("sympy"),
    }
