"""Terminal tables that read well at any width, and in a pipe.

Every table here has one shape: a title, a header, then sections, each under a label line of its
own (a model, a condition, a pair of judges) that spans the whole width and wraps between words,
with short rows below it (an outcome and its numbers). A long label is never squeezed into a
narrow column, outcome names and numbers never wrap or get cut, and only free text (evidence) in
the last column folds. The command bodies in :mod:`duress.cli` only choose what to show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence, Union

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from duress.results import condition_label, conditional_rates
from duress.stats import ComparisonFamily, Rate, SampleResult
from duress.verdicts import JUDGE_ERROR, SAMPLE_EXCLUSIONS

if TYPE_CHECKING:
    from duress.judges.agreement import Agreement, Disagreement

Cell = Union[str, Text]  # a str is Rich markup of ours; anything a model wrote comes as Text (never markup)
INDENT = "  "  # rows sit under their section's label, indented, so a plain-text reader tells them apart
GAP = 2  # spaces between columns


@dataclass
class Column:
    header: str
    justify: str = "right"
    fold: bool = False  # free text that may wrap within its column (at most one, the last)


@dataclass
class Section:
    label: Cell | None  # a line of its own above the rows (None: no label)
    rows: list[list[Cell]] = field(default_factory=list)


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text.from_markup(cell)


class SectionedTable:
    """A title, a header, and sections of rows under full-width labels (a Rich renderable)."""

    def __init__(self, title: Cell, columns: Sequence[Column], sections: Sequence[Section],
                 notes: Iterable[Cell] = ()) -> None:
        self.title, self.columns, self.sections, self.notes = title, list(columns), list(sections), list(notes)

    def widths(self, max_width: int) -> list[int]:
        """Each column as wide as its widest cell; a folding column takes what is left (at least 12)."""
        widths = [_text(c.header).cell_len for c in self.columns]
        for section in self.sections:
            for row in section.rows:
                for i, cell in enumerate(row):
                    widths[i] = max(widths[i], max((len(line) for line in _text(cell).plain.splitlines()), default=0))
        widths[0] += len(INDENT)
        for i, col in enumerate(self.columns):
            if col.fold:
                rest = max_width - sum(w for j, w in enumerate(widths) if j != i) - GAP * (len(widths) - 1)
                widths[i] = max(12, min(widths[i], rest))
        return widths

    def _table(self, widths: list[int], header: bool) -> Table:
        t = Table(box=None, show_header=header, header_style="bold", padding=(0, GAP // 2), pad_edge=False,
                  show_edge=False, expand=False)
        for col, w in zip(self.columns, widths):
            t.add_column((INDENT if col is self.columns[0] else "") + col.header, justify=col.justify,  # type: ignore[arg-type]
                         width=w, no_wrap=not col.fold, overflow="fold")
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths(options.max_width)
        title = _text(self.title)
        title.overflow = "fold"
        yield title
        head = self._table(widths, header=True)
        yield head
        yield Text("─" * min(options.max_width, sum(widths) + GAP * (len(widths) - 1)), style="dim")
        for section in self.sections:
            if section.label is not None:
                label = _text(section.label)
                label.stylize("bold", 0, len(label))
                label.overflow = "fold"
                yield label
            if section.rows:
                body = self._table(widths, header=False)
                for row in section.rows:
                    cells = [_text(c) for c in row]
                    cells[0] = Text(INDENT) + cells[0]
                    body.add_row(*cells)
                yield body
        for note in self.notes:
            text = _text(note)
            text.overflow = "fold"
            yield text


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _varied(rows: Sequence[Rate] | Sequence[SampleResult]) -> dict[str, list[str]]:
    """Per family: the factors whose level differs between the rows (the ones a label needs)."""
    varied: dict[str, list[str]] = {}
    for family in dict.fromkeys(r.family for r in rows):
        mine = [r for r in rows if r.family == family]
        names = list(dict.fromkeys(f for r in mine for f in r.factors))
        varied[family] = [f for f in names if len({r.factors.get(f) for r in mine}) > 1]
    return varied


def p_text(p: float | None) -> str:
    """A p-value as every view shows it (the HTML report too): three decimals, or <0.001."""
    if p is None or math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _block_label(family: str, factors: dict[str, str], varied: list[str], several_families: bool) -> str:
    return " · ".join(([family] if several_families else []) + [condition_label(factors, varied)])


def _model_section(model: str) -> Section:
    """With several models: a line naming the model above its conditions' sections."""
    return Section(Text.assemble("model ", (model, "underline")))


