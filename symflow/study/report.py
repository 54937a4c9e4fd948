"""The study report: ``report.md``, ``summary.json`` and a rich table for the terminal."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .predictions import _jsonable

VERDICT_MD = {True: "agrees", False: "**DISAGREES**", None: "measured"}


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
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    if isinstance(v, dict):
        items = list(v.items())
        body = ", ".join(f"{k}: {fmt(x)}" for k, x in items[:8])
        return "{" + body + (", ..." if len(items) > 8 else "") + "}"
    return str(v)


def rich_table(study):
    from rich.table import Table

    t = Table(title=f"symflow study {study.name}: {study.agreed} agree, {len(study.disagreed)} disagree, "
                    f"{sum(p.agrees is None for p in study.predictions)} measured only", title_justify="left")
    for col in ("section", "prediction", "predicted", "measured", "tolerance", "verdict"):
        t.add_column(col, overflow="fold")
    style = {True: "green", False: "bold red", None: "cyan"}
    for p in study.predictions:
        t.add_row(p.section, p.name, fmt(p.predicted), fmt(p.measured), str(p.tolerance),
                  f"[{style[p.agrees]}]{p.verdict}[/]")
    return t


def markdown_table(study) -> str:
    lines = ["| section | prediction | predicted | measured | tolerance | verdict |",
             "|---|---|---|---|---|---|"]
    for p in study.predictions:
        cells = [p.section, p.name, fmt(p.predicted), fmt(p.measured), str(p.tolerance), VERDICT_MD[p.agrees]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _settings_md(study) -> str:
    s = study.settings
    run = s["run"]
    m = s["model"]
    return "\n".join([
        f"- model: group **{study.name}** (order {m['order']}), "
        f"{'shared' if m['shared'] else 'unshared'} embeddings, {m['spheres']} spheres, activation "
        f"`{m['activation']}`, loss `{m['loss']}` (small-logit energy Omega)",
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
             "predict (reported with confidence intervals).", "", "## Settings", "", _settings_md(study), ""]
    if study.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in study.notes] + [""]
    if getattr(study, "interrupted", False) and not study.predictions:
        parts += ["## Summary", "", "**Interrupted**: the run did not finish, so no prediction was compared "
                  "(see Notes); run again without interrupting for the comparison.", ""]
    else:
        parts += ["## Summary", "", markdown_table(study), ""]
    parts += ["## Details", ""]
    for sec in sections:
        parts += [f"### {sec}", ""]
        for p in study.predictions:
            if p.section == sec:
                parts += [f"- **{p.name}** ({VERDICT_MD[p.agrees]}): predicted {fmt(p.predicted)}, measured "
                          f"{fmt(p.measured)}, tolerance {p.tolerance}. {p.detail}"]
        parts.append("")
    parts += ["## Figures", ""]
    if figures and isinstance(figures[0], str) and figures[0].startswith("NOTE"):
        parts += [figures[0][5:], ""]
    else:
        for path, caption in figures:
            parts += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    return "\n".join(parts)


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
