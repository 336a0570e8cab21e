"""A self-contained HTML report of finished runs: tables, plots, statistics and transcripts.

``build_report(paths, out)`` reads the Inspect logs under ``paths`` (run folders, log folders
or log files) and writes one HTML file with no network assets: inline CSS, plots as base64
PNG images drawn with matplotlib's Agg canvas, and a small vanilla script that only filters
the transcript cards by toggling ``hidden`` from ``data-*`` attributes.

Everything a model wrote is untrusted. It reaches the page only as a value rendered by Jinja2
with autoescaping on (never marked safe, never turned into a template, never put into the page
by script). The page also carries a Content Security Policy that allows no network access and
no script but the report's own (by its hash), so even an escaping mistake could not run code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

import jinja2
from markupsafe import Markup

from duress.record import saved_episode
from duress.results import (
    LogSet,
    ResultsError,
    condition_label,
    conditional_rates,
    design_order,
    family_infos,
    missing_llm_verdicts,
    model_label,
    outcome_names,
    rates,
    read_logs,
)
from duress.redact import redact
from duress.stats import Rate, SampleResult
from duress.tables import p_text
from duress.verdicts import JUDGE_ERROR, SAMPLE_EXCLUSIONS, check_policy, policy_label

MAX_CARDS = 500  # sample cards in the transcript browser
MAX_TEXT = 20_000  # characters of one message, argument or result shown
COLLAPSE_CHARS = 1200  # longer texts are collapsed in <details>
COLLAPSE_LINES = 18
AWARENESS = ("states_evaluation", "states_real")
# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
TEMPLATES = Path(__file__).parent / "templates"


# --- small formatting helpers -----------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _ci(r: Rate) -> str:
    ci = r.ci
    return f"{_pct(ci[0])}–{_pct(ci[1])}" if ci else "–"


_p = p_text  # p-values read the same here and in the terminal


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    return f"{x:.3g}" if 0.01 <= abs(x) < 1000 else f"{x:.2e}"


def _pp(x: float | None) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:+.0f}"


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _text(value: Any, limit: int = MAX_TEXT) -> dict[str, Any]:
    """A text to show: cut to ``limit`` characters, collapsed when long (preview = first line)."""
    s = redact(value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str))
    first = next((ln.strip() for ln in s.splitlines() if ln.strip()), "")
    return {
        "text": s[:limit],
        "cut": max(0, len(s) - limit),
        "chars": len(s),
        "long": len(s) > COLLAPSE_CHARS or s.count("\n") > COLLAPSE_LINES,
        "preview": first[:140] + ("…" if len(first) > 140 else ""),
    }


def _policy_label(policy: str | None, judge_models: Iterable[str | None] = ()) -> str:
    return policy_label(policy or "?", judge_models)


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# --- plots (matplotlib's Agg canvas, no pyplot: no global state) ------------------------------

_RC = {
    "text.parse_math": False,  # a "$" in a label is a dollar sign, never mathtext
    "text.usetex": False,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _png(fig: Any) -> dict[str, Any]:
    """The figure as a PNG data URI drawn at twice its size (sharp on high-density screens)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * fig.dpi, metadata={"Software": None})
    return {"src": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "width": round(fig.get_figwidth() * fig.dpi)}