def outcome_table(rows: Sequence[Rate], title: str = "Outcomes") -> SectionedTable:
    """The outcome table: a label line per model × condition (with its n and exclusions), a row per outcome."""
    varied = _varied(rows)
    several_models = len({r.model for r in rows}) > 1
    several_families = len(varied) > 1
    with_values = any(r.values for r in rows)
    undecided = any(r.excluded.get(JUDGE_ERROR) for r in rows)  # the column only when some outcome has any
    columns = [Column("Outcome", "left"), Column("k/n"), Column("Rate"), Column("95% CI (Wilson)")]
    if undecided:
        columns.append(Column("Undecided"))
    if with_values:
        columns.append(Column("Measured value (where found)", "left", fold=True))
    sections: list[Section] = []
    last = None
    for r in rows:
        if several_models and (not last or last[0] != r.model):
            sections.append(_model_section(r.model))
        if (r.model, r.family, r.condition) != last:
            last = (r.model, r.family, r.condition)
            excluded = ", ".join(f"{r.excluded[e]} {e}" for e in SAMPLE_EXCLUSIONS if r.excluded.get(e)) or "0"
            judged = r.n + r.excluded.get(JUDGE_ERROR, 0)
            label = _block_label(r.family, r.factors, varied[r.family], several_families)
            sections.append(Section(Text(label) + Text(f"  (n={judged}, excluded: {excluded})", style="not bold")))
        ci = r.ci
        row: list[Cell] = [Text(r.outcome), f"{r.k}/{r.n}", _pct(r.rate), f"{_pct(ci[0])}–{_pct(ci[1])}" if ci else "–"]
        if undecided:
            row.append(f"{r.excluded[JUDGE_ERROR]} {JUDGE_ERROR}" if r.excluded.get(JUDGE_ERROR) else "")
        if with_values:
            row.append(f"median {r.median:g} (range {min(r.values):g}–{max(r.values):g})" if r.values else "")
        sections[-1].rows.append(row)
    return SectionedTable(title, columns, sections)


def conditional_table(results: Sequence[SampleResult], given: str) -> SectionedTable:
    """Each outcome's rate where ``given`` was found and where it was not, per model × condition."""
    yes, no = conditional_rates(results, given)
    by_yes = {(r.model, r.condition, r.outcome): r for r in yes}
    by_no = {(r.model, r.condition, r.outcome): r for r in no}
    keys = list(dict.fromkeys([(r.model, r.condition, r.outcome) for r in yes] + list(by_no)))
    varied = _varied(results)
    several_models = len({r.model for r in results}) > 1
    several_families = len(varied) > 1
    where = {(r.model, r.condition): (r.family, r.factors) for r in results}
    columns = [Column("Outcome", "left"), Column("yes: k/n"), Column("yes: rate (95% CI)"), Column("no: k/n"),
               Column("no: rate (95% CI)")]
    sections: list[Section] = []
    last = None
    for model, condition, outcome in keys:
        if several_models and (not last or last[0] != model):
            sections.append(_model_section(model))
        if (model, condition) != last:
            last = (model, condition)
            family, factors = where[(model, condition)]
            sections.append(Section(Text(_block_label(family, factors, varied[family], several_families))))
        cells: list[Cell] = [Text(outcome)]
        for r in (by_yes.get((model, condition, outcome)), by_no.get((model, condition, outcome))):
            if r is None or not r.n:
                cells += ["0/0", "–"]
            else:
                lo, hi = r.ci
                cells += [f"{r.k}/{r.n}", f"{_pct(r.rate)} ({_pct(lo)}–{_pct(hi)})"]
        sections[-1].rows.append(cells)
    return SectionedTable(f"Outcomes in samples where {given} was found (yes) and where it was not (no)",
                          columns, sections)


def comparison_table(family: ComparisonFamily, results: Sequence[SampleResult], a_label: str,
                     b_label: str) -> SectionedTable:
    """``duress compare``: a label line per condition, a row per outcome, and what Holm corrected over."""
    by = family.by
    factors = list(dict.fromkeys(f for r in results for f in r.factors))
    varied = [f for f in factors if f != by and len({r.factors.get(f) for r in results}) > 1]

    def label(condition: str) -> str:
        # a condition of compare(): its id (without the compared factor), "model · id" with several models
        model, _, cid = condition.rpartition(" · ")
        parts = dict(p.split("=", 1) for p in cid.split(",") if "=" in p)
        shown = ", ".join(f"{k}={parts[k]}" for k in varied if k in parts) or "(all factors at their defaults)"
        return f"{model} · {shown}" if model else shown

    columns = [Column("Outcome", "left"), Column("A k/n"), Column("B k/n"), Column("A−B"), Column("95% CI"),
               Column("p"), Column("Holm p")]
    sections: list[Section] = []
    last = None
    for c in family.comparisons:
        if (c.family, c.condition) != last:
            last = (c.family, c.condition)
            sections.append(Section(Text(label(c.condition))))
        mark = "[bold]" if c.p_holm < 0.05 else ""
        sections[-1].rows.append([Text(c.outcome), f"{c.k1}/{c.n1}", f"{c.k2}/{c.n2}", f"{mark}{100 * c.diff:+.0f}%",
                                  f"[{100 * c.lo:+.0f}, {100 * c.hi:+.0f}]", p_text(c.p), f"{mark}{p_text(c.p_holm)}"])
    title = Text.assemble(("A", "bold"), f" = {a_label}\n", ("B", "bold"), f" = {b_label}\n",
                          "Rate difference A−B in points with its Newcombe 95% CI, Fisher's exact p, and p corrected "
                          "by Holm's method (bold: Holm p < 0.05).")
    return SectionedTable(title, columns, sections, notes=[Text(family.statement("A", "B") + ".")])


