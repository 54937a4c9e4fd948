"""What ``symflow derive NAME`` shows of a derivation, in one place: the public JSON contract and the texts it
holds, next to the objects it describes (:class:`~symflow.theory.model.Model`, its energy, block flows and the
abelian closed form). The command prints them (rich, LaTeX or :func:`derive_json`).

``derive_json`` returns one JSON object (public contract)::

    {"group", "order", "abelian", "time_seconds",
     "model": {"shared", "spheres", "loss", "activation", "constraint"},
     "energy": {"fourier": {"text", "latex"},
                "parameter": {"text", "latex"} (order <= 6) or {"text": null, "latex": null, "note"}},
     "proof": null (--points 0) or {"points", "seed", "exact", "failure_probability" (null if not exact),
                                     "passed", "verdict", "summary"}; the proof generic in n (abelian products,
              symflow.theory.generic_proof) adds "method": "generic in n", "energy_cases", "flow_checks", "lemmas"
              (its "points" is 0 and "failure_probability" 0.0: no random point),
     "flows": null (no per-block flow: "flow_note" says why) or
              [{"d", "irreps", "text": [one line per vector], "latex"}],
     "flow_note", "trivial_flow": {vector: text} (null without flows),
     "closed_form": null (non-abelian, MSE or no flow) or
                    {"pair": [text], "real": [text], "omega", "w", "w_rate", "competition", "latex",
                     "frequencies": count, "frequency_pairs", "self_conjugate"},
     "versions": {"symflow", "numpy", "python", "sympy"}}

On a band-limited compact group (``symflow derive SO(3) --bandlimit L``, :mod:`symflow.theory.bandlimited`) the
same keys, with ``"order": null``, and ``"bandlimit"``, ``"normalisation"`` added; ``energy.parameter`` is the Haar
double integral (``note`` says so); ``proof`` is the numeric check against the quadrature brute force
(``"exact": false``, ``"failure_probability": null``); the flows are the block flows with ``n = 1``;
``closed_form`` is null.
"""
from __future__ import annotations

#: Groups up to this order also get the parameter-space energy written out.
PARAMETER_FORM_MAX_ORDER = 6


def irrep_count(G) -> int:
    """Number of irreps (= classes) of ``G``; abelian products from their order (no class list built)."""
    return G.order if G.abelian_factors is not None else len(G.classes)


def irreps_of_dim(G, d: int) -> int:
    """Non-trivial irreps of dimension ``d`` (abelian products: all ``n - 1`` of dimension 1, no irrep built)."""
    if G.abelian_factors is not None:
        return G.order - 1 if d == 1 else 0
    return len(G.irreps_by_dim[d]) - (1 if G.irreps[G.trivial_index].dim == d else 0)


def block_flows(m) -> dict:
    """``Model.block_flows()`` without building irreps for abelian products (every irrep has ``d = 1``)."""
    if m.group.abelian_factors is not None:
        return {1: m.block_flow(1)}
    return m.block_flows()


def no_flow_note(m) -> str:
    from ..errors import ModelError

    try:
        m.require_block_flow()
    except ModelError as exc:
        return f"No per-block flow: {exc}"
    return ""


def trivial_flow_text(m) -> dict:
    """``{vector: "dθ̂₁[1]/dt = -Ω θ̂₁[1]"}`` (``= 0`` without the sphere constraint)."""
    from .display import HAT, omega_decay_text

    return {k: f"d{HAT.get(k, k)}[1]/dt = {omega_decay_text(c, HAT.get(k, k) + '[1]')}"
            for k, c in m.trivial_flow.items()}


def closed_form_text(cf) -> dict:
    """Plain text of the abelian closed form: ``pair``/``real`` template equations, ``omega``, ``w``,
    ``competition`` (what the rich output prints and the JSON holds)."""
    from .display import omega_decay_text, scalar_text as _scalar_text

    has_real = cf.frequency_counts["real"] > 0
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


