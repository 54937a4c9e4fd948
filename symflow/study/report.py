"""The study report: ``report.md``, ``summary.json`` and a rich table for the terminal."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .predictions import _jsonable

VERDICT_MD = {"agrees": "agrees", "disagrees": "**DISAGREES**", "measured": "measured",
              "not checked": "not checked"}
LOSS_TEXT = {"ce": "cross-entropy in the small-logit regime (GC; energy Omega)",
             "mse": "Li2's sample-centred MSE (energy E; the CE theorems do not cover it)"}


def fmt(v) -> str:
    """Short human form of a predicted or measured value."""
    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return str(v)
        return f"{v:.6g}" if v == 0 or 1e-4 <= abs(v) < 1e6 else f"{v:.4e}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    if isinstance(v, dict):
        items = list(v.items())
        body = ", ".join(f"{k}: {fmt(x)}" for k, x in items[:8])
        return "{" + body + (", ..." if len(items) > 8 else "") + "}"
    if isinstance(v, str):
        return v
    return readable(v)


def readable(obj) -> str:
    """A sentence for an object, never its ``<Class ...>`` repr: its ``describe()`` or ``summary()``
    text when it has one, else its class and public fields in words."""
    for attr in ("describe", "summary"):
        f = getattr(obj, attr, None)
        if callable(f):
            try:
                text = f()
            except TypeError:
                continue
            if isinstance(text, str):
                return text
    text = str(obj)
    if not (text.startswith("<") or " object at 0x" in text):
        return text
    if hasattr(obj, "__dataclass_fields__"):
        names = list(obj.__dataclass_fields__)
    else:
        names = [k for k in getattr(obj, "__dict__", {}) if not k.startswith("_")]
    words = []
    for k in names[:8]:
        v = getattr(obj, k, None)
        if isinstance(v, np.ndarray) and v.size > 8:
            continue
        words.append(f"{k} {fmt(v)}")
    name = type(obj).__name__
    return f"{name} with " + ", ".join(words) if words else f"a {name}"


def rich_table(study):
    from rich.table import Table

    t = Table(title=f"symflow study {study.name}: {totals_text(study)}", title_justify="left")
    # words wrap at spaces and are never broken across lines (overflow "fold" would cut them)
    for col in ("section", "prediction", "predicted", "measured", "tolerance", "verdict"):
        t.add_column(col, overflow="ellipsis", no_wrap=col in ("predicted", "measured", "verdict"),
                     ratio=3 if col == "prediction" else (2 if col == "tolerance" else None))
    style = {"agrees": "green", "disagrees": "bold red", "measured": "cyan", "not checked": "yellow"}
    for p in study.predictions:
        t.add_row(p.section, p.name, fmt(p.predicted), fmt(p.measured), fmt(p.tolerance),
                  f"[{style[p.verdict_key]}]{p.verdict}[/]")
    return t


def totals_text(study) -> str:
    """``"12 agree, 0 disagree, 5 measured only, 1 not checked"``."""
    t = study.totals
    return (f"{t['agrees']} agree, {t['disagrees']} disagree, {t['measured']} measured only, "
            f"{t['not checked']} not checked")


def markdown_table(study) -> str:
    lines = ["| section | prediction | predicted | measured | tolerance | verdict |",
             "|---|---|---|---|---|---|"]
    for p in study.predictions:
        cells = [p.section, p.name, fmt(p.predicted), fmt(p.measured), fmt(p.tolerance), VERDICT_MD[p.verdict_key]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _settings_md(study) -> str:
    s = study.settings
    run = s["run"]
    m = s["model"]
    return "\n".join([
        f"- model: group **{study.name}** "
        + (f"(band limit {m['bandlimit']}; {m.get('normalisation', '')}), " if "bandlimit" in m else f"(order {m['order']}), ")
        + f"{'shared' if m['shared'] else 'unshared'} embeddings, {m['spheres']} spheres, activation "
        f"`{m['activation']}`, loss `{m['loss']}`: {LOSS_TEXT.get(m['loss'], m['loss'])}",
        f"- population: {s['width']} neurons, {s['init']}, seed {s['seed']}",
        f"- integration: geometric (retraction) DOPRI5, rtol {run['integrator']['rtol']:g}, atol "
        f"{run['integrator']['atol']:g}, max step {run['integrator']['max_step']:.4g}; equilibrium tolerance "
        f"|grad| < {run['gtol']:.3g}; final time {s['t_end']:.6g} (reached {s['t_reached']:.6g}; time unit "
        f"c = 1); {run['steps']} steps, {run['rhs_evaluations']} right-hand-side evaluations, "
        f"{run['wall_time_s']:.3g} s",
        f"- {s['n_save']} equally spaced save times; rate fit windows "
        + ", ".join(f"{k}: {lo:g} < y < {hi:g}" for k, (hi, lo) in s["fit_windows"].items()),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in s["versions"].items()),
        "- wall time: " + ", ".join(f"{k[:-2]} {v:.3g} s" for k, v in s["timings_s"].items()),
    ])


def report_markdown(study, figures: list) -> str:
    sections = []
    for p in study.predictions:
        if p.section not in sections:
            sections.append(p.section)
    parts = [f"# symflow study {study.name}", "",
             "Every prediction of the theory for this model next to the measurement on a simulated population. "
             "'agrees' means within the stated tolerance; 'measured' marks quantities the theory does not "
             "predict (reported without a predicted value or tolerance, with confidence intervals); 'not checked' "
             "marks a prediction that could not be compared (the row says why).", "",
             f"Loss: **{study.settings['model']['loss']}**, "
             f"{LOSS_TEXT.get(study.settings['model']['loss'], study.settings['model']['loss'])}.", "",
             "## Settings", "", _settings_md(study), ""]
    if getattr(study, "warnings", None):
        parts += ["## Warnings", ""] + [f"- **Warning**: {w}" for w in study.warnings] + [""]
    if study.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in study.notes] + [""]
    if getattr(study, "interrupted", False) and not study.predictions:
        parts += ["## Summary", "", "**Interrupted**: the run did not finish, so no prediction was compared "
                  "(see Notes); run again without interrupting for the comparison.", ""]
    else:
        parts += ["## Summary", "", f"Totals: {totals_text(study)}.", "", markdown_table(study), ""]
    parts += ["## Details", ""]
    for sec in sections:
        parts += [f"### {sec}", ""]
        for p in study.predictions:
            if p.section == sec:
                parts += [f"- **{p.name}** ({VERDICT_MD[p.verdict_key]}): {_statement(p)} {p.detail}"]
        parts.append("")
    parts += ["## Figures", ""]
    if figures and isinstance(figures[0], str) and figures[0].startswith("NOTE"):
        parts += [figures[0][5:], ""]
    else:
        for path, caption in figures:
            parts += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    return "\n".join(parts)


def _statement(p) -> str:
    """The row's numbers in words: a measurement states no prediction or tolerance."""
    if p.verdict_key == "measured":
        return f"measured {fmt(p.measured)} (no prediction of the theory)."
    if p.verdict_key == "not checked":
        return (f"predicted {fmt(p.predicted)}, not measured." if p.predicted is not None else "not compared.")
    return f"predicted {fmt(p.predicted)}, measured {fmt(p.measured)}, tolerance {fmt(p.tolerance)}."


def write_report(study, out: Path, figures: bool = True) -> Path:
    """Write the report files into the folder ``out`` (low level: :meth:`Study.write` and the CLI
    go through :class:`symflow.outputs.OutputFolder`); returns its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs: list = []
    if getattr(study, "interrupted", False):
        figs = ["NOTE no figures: the run was interrupted."]
    elif figures:
        from .figures import write_figures

        figs = write_figures(study, out / "figures")
    else:
        figs = ["NOTE figures were not requested (--no-figures)."]
    (out / "summary.json").write_text(json.dumps(_jsonable(study.summary()), indent=1) + "\n")
    (out / "report.md").write_text(report_markdown(study, figs))
    return out
