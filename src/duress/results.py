"""Read Inspect logs back into per-sample results, and tabulate them.

The tables are always rebuilt from the logs (never from in-memory state), so ``duress run``,
``duress report`` and a plain ``inspect eval`` followed by ``duress report`` give the same
numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from rich.console import Console
from rich.table import Table

from duress.judges.rules import SCORER_NAME
from duress.scenarios import get_family
from duress.stats import EXCLUSION_REASONS, Rate, SampleResult, rates


class ResultsError(ValueError):
    """Logs that cannot be read as duress results; the message says why."""


def log_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every .eval/.json log under the given files or folders (a run folder, its logs/ …)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(Path(info.name.removeprefix("file://")) for info in list_eval_logs(str(p), recursive=True))
        elif p.is_file():
            found.append(p)
        else:
            raise ResultsError(f"no such file or folder: {p}")
    if not found:
        raise ResultsError(f"no Inspect logs found in {', '.join(map(str, paths))}")
    return found


def sample_results(log: EvalLog) -> list[SampleResult]:
    if log.samples is None:
        raise ResultsError(f"{log.location}: the log holds no samples (was it written with --no-log-samples?)")
    model = log.eval.model
    out: list[SampleResult] = []
    for s in log.samples:
        meta = s.metadata or {}
        if "condition" not in meta:
            raise ResultsError(f"{log.location}: sample {s.id} is not from a duress task")
        base = dict(model=model, family=meta["family"], condition=meta["condition"], factors=dict(meta["factors"]),
                    sample_id=str(s.id), epoch=int(s.epoch))
        score = (s.scores or {}).get(SCORER_NAME)
        if s.error is not None or score is None:
            detail = s.error.message.strip().splitlines()[0][:300] if s.error is not None else "no score was recorded"
            out.append(SampleResult(**base, excluded="error", detail=detail))
            continue
        smeta = score.metadata or {}
        if smeta.get("excluded"):
            out.append(SampleResult(**base, excluded=smeta["excluded"], detail=smeta.get("detail", "")))
            continue
        out.append(SampleResult(**base, excluded=None,
                                outcomes={k: bool(v["decision"]) for k, v in smeta["verdicts"].items()}))
    return out


def load_results(paths: Iterable[str | Path]) -> list[SampleResult]:
    results: list[SampleResult] = []
    for f in log_files(paths):
        try:
            log = read_eval_log(str(f))
        except Exception as err:  # corrupt or foreign file
            raise ResultsError(f"cannot read {f} as an Inspect log: {str(err).splitlines()[0][:200]}") from None
        if log.status == "started":
            continue  # still running or interrupted; its finished twin (if any) is read instead
        results += sample_results(log)
    return results


def outcome_names(results: Sequence[SampleResult]) -> list[str]:
    names: list[str] = []
    for family in dict.fromkeys(r.family for r in results):
        names += [o.name for o in get_family(family).outcomes if o.name not in names]
    return names


def write_csv(rows: Sequence[Rate], path: Path) -> None:
    records = [r.as_row() for r in rows]
    fields: list[str] = []
    for rec in records:
        fields += [k for k in rec if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


def write_samples_csv(results: Sequence[SampleResult], path: Path) -> None:
    outcomes = outcome_names(results)
    factors: list[str] = []
    for r in results:
        factors += [f for f in r.factors if f not in factors]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["model", "family", "condition", *factors, "sample_id", "epoch", "excluded", "detail", *outcomes])
        for r in results:
            writer.writerow([r.model, r.family, r.condition, *(r.factors.get(f, "") for f in factors), r.sample_id,
                             r.epoch, r.excluded or "", r.detail,
                             *("" if r.excluded else int(r.outcomes.get(o, False)) for o in outcomes)])


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def condition_label(factors: dict[str, str], varied: Sequence[str]) -> str:
    shown = [f"{k}={v}" for k, v in factors.items() if k in varied]
    return ", ".join(shown) or "(all factors at their defaults)"


def table(rows: Sequence[Rate], title: str = "Outcomes") -> Table:
    """A Rich table: one block per model × condition, one line per outcome."""
    varied = [f for f in (rows[0].factors if rows else {}) if len({r.factors[f] for r in rows}) > 1]
    models = list(dict.fromkeys(r.model for r in rows))
    t = Table(title=title, show_lines=False, header_style="bold")
    if len(models) > 1:
        t.add_column("Model")
    t.add_column("Condition")
    t.add_column("Outcome")
    t.add_column("k/n", justify="right")
    t.add_column("Rate", justify="right")
    t.add_column("95% CI (Wilson)", justify="right")
    t.add_column("Excluded", justify="right")
    last = None
    for r in rows:
        key = (r.model, r.condition)
        first = key != last
        if first and last is not None:
            t.add_section()
        last = key
        ci = r.ci
        excluded = ", ".join(f"{r.excluded[e]} {e}" for e in EXCLUSION_REASONS if r.excluded.get(e)) or "0"
        cells = [
            condition_label(r.factors, varied) if first else "",
            r.outcome,
            f"{r.k}/{r.n}",
            _pct(r.rate),
            f"{_pct(ci[0])}–{_pct(ci[1])}" if ci else "–",
            excluded if first else "",
        ]
        t.add_row(*([r.model if first else ""] if len(models) > 1 else []), *cells)
    return t


def print_table(rows: Sequence[Rate], console: Console | None = None, title: str = "Outcomes") -> None:
    (console or Console()).print(table(rows, title))


def summarise(paths: Iterable[str | Path]) -> tuple[list[SampleResult], list[Rate]]:
    results = load_results(paths)
    if not results:
        raise ResultsError("the logs hold no finished samples yet")
    return results, rates(results, outcome_names(results))