def agreement_table(rows: Sequence["Agreement"]) -> SectionedTable:
    """``duress agreement``: a label line per pair of judges, a row per outcome with κ and the confusion counts."""
    columns = [Column("Outcome", "left"), Column("n"), Column("agree"), Column("κ"), Column("both"),
               Column("A only"), Column("B only"), Column("neither"), Column("undecided")]
    sections: list[Section] = []
    last = None
    for r in rows:
        pair = (r.a, r.b)
        if pair != last:
            last = pair
            sections.append(Section(Text(f"{r.a} vs {r.b}") + Text(f"  (A = {r.a}, B = {r.b})", style="not bold")))
        sections[-1].rows.append([
            Text(r.outcome), str(r.n), "–" if r.raw is None else f"{100 * r.raw:.0f}%",
            "undefined" if r.kappa is None else f"{r.kappa:.2f}",
            str(r.both_yes), str(r.a_only), str(r.b_only), str(r.both_no), str(r.undecided)])
    return SectionedTable("Judge agreement: raw agreement, Cohen's κ, and how often both judges, only A, only B "
                          "or neither found the outcome", columns, sections)


def disagreement_table(rows: Sequence["Agreement"], show: int,
                       results: Sequence[SampleResult] = ()) -> SectionedTable | None:
    """The first ``show`` disagreements: a label line per sample (its condition as the factors that vary,
    its epoch, and its id on a line of its own, to look it up), a row per outcome."""
    listed = [(r, d) for r in rows for d in r.disagreements][:show]
    if not listed:
        return None
    first = {}  # a sample's disagreements together, samples in order of their first one
    for i, (_, d) in enumerate(listed):
        first.setdefault((d.model, d.sample_id, d.epoch), i)
    listed.sort(key=lambda pair: first[(pair[1].model, pair[1].sample_id, pair[1].epoch)])
    factors = {(s.model, s.sample_id, s.epoch): (s.family, s.condition, s.factors) for s in results}
    varied = _varied(results)
    several_models = len({d.model for _, d in listed}) > 1

    def label(d: "Disagreement") -> Text:
        family, condition, fs = factors.get((d.model, d.sample_id, d.epoch), ("", "", {}))
        head = [d.model] if several_models else []
        if fs:
            head.append(condition_label(fs, varied.get(family, [])))
        text = Text(" · ".join([*head, f"epoch {d.epoch}"]))
        if d.sample_id != condition:  # (duress's own samples are named by their condition id)
            text.append(f"\nsample id: {d.sample_id}", style="not bold")  # on a line of its own: long ids fold there
        return text
    columns = [Column("Outcome", "left"), Column("Judges", "left"), Column("Evidence", "left", fold=True)]
    sections: list[Section] = []
    last = None
    for r, d in listed:
        if (d.model, d.sample_id, d.epoch) != last:
            last = (d.model, d.sample_id, d.epoch)
            sections.append(Section(label(d)))
        sections[-1].rows.append([Text(d.outcome), f"{r.a}={'yes' if d.a else 'no'}, {r.b}={'yes' if d.b else 'no'}",
                                  Text(d.evidence)])
    total = sum(len(r.disagreements) for r in rows)
    more = f" (the first {len(listed)} of {total}; --show N for more)" if total > len(listed) else ""
    return SectionedTable(f"Disagreements to review{more}", columns, sections)


def prompt_header(factors: dict[str, str], varied: Sequence[str]) -> Text:
    """show-prompt's heading of a condition: the factors that vary in this design first, then the rest."""
    first = [f"{k}={factors[k]}" for k in varied if k in factors]
    rest = [f"{k}={v}" for k, v in factors.items() if k not in varied]
    head = Text("── ", style="dim")
    head.append(", ".join(first) or "(a single condition)", style="bold")
    if rest:
        head.append("\n   other factors: " + ", ".join(rest), style="dim")
    head.overflow = "fold"
    return head