def _rate_plot(outcome: str, harmful: bool, conditions: list[tuple[str, str]], xlabel: str, models: list[str],
               lookup: dict[tuple[str, str], Rate]) -> dict[str, Any]:
    """Rates with 95% Wilson whiskers: conditions on x, models as colours (dodged).

    Each model keeps its colour (its place in ``models``); only models with rates here take a slot.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    present = [(i, m) for i, m in enumerate(models) if any(key[0] == m for key in lookup)]
    n_c, n_m = len(conditions), len(present)
    rotate = n_c > 5
    width = max(2.6, min(9.0, 0.9 + n_c * (0.4 + 0.14 * n_m)))
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, 2.35 + (0.35 if rotate else 0)), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        step = 0.62 / n_m if n_m > 1 else 0.0
        for slot, (mi, model) in enumerate(present):
            off = (slot - (n_m - 1) / 2) * step
            xs, ys, lo, hi = [], [], [], []
            for ci, (cid, _) in enumerate(conditions):
                r = lookup.get((model, cid))
                if r is None:
                    continue
                if not r.n:
                    ax.text(ci + off, 2, "n=0", ha="center", va="bottom", fontsize=6, color="#888888")
                    continue
                a, b = r.ci
                xs.append(ci + off)
                ys.append(100 * r.rate)
                lo.append(max(0.0, 100 * (r.rate - a)))
                hi.append(max(0.0, 100 * (b - r.rate)))
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ms=4.5, lw=1.3, capsize=2.5, color=_colour(mi),
                            ecolor=_colour(mi))
        ax.set_ylim(-4, 104)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_yticklabels(["0%", "25%", "50%", "75%", "100%"])
        ax.set_xlim(-0.6, n_c - 0.4)
        ax.set_xticks(range(n_c))
        ax.set_xticklabels([lab for _, lab in conditions], rotation=30 if rotate else 0,
                           ha="right" if rotate else "center")
        if xlabel:
            ax.set_xlabel(xlabel, color="#555555")
        ax.grid(axis="y", color="#e4e4e4", lw=0.7)
        ax.set_axisbelow(True)
        ax.set_title(outcome + ("  (harmful)" if harmful else ""), loc="left",
                     color="#a4161a" if harmful else "#222222")
        fig.tight_layout(pad=0.4)
        return _png(fig)


def _forest_plot(effects: list[Any]) -> dict[str, Any] | None:
    """Odds ratios with their 95% intervals on a log scale, one line per term."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    rows = [(str(e.term), _finite(e.odds_ratio), _finite(e.lo), _finite(e.hi)) for e in effects]
    shown = [v for _, o, lo, hi in rows for v in (o, lo, hi) if v is not None and v > 0]
    if not shown:
        return None
    lo_lim = min(min(shown) / 1.6, 0.5)
    hi_lim = max(max(shown) * 1.6, 2.0)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(5.4, 0.85 + 0.3 * len(rows)), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        n = len(rows)
        for i, (_, o, lo, hi) in enumerate(rows):
            y = n - 1 - i
            a = lo if lo is not None and lo > 0 else lo_lim
            b = hi if hi is not None and hi > 0 else hi_lim
            ax.plot([a, b], [y, y], color="#0072B2", lw=1.4, solid_capstyle="butt")
            if o is not None and o > 0:
                ax.plot([o], [y], "s", color="#0072B2", ms=5)
        ax.axvline(1.0, color="#888888", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(lo_lim, hi_lim)
        # plain-number ticks (the default log labels are mathtext, which _RC turns off)
        ticks = [m * 10.0 ** e for e in range(-6, 7) for m in (1, 2, 5) if lo_lim <= m * 10.0 ** e <= hi_lim]
        if len(ticks) > 9:
            ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_yticks(range(n))
        ax.set_yticklabels([t for t, *_ in reversed(rows)])
        ax.set_xlabel("odds ratio (log scale), 95% CI")
        ax.grid(axis="x", color="#e4e4e4", lw=0.7)
        ax.set_axisbelow(True)
        fig.tight_layout(pad=0.4)
        return _png(fig)


# --- the runs ---------------------------------------------------------------------------------

def _protocol(asked: str | None, samples: Sequence[Any]) -> str:
    """The tool protocol the samples were run with (each sample records it), and what was asked when
    that was ``auto``: "text (auto)"."""
    used = list(dict.fromkeys(str(p) for s in samples if (p := saved_episode(s.metadata, s.store)[1].get("protocol"))))
    if not used:
        return asked or "?"
    shown = " and ".join(used)
    return f"{shown} ({asked})" if asked and asked not in used else shown


def _run_rows(logs: list[tuple[Path, Any]], policy: str | None) -> list[dict[str, Any]]:
    rows = []
    for f, log in logs:
        meta = (log.eval.metadata or {}).get("duress", {})
        run_policy = policy or meta.get("policy") or "rules"
        design = meta.get("design") or {}
        world = meta.get("world") or "?"
        first_meta = (log.samples[0].metadata or {}) if log.samples else {}
        if world == "random" and meta.get("seed") is not None:
            world += f" (seed {meta['seed']})"
        folder = f.parent.parent if f.parent.name == "logs" else f.parent
        rows.append({
            "run": folder.name,
            "created": str(log.eval.created or "")[:16].replace("T", " "),
            "path": str(f),
            "family": meta.get("family") or first_meta.get("family") or "?",
            "model": model_label(log),
            "design": ", ".join(f"{k}={'/'.join(map(str, v))}" for k, v in design.items()) or "family default",
            "samples": len(log.samples or []),
            "epochs": log.eval.config.epochs if log.eval.config and log.eval.config.epochs else 1,
            "status": log.status,
            "protocol": _protocol(meta.get("protocol"), log.samples or []),
            "world": world,
            "verdicts": _policy_label(run_policy, [meta.get("judge_model")]),
            "policy": run_policy,
            "judge_model": meta.get("judge_model"),
        })
    return rows


def _designs(results: Sequence[SampleResult]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Per family: each factor with the levels the runs used (in the family's order); the varied ones."""
    designs: dict[str, list[dict[str, Any]]] = {}
    varied: dict[str, list[str]] = {}
    for fam, info in family_infos(results).items():
        mine = [r for r in results if r.family == fam]
        names = [f for f, _ in info.factors] + [f for r in mine for f in r.factors if info.levels(f) is None]
        factors = []
        for name in dict.fromkeys(names):
            used = list(dict.fromkeys(r.factors.get(name) for r in mine if name in r.factors))
            declared = info.levels(name) or ()
            levels = [lv for lv in declared if lv in used] + [lv for lv in used if lv not in declared]
            if levels:
                factors.append({"name": name, "levels": levels, "varied": len(levels) > 1})
        designs[fam] = factors
        varied[fam] = [f["name"] for f in factors if f["varied"]]
    return designs, varied


# --- tables -----------------------------------------------------------------------------------

def _bar(r: Rate) -> dict[str, float] | None:
    if not r.n:
        return None
    lo, hi = r.ci
    return {"lo": round(100 * lo, 1), "width": round(100 * (hi - lo), 1), "rate": round(100 * r.rate, 1)}


def _outcome_row(r: Rate, harmful: bool) -> dict[str, Any]:
    value = ""
    if r.values:
        value = f"median {r.median:g} (range {min(r.values):g}–{max(r.values):g})"
    return {
        "outcome": r.outcome, "harmful": harmful, "k": r.k, "n": r.n, "kn": f"{r.k}/{r.n}", "rate": _pct(r.rate),
        "ci": _ci(r), "bar": _bar(r), "value": value,
        "judge_error": r.excluded.get(JUDGE_ERROR, 0),
    }


def _blocks(rows: Sequence[Rate], varied: dict[str, list[str]], harmful: dict[str, set[str]],
            several_models: bool, several_families: bool) -> list[dict[str, Any]]:
    """The headline table: a block per model × condition (its exclusions), a row per outcome."""
    blocks: list[dict[str, Any]] = []
    for r in rows:
        if not blocks or (blocks[-1]["model"], blocks[-1]["family"], blocks[-1]["condition"]) != (r.model, r.family, r.condition):
            label = condition_label(r.factors, varied[r.family])
            excluded = ", ".join(f"{r.excluded[e]} {e}" for e in SAMPLE_EXCLUSIONS if r.excluded.get(e))
            blocks.append({
                "model": r.model, "family": r.family, "condition": r.condition, "label": label,
                "prefix": " · ".join(([r.model] if several_models else []) + ([r.family] if several_families else [])),
                "judged": r.n + r.excluded.get(JUDGE_ERROR, 0), "excluded": excluded or "0", "rows": [],
            })
        blocks[-1]["rows"].append(_outcome_row(r, r.outcome in harmful[r.family]))
    return blocks


def _conditional(results: Sequence[SampleResult], given: str, varied: dict[str, list[str]],
                 harmful: dict[str, set[str]], several_models: bool) -> dict[str, Any]:
    try:
        yes, no = conditional_rates(results, given)
    except ResultsError as err:
        return {"given": given, "note": str(err), "blocks": []}
    judged = [r for r in results if r.excluded is None and r.outcomes.get(given) is not None]
    n_yes = sum(1 for r in judged if r.outcomes[given])
    by_no = {(r.model, r.condition, r.outcome): r for r in no}
    by_yes = {(r.model, r.condition, r.outcome): r for r in yes}
    keys = list(dict.fromkeys([(r.model, r.condition, r.outcome) for r in yes] + list(by_no)))
    factors = {(r.model, r.condition): (r.family, r.factors) for r in [*yes, *no]}
    blocks: list[dict[str, Any]] = []
    for model, condition, outcome in keys:
        family, fs = factors[(model, condition)]
        if not blocks or (blocks[-1]["model"], blocks[-1]["condition"]) != (model, condition):
            blocks.append({"model": model, "condition": condition,
                           "label": (f"{model} · " if several_models else "") + condition_label(fs, varied[family]),
                           "rows": []})
        cells = []
        for r in (by_yes.get((model, condition, outcome)), by_no.get((model, condition, outcome))):
            cells.append({"kn": f"{r.k}/{r.n}" if r else "0/0",
                          "rate": f"{_pct(r.rate)} ({_ci(r)})" if r is not None and r.n else "–"})
        blocks[-1]["rows"].append({"outcome": outcome, "harmful": outcome in harmful[family], "yes": cells[0],
                                   "no": cells[1]})
    return {"given": given, "n_yes": n_yes, "n_judged": len(judged), "note": "", "blocks": blocks}


# --- statistics from duress.stats (compare, factor_effects) -----------------------------------

def _effects_section(results: Sequence[SampleResult], models: list[str], varied: dict[str, list[str]],
                     harmful: dict[str, set[str]]) -> dict[str, Any]:
    from duress.stats import factor_effects

    groups = []
    for fam, names in varied.items():
        if not names:
            continue
        for model in models:
            mine = [r for r in results if r.model == model and r.family == fam]
            if not mine:
                continue
            if not any(len({r.factors.get(f) for r in mine}) > 1 for f in names):
                groups.append({"model": model, "family": fam, "outcome": "harmful outcomes", "plot": None,
                               "rows": [], "row_notes": False,
                               "note": "no factor varies among this model's samples: no model fitted."})
                continue
            info = family_infos(mine)[fam]
            for outcome in [o for o in info.outcomes if o in info.harmful]:
                try:
                    effects = list(factor_effects(mine, outcome))
                except Exception as err:  # a model that cannot be fitted must not sink the report
                    groups.append({"model": model, "family": fam, "outcome": outcome, "plot": None, "rows": [],
                                   "row_notes": False, "note": f"could not be estimated: {type(err).__name__}: {str(err)[:200]}"})
                    continue
                if not effects:
                    found = [r.outcomes.get(outcome) for r in mine if r.excluded is None and r.outcomes.get(outcome) is not None]
                    why = ("never found" if not any(found) else "found in every judged sample") if found else "no judged sample"
                    groups.append({"model": model, "family": fam, "outcome": outcome, "plot": None, "rows": [],
                                   "row_notes": False, "note": f"no model fitted: the outcome is constant ({why})."})
                    continue
                notes = list(dict.fromkeys(str(e.note or "") for e in effects))
                shared = notes[0] if len(notes) == 1 else ""  # one note for all terms: said once
                groups.append({
                    "model": model, "family": fam, "outcome": outcome, "plot": _forest_plot(effects), "note": shared,
                    "methods": ", ".join(dict.fromkeys(str(e.method) for e in effects)),
                    "rows": [{"term": str(e.term), "or": _num(_or_none(e.odds_ratio)),
                              "ci": f"{_num(_or_none(e.lo))}–{_num(_or_none(e.hi))}", "p": _p(_or_none(e.p)),
                              "method": str(e.method), "note": "" if shared else str(e.note or ""),
                              "significant": _finite(e.p) is not None and e.p < 0.05} for e in effects],
                    "row_notes": len(notes) > 1,
                })
    return {"groups": groups, "any_varied": any(varied.values())}


def _or_none(x: Any) -> float | None:
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


def _comparisons_section(results: Sequence[SampleResult], models: list[str], varied: dict[str, list[str]],
                         harmful: dict[str, set[str]]) -> dict[str, Any]:
    """Each model against the reference (the first), one family of comparisons per pair: the one
    :func:`duress.stats.comparison_family` defines, as ``duress compare`` shows it."""
    if len(models) < 2:
        return {"shown": False}
    from duress.stats import comparison_family

    factors = {(r.family, r.condition): r.factors for r in results}
    tables = []
    ref = models[0]
    for other in models[1:]:
        # compare() gives diff = a − b: the model against the reference, so a positive diff means
        # the model did it more often than the reference.
        family = comparison_family(results, "model", other, ref)  # the family duress compare uses
        comps = family.comparisons
        rows = []
        for c in comps:
            fs = factors.get((c.family, c.condition), {})
            p_holm = _finite(c.p_holm)
            rows.append({
                "family": c.family, "condition": c.condition,
                "label": condition_label(fs, varied.get(c.family, [])) if fs else str(c.condition),
                "outcome": c.outcome, "harmful": c.outcome in harmful.get(c.family, set()),
                "model": f"{c.k1}/{c.n1}", "model_rate": _pct(c.k1 / c.n1 if c.n1 else None),
                "ref": f"{c.k2}/{c.n2}", "ref_rate": _pct(c.k2 / c.n2 if c.n2 else None),
                "diff": _pp(_finite(c.diff)), "ci": f"{_pp(_finite(c.lo))} to {_pp(_finite(c.hi))}",
                "p": _p(_finite(c.p)), "p_holm": _p(p_holm), "significant": p_holm is not None and p_holm < 0.05,
            })
        tables.append({"model": other, "ref": ref, "rows": rows, "note": "", "holm": family.statement() + ".",
                       "n_significant": sum(1 for r in rows if r["significant"])})
    return {"shown": True, "tables": tables}


# --- transcripts ------------------------------------------------------------------------------

def _value(v: Any) -> dict[str, Any]:
    """One argument: strings as they are, lists of plain values joined, anything else as JSON."""
    if isinstance(v, list) and all(isinstance(x, (str, int, float, bool)) or x is None for x in v):
        v = ", ".join("null" if x is None else str(x) for x in v)
    elif not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False, default=str, indent=None if isinstance(v, (int, float, bool)) or v is None else 2)
    return _text(v)


def _args(arguments: Any) -> list[dict[str, Any]]:
    if not isinstance(arguments, dict):
        return [{"key": "", "value": _value(arguments)}]
    return [{"key": str(k), "value": _value(v)} for k, v in arguments.items()]


def _messages(sample: Any) -> list[dict[str, Any]]:
    out = []
    for m in sample.messages or []:
        role = m.role
        item: dict[str, Any] = {"role": role, "text": None, "reasoning": [], "calls": [], "error": None, "title": role}
        if role == "system":
            item["title"] = "System prompt"
            item["text"] = _text(m.text or "")
        elif role == "user":
            text = m.text or ""
            item["title"] = "Tool results (text protocol)" if text.startswith("Results of your tool calls:") else "User"
            item["text"] = _text(text)
        elif role == "assistant":
            item["title"] = "Assistant"
            if isinstance(m.content, list):
                for c in m.content:
                    if getattr(c, "type", None) == "reasoning":
                        body = getattr(c, "summary", None) or getattr(c, "reasoning", "") or ""
                        if getattr(c, "redacted", False) and not getattr(c, "summary", None):
                            body = "(reasoning redacted by the provider)"
                        item["reasoning"].append(_text(body))
            item["text"] = _text(m.text or "") if (m.text or "").strip() else None
            for call in m.tool_calls or []:
                item["calls"].append({"function": str(call.function), "args": _args(call.arguments),
                                      "error": str(call.parse_error) if call.parse_error else ""})
        elif role == "tool":
            item["title"] = f"Tool result: {m.function or '?'}"
            item["text"] = _text(m.text or "") if (m.text or "").strip() else None
            if m.error is not None:
                item["error"] = _text(f"{m.error.type}: {m.error.message}")
        else:
            item["text"] = _text(getattr(m, "text", "") or "")
        out.append(item)
    return out


def _judge_says(entry: dict[str, Any]) -> tuple[bool, str | None]:
    """(rules said yes, LLM: 'yes' | 'no' | 'error' | None)."""
    rules = bool((entry.get("rules") or {}).get("decision"))
    llm = entry.get("llm")
    if llm is None:
        return rules, None
    if "error" in llm:
        return rules, "error"
    return rules, "yes" if llm.get("decision") else "no"


def _card(index: int, sr: SampleResult, sample: Any, outcomes: list[str], harmful: set[str], varied: list[str]) -> dict[str, Any]:
    record, _ = saved_episode(sample.metadata, sample.store)
    raw_actions = list(record.get("actions") or [])
    found = [o for o in outcomes if sr.outcomes.get(o)]
    badges, loose = [], []
    notes: dict[int, list[dict[str, Any]]] = {}
    for o in outcomes:
        entry = sr.verdicts.get(o)
        if not entry:
            continue
        rules, llm = _judge_says(entry)
        decided = sr.outcomes.get(o)
        judges = [j for j, said in (("rules", rules), ("LLM", llm == "yes")) if said]
        if decided:
            badges.append({"outcome": o, "kind": "harmful" if o in harmful else "found", "judges": "+".join(judges) or "policy"})
        elif decided is None:
            badges.append({"outcome": o, "kind": "error", "judges": "undecided (LLM judge error)"})
        elif judges:
            badges.append({"outcome": o, "kind": "disputed", "judges": f"{'+'.join(judges)} only; not counted"})
        elif llm == "error":
            badges.append({"outcome": o, "kind": "disputed", "judges": "LLM judge error; rules decided"})
        for judge, said in (("rules", rules), ("llm", llm == "yes")):
            if not said:
                continue
            for ev in (entry.get(judge) or {}).get("evidence") or []:
                item = {"outcome": o, "judge": "rules" if judge == "rules" else "LLM judge",
                        "harmful": o in harmful and bool(decided), "counted": bool(decided),
                        "why": str(ev.get("why") or ""), "quote": _text(str(ev.get("quote") or ""), 2000),
                        "turn": ev.get("turn"), "action": ev.get("action")}
                a = ev.get("action")
                if isinstance(a, int) and 0 <= a < len(raw_actions):
                    notes.setdefault(a, []).append(item)
                else:
                    loose.append(item)
    actions = []
    for i, a in enumerate(raw_actions):
        evidence = notes.get(i, [])
        actions.append({
            "ref": f"A{i + 1}", "turn": a.get("turn"), "user_turn": a.get("user_turn"), "tool": str(a.get("tool", "?")),
            "ok": bool(a.get("ok")), "args": _args(a.get("arguments") or {}), "result": _text(str(a.get("result", ""))),
            "events": [_text(e) for e in a.get("events") or []], "evidence": evidence,
            "harmful": any(e["harmful"] for e in evidence),
        })
    error = None
    if getattr(sample, "error", None) is not None:
        error = {"message": _text(sample.error.message or ""), "traceback": _text(sample.error.traceback or "")}
    return {
        "index": index, "id": str(sr.sample_id), "epoch": sr.epoch, "model": sr.model, "family": sr.family,
        "condition": sr.condition, "label": condition_label(sr.factors, varied), "excluded": sr.excluded or "",
        "detail": sr.detail, "found": " ".join(found), "badges": badges, "actions": actions, "loose": loose,
        "messages": _messages(sample), "error": error,
        "harmful": any(o in harmful for o in found),
    }


def _transcripts(loaded: LogSet, outcomes: list[str], varied: dict[str, list[str]],
                 harmful: dict[str, set[str]]) -> dict[str, Any]:
    everything = loaded.results
    ordered = design_order(everything)
    position = {id(sr): i for i, sr in enumerate(ordered)}

    def priority(sr: SampleResult) -> tuple[int, int]:
        found_harm = any(sr.outcomes.get(o) for o in harmful.get(sr.family, set()))
        return (0 if found_harm else 1 if sr.excluded else 2, position[id(sr)])

    kept = sorted(sorted(ordered, key=priority)[:MAX_CARDS], key=lambda sr: position[id(sr)])
    cards = [_card(i + 1, sr, loaded.sample_of(sr), outcomes, harmful.get(sr.family, set()), varied.get(sr.family, []))
             for i, sr in enumerate(kept)]
    conditions = list(dict.fromkeys((sr.family, sr.condition) for sr in ordered))
    labels = {(sr.family, sr.condition): condition_label(sr.factors, varied.get(sr.family, [])) for sr in ordered}
    several_families = len({f for f, _ in conditions}) > 1
    return {
        "cards": cards, "total": len(ordered), "omitted": len(ordered) - len(kept), "cap": MAX_CARDS,
        "conditions": [{"value": c, "label": (f"{f} · " if several_families else "") + labels[(f, c)]}
                       for f, c in conditions],
        "models": list(dict.fromkeys(sr.model for sr in ordered)),
        "outcomes": outcomes,
        "any_excluded": any(sr.excluded for sr in ordered),
    }


# --- the report -------------------------------------------------------------------------------

def _environment() -> jinja2.Environment:
    # autoescape=True for every template, whatever its file name: all values are HTML-escaped.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _script() -> tuple[Markup, str]:
    """The report's own filter script (a static file of ours) and its SHA-256 (base64) for the CSP."""
    js = (TEMPLATES / "filter.js").read_text(encoding="utf-8")
    if "</" in js:
        raise RuntimeError("filter.js must not contain '</'")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return Markup(js), digest


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("duress")
    except Exception:
        return "?"


def build_report(paths: Sequence[str | Path], out: Path, policy: str | None = None, title: str | None = None,
                 logs: LogSet | None = None) -> Path:
    """Write one self-contained HTML report of the runs under ``paths``; return ``out``.

    ``paths`` are run folders, log folders or Inspect log files; the first path's model is the
    reference of the model comparisons. ``policy`` (rules, llm, both, either) re-combines the
    stored rule and LLM verdicts; by default each run's own policy is used. ``logs``: the same logs
    already read with ``keep_samples`` (by a caller that also prints the table), so none is read twice.
    """
    check_policy(policy)
    paths = list(paths)
    out = Path(out)
    loaded = logs if logs is not None else read_logs(paths, policy, keep_samples=True)
    if loaded.results and not loaded.samples:
        raise ValueError("build_report needs logs read with keep_samples=True")
    results = design_order(loaded.results)
    if not results:
        raise ResultsError("the logs hold no finished samples yet")
    problem = missing_llm_verdicts(results, policy)
    if problem:  # the rules' numbers under an LLM judge's title: refused, as in the terminal
        raise ResultsError(problem)
    outcomes = outcome_names(results)
    rows = rates(results, outcomes)
    models = list(dict.fromkeys(r.model for r in results))
    families = list(dict.fromkeys(r.family for r in results))
    fams = family_infos(results)
    harmful = {f: set(fams[f].harmful) for f in families}
    designs, varied = _designs(results)
    several_models, several_families = len(models) > 1, len(families) > 1

    runs = _run_rows(loaded.logs, policy)
    run_policies = {(r["policy"], r["judge_model"]) for r in runs}
    if policy is not None:
        verdicts = _policy_label(policy, [r["judge_model"] for r in runs])
    elif len({p for p, _ in run_policies}) == 1:
        verdicts = _policy_label(next(iter(run_policies))[0], [j for _, j in run_policies])
    else:
        verdicts = "as judged in each run (" + "; ".join(sorted({r["verdicts"] for r in runs})) + ")"
    excluded = Counter(r.excluded for r in results if r.excluded)
    judge_errors = sum(r.excluded.get(JUDGE_ERROR, 0) for r in rows)
    undecided_samples = sum(1 for r in results if r.excluded is None and any(v is None for v in r.outcomes.values()))

    plots = []
    for fam in families:
        conds = list(dict.fromkeys(r.condition for r in results if r.family == fam))
        fac = {r.condition: r.factors for r in results if r.family == fam}
        names = varied[fam]
        ticks = [(c, "\n".join(fac[c][f] for f in names) if names else "all defaults") for c in conds]
        panels = []
        for o in fams[fam].outcomes or outcomes:
            mine = {(r.model, r.condition): r for r in rows if r.family == fam and r.outcome == o}
            if mine:
                panels.append({"outcome": o, "harmful": o in harmful[fam],
                               **_rate_plot(o, o in harmful[fam], ticks, " / ".join(names), models, mine)})
        plots.append({"family": fam, "panels": panels, "xlabel": " / ".join(names)})

    awareness = [_conditional(results, g, varied, harmful, several_models) for g in AWARENESS]
    effects = _effects_section(results, models, varied, harmful)
    comparisons = _comparisons_section(results, models, varied, harmful)
    transcripts = _transcripts(loaded, outcomes, varied, harmful)

    default_title = "duress report · " + ", ".join(families) + " · " + (" vs ".join(models) if len(models) <= 3
                                                                        else f"{len(models)} models")
    script, script_digest = _script()
    html = _environment().get_template("report.html.j2").render(
        title=title or default_title,
        version=_version(),
        n_logs=len(loaded.logs),
        skipped=[*loaded.skipped, *loaded.notes],
        verdicts=verdicts,
        runs=runs,
        designs=designs,
        families=families,
        family_titles={f: fams[f].title or f for f in families},
        models=[{"name": m, "colour": _colour(i), "reference": i == 0} for i, m in enumerate(models)],
        n_samples=len(results),
        n_judged=sum(1 for r in results if r.excluded is None),
        excluded=[{"reason": k, "n": excluded[k]} for k in (*SAMPLE_EXCLUSIONS, *sorted(set(excluded) - set(SAMPLE_EXCLUSIONS)))
                  if excluded.get(k)],
        judge_errors=judge_errors,
        undecided_samples=undecided_samples,
        malformed={"calls": sum(r.malformed_calls for r in results),
                   "samples": sum(1 for r in results if r.malformed_calls)},
        blocks=_blocks(rows, varied, harmful, several_models, several_families),
        harmful_names=sorted({o for f in families for o in harmful[f]}),
        plots=plots,
        effects=effects,
        awareness=awareness,
        comparisons=comparisons,
        transcripts=transcripts,
        script=script,
        script_digest=script_digest,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
