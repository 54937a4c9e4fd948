"""``symflow derive NAME``: the energy, its exact verification, the block flow and abelian closed forms.

Prints, with rich: the energy functional (generic Fourier form; the parameter-space form for
small groups, a summary otherwise) and its exact proof for the group; the Riemannian flow of a
generic irrep block for every irrep dimension of the group, with the trivial-block decay; for
abelian groups the magnitude/phase system, the ``w`` equation and the competition law.
``--latex`` prints the same content as LaTeX; ``--json`` prints the public JSON contract
:func:`symflow.theory.derivation.derive_json`.

Which proof runs (``--proof``): the exact proof at random points of the group (EnergyFunctional.verify: all
exact irreps; minutes near order 1000) or, for products of cyclic groups, the proof generic in ``n``
(:mod:`symflow.theory.generic_proof`: the energy and the closed form proved once, symbolically, for every ``Z_n``
and product; about a second). ``auto`` (the default) takes the generic one from order
``GENERIC_PROOF_MIN_ORDER`` on.

The exit code is 1 when the proof fails, as for the text output.
"""
from __future__ import annotations

import sys
import time

from ..theory.derivation import (PARAMETER_FORM_MAX_ORDER, block_flows, closed_form_text, derive_json, irrep_count,
                                 irreps_of_dim, no_flow_note, trivial_flow_text)
from . import options

#: From this many irreps (= classes) on, the exact proof takes long enough (tens of seconds; minutes for
#: Z1009) that a hint on stderr says how to skip it.
PROOF_HINT_IRREPS = 100
#: From this order on, ``--proof auto`` proves an abelian product by the proof generic in n (the exact proof
#: at random points stays the default below, and ``--proof exact`` above).
GENERIC_PROOF_MIN_ORDER = 100


def register(sub):
    p = sub.add_parser("derive", help="derive the energy, the Riemannian block flow and abelian closed forms",
                       description="Derive (SymPy) the per-neuron energy in parameter and Fourier space, prove "
                                   "them equal for the group, and derive the flow per irrep block.")
    options.group_name(p)
    options.shared(p)
    options.spheres(p)
    options.loss(p)
    options.activation(p, None, "polynomial activation in z, e.g. 'z**2' (default) or 'z**2+z**3' (not quadratic: "
                                "the energy and its proof; the per-block flow needs a quadratic)")
    p.add_argument("--constraint", choices=["sphere", "none"], default="sphere",
                   help="projected flow on spheres (Stage I) or the plain gradient")
    p.add_argument("--points", type=int, default=5, metavar="K",
                   help="random exact points for the exact energy proof (default 5); '--points 0' skips the proof "
                        "(either method)")
    p.add_argument("--proof", choices=["auto", "exact", "generic"], default="auto",
                   help="exact: at random points of this group, with all its exact irreps (minutes near order 1000); "
                        "generic: the energy and the abelian closed form proved once for every Z_n and product "
                        "(symbolic n; abelian products only); auto (default): generic for abelian products of order "
                        f">= {GENERIC_PROOF_MIN_ORDER}, exact otherwise")
    options.no_progress(p)
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of rich text")
    options.json_flag(p, note=": group, order, model settings, the energy (Fourier and parameter space, text and "
                              "LaTeX), the proof (points, failure probability, passed), the per-block flows (text and "
                              "LaTeX), abelian closed forms, versions (keys in the README)")
    options.runs(p, run)


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
    return (f"derive {G.name}: the exact proof of the energy at {points} point(s) builds all {irrep_count(G)} "
            f"exact irreps of {G.name} (order {G.order}) and takes a while (minutes near order 1000); '--points 0' skips it "
            f"('--points 1' proves at one point)")


def proof_method(m, choice: str) -> str:
    """``"exact"`` or ``"generic"``: the proof ``derive`` runs for model ``m`` under ``--proof choice``."""
    from ..errors import SymflowError
    from ..theory.generic_proof import generic_proof_applies

    applies = generic_proof_applies(m)
    if choice == "generic" and not applies:
        raise SymflowError(f"derive {m.group.name}: --proof generic covers products of cyclic groups Z_n1 x ... x Z_nr "
                           "only; use '--proof exact' or '--proof auto'")
    if choice == "auto":
        return "generic" if applies and m.group.order >= GENERIC_PROOF_MIN_ORDER else "exact"
    return choice


def _check_proof_limit(G, points: int) -> None:
    """The exact proof builds every exact character: a one-line error above the abelian irrep limit."""
    from ..errors import SymflowError
    from ..groups.abelian import MAX_IRREP_ORDER

    if points and G.abelian_factors is not None and G.order > MAX_IRREP_ORDER:
        raise SymflowError(f"derive {G.name}: the exact proof of the energy evaluates all {G.order} exact characters, "
                           f"built only for abelian groups of order <= {MAX_IRREP_ORDER}; use '--proof generic' "
                           "(symbolic in n) or '--points 0' (the energy, the flow and the closed forms need no irreps)")


def run(args) -> int:
    from ..errors import SymflowError

    if args.json and args.latex:
        raise SymflowError("--json and --latex are two output forms: give one of them")
    m = _model(args)
    method = proof_method(m, args.proof)
    if method == "exact":
        _check_proof_limit(m.group, args.points)
    t0 = time.perf_counter()
    E = m.energy()
    report = None
    if args.points and method == "exact":
        if irrep_count(m.group) >= PROOF_HINT_IRREPS:
            print(proof_hint(m.group, args.points), file=sys.stderr, flush=True)
        report = E.verify(points=args.points, progress=not args.no_progress)
    # A non-quadratic activation has no per-block flow (its energy couples the blocks): show the
    # energy and its proof, and say why the flow is missing.
    flows = block_flows(m) if m.is_bilinear else None
    cf = None
    if flows is not None and m.group.is_abelian and m.loss == "ce":
        from ..progress import progress_bar
        from ..theory import abelian_closed_form

        with progress_bar(f"abelian closed form of {m.group.name}", total=None,
                          enabled=not args.no_progress and m.group.order >= PROOF_HINT_IRREPS):
            cf = abelian_closed_form(m)
    if args.points and method == "generic":
        from ..progress import progress_bar
        from ..theory.generic_proof import prove_abelian

        with progress_bar("energy and closed form proved generic in n", total=None,
                          enabled=not args.no_progress and m.group.order >= PROOF_HINT_IRREPS):
            report = prove_abelian(m, cf)
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
        con.print(Text(no_flow_note(m), style="yellow"))
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
        table.add_row(str(d), str(irreps_of_dim(G, d)), rows)
    con.print(table)
    con.print(Text("  trivial block: " + ", ".join(trivial_flow_text(m).values())))
    if cf is not None:
        con.print()
        _print_closed_form_rich(con, cf)
    con.print(Text(f"derived in {seconds:.2f} s (sympy {sp.__version__})", style="dim"))


def _print_closed_form_rich(con, cf):
    from rich.text import Text

    text = closed_form_text(cf)
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

    total = sum(cf.frequency_counts.values())
    labels = ", ".join(f"{f}:{freq(lab)}" for f, lab, kind in cf.first_frequencies(12))
    more = "" if total <= 12 else f", ... ({total} in all)"
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
        out.append("% " + no_flow_note(m))
    for d, bf in (flows or {}).items():
        out.append(f"% block dimension d = {d}")
        out.append(block_flow_latex(bf))
    if cf is not None:
        out.append("% abelian closed form")
        out.append(closed_form_latex(cf))
    print("\n\n".join(out))