def derive_json(m, E, report, flows, cf, seconds: float) -> dict:
    """The public JSON contract of ``symflow derive NAME --json`` (the module docstring):
    the model ``m``, its energy ``E``, the proof ``report`` (or ``None``), the block ``flows`` (or ``None``), the
    abelian closed form ``cf`` (or ``None``) and the seconds the derivation took."""
    import sympy as sp

    from ..provenance import versions
    from .display import block_flow_latex, block_flow_text, closed_form_latex, energy_latex, energy_text

    G = m.group
    if getattr(m, "is_compact", False):
        return _compact_json(m, E, report, flows, seconds)
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
        if getattr(report, "method", None):  # the proof generic in n (the exact proof has no method key)
            proof.update(method=report.method, energy_cases=int(report.energy_cases),
                         flow_checks=int(report.flow_checks), lemmas=[name for name, _, _ in report.lemmas])
    closed = None
    if cf is not None:
        closed = {**closed_form_text(cf), "latex": closed_form_latex(cf), "w_rate": str(cf.w_rate),
                  "frequencies": sum(cf.frequency_counts.values()),
                  "frequency_pairs": cf.frequency_counts["pair"],
                  "self_conjugate": cf.frequency_counts["real"]}
    return {
        "group": G.name, "order": int(G.order), "abelian": bool(G.is_abelian), "time_seconds": round(seconds, 3),
        "model": {"shared": bool(m.shared), "spheres": m.spheres, "loss": m.loss, "activation": m.activation_text,
                  "constraint": m.constraint},
        "energy": {"fourier": {"text": energy_text(E), "latex": energy_latex(E, "fourier")}, "parameter": param},
        "proof": proof,
        "flows": None if flows is None else [
            {"d": int(d), "irreps": irreps_of_dim(G, d), "text": block_flow_text(bf), "latex": block_flow_latex(bf)}
            for d, bf in flows.items()],
        "flow_note": None if flows is not None else no_flow_note(m),
        "trivial_flow": None if flows is None else trivial_flow_text(m),
        "closed_form": closed,
        "versions": versions("sympy"),
    }


def _compact_json(m, E, report, flows, seconds: float) -> dict:
    """:func:`derive_json` on a band-limited compact group (the module doc)."""
    from ..provenance import versions
    from .bandlimited import HAAR_LATEX, HAAR_TEXT, flow_texts
    from .display import energy_latex, energy_text
    from .model import COMPACT_NORMALISATION

    G = m.group
    proof = None
    if report is not None:
        proof = {"points": int(report.points), "seed": int(report.seed), "exact": False, "failure_probability": None,
                 "passed": bool(report.passed), "verdict": report.summary().split(":", 1)[0],
                 "summary": report.summary()}
    return {
        "group": G.name, "order": None, "bandlimit": int(G.bandlimit), "normalisation": COMPACT_NORMALISATION,
        "abelian": bool(G.is_abelian), "time_seconds": round(seconds, 3),
        "model": {"shared": bool(m.shared), "spheres": m.spheres, "loss": m.loss, "activation": m.activation_text,
                  "constraint": m.constraint},
        "energy": {"fourier": {"text": energy_text(E), "latex": energy_latex(E, "fourier")},
                   "parameter": {"text": HAAR_TEXT, "latex": HAAR_LATEX,
                                 "note": "the Haar double integral over band-limited functions (no Cayley table); "
                                         "the proof checks the Fourier form against it by quadrature"}},
        "proof": proof,
        "flows": None if flows is None else [{"d": int(d), "irreps": k, "text": text, "latex": tex}
                                             for d, k, text, tex in flow_texts(m, flows)],
        "flow_note": None if flows is not None else no_flow_note(m),
        "trivial_flow": None if flows is None else trivial_flow_text(m),
        "closed_form": None,
        "versions": versions("sympy"),
    }
