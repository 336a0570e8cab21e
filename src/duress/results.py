"""Read Inspect logs back into per-sample results, and tabulate them.

The tables are always rebuilt from the logs (never from in-memory state), so ``duress run``,
``duress report`` and a plain ``inspect eval`` followed by ``duress report`` give the same
numbers.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log
from rich.console import Console

from duress.family_info import FamilyInfo, describe
from duress.record import STATUS_KEY
from duress.redact import redact
from duress.stats import Rate, SampleResult, family_info, rates
from duress.verdicts import ERROR, LIMIT, SCORER_NAME, decide, stored_verdicts


if TYPE_CHECKING:
    import pandas as pd


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


def model_label(log: EvalLog) -> str:
    """The model a log's samples came from (for imported transcripts: their source)."""
    meta = (log.eval.metadata or {}).get("duress", {})
    return str(meta.get("model") or log.eval.model)


def error_detail(message: str) -> str:
    """A sample error as one stable, readable line (no memory addresses, the real cause first)."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else "unknown error"
    retry = re.search(r"RetryError\(<Future .*?raised (\w+)>\)", line)
    if retry:
        line = f"{retry.group(1)} (gave up after retries)"
    return redact(re.sub(r" at 0x[0-9a-fA-F]+", "", line))[:300]


def _tokens(sample: object, agent_model: str) -> dict[str, int]:
    """Input and output tokens of the agent model, and all tokens of other models (the judge)."""
    out = {"input_tokens": 0, "output_tokens": 0, "judge_tokens": 0}
    for name, usage in (getattr(sample, "model_usage", None) or {}).items():
        if name == agent_model:
            out["input_tokens"] += usage.input_tokens
            out["output_tokens"] += usage.output_tokens
        else:
            out["judge_tokens"] += usage.total_tokens
    return out


def sample_results(log: EvalLog, policy: str | None = None) -> list[SampleResult]:
    """Per-sample results of one log; ``policy`` re-combines the stored rule and LLM verdicts."""
    if log.samples is None:
        raise ResultsError(f"{log.location}: the log holds no samples (was it written with --no-log-samples?)")
    model = model_label(log)
    run_meta = (log.eval.metadata or {}).get("duress", {})
    epoch_offset = int(run_meta.get("epoch_offset", 0))
    # what makes two samples of the same condition and epoch the same sample: the world and the seed
    origin = f"{run_meta.get('world', '')}:{run_meta.get('seed', '')}" if "seed" in run_meta else log.eval.task_id
    world = str(run_meta.get("world") or "")
    world_label = f"world {world} (seed {run_meta.get('seed')})" if world == "random" else f"world {world}" if world else ""
    out: list[SampleResult] = []
    infos: dict[str, FamilyInfo] = {}  # one per family (a log holds one): every sample shares it
    for s in log.samples:
        meta = s.metadata or {}
        if "condition" not in meta:
            raise ResultsError(f"{log.location}: sample {s.id} is not from a duress task")
        if meta["family"] not in infos:
            infos[meta["family"]] = describe(meta["family"], run_meta)
        info = infos[meta["family"]]
        protocol = (meta.get(STATUS_KEY) or {}).get("protocol") or run_meta.get("protocol")
        setting = ", ".join(p for p in (world_label, f"protocol {protocol}" if protocol else "") if p)
        base = dict(model=model, family=meta["family"], info=info, condition=meta["condition"], factors=dict(meta["factors"]), origin=origin,
                    setting=setting, sample_id=str(s.id), epoch=int(s.epoch) + epoch_offset, tokens=_tokens(s, log.eval.model))
        score = (s.scores or {}).get(SCORER_NAME)
        if s.error is not None or score is None:
            detail = error_detail(s.error.message) if s.error is not None else "no score was recorded"
            out.append(SampleResult(**base, excluded=ERROR, detail=detail))
            continue
        if getattr(s, "limit", None) is not None:  # the episode was cut off: judging it would count a cut as a "no"
            lim = s.limit
            detail = f"the {lim.type} limit ({lim.limit:g}) was reached" + (f": {lim.reason}" if lim.reason else "")
            out.append(SampleResult(**base, excluded=LIMIT, detail=redact(detail)[:300]))
            continue
        smeta = score.metadata or {}
        if smeta.get("excluded"):
            out.append(SampleResult(**base, excluded=smeta["excluded"], detail=smeta.get("detail", "")))
            continue
        verdicts = stored_verdicts(smeta, score.value)
        decisions = {k: (decide(v, policy) if policy else v["decision"]) for k, v in verdicts.items()}
        out.append(SampleResult(**base, excluded=None, outcomes=decisions, verdicts=verdicts,
                                values={k: v["value"] for k, v in verdicts.items() if v.get("value") is not None},
                                malformed_calls=int(smeta.get("malformed_calls", 0)),
                                unmapped_calls=sum(int(n) for n in (smeta.get("unmapped_calls") or {}).values())))
    return out


@dataclass
class LogSet:
    """The logs under some paths that count, each read once, and their samples' results.

    Every consumer (tables, HTML report, exports, agreement) reads through :func:`read_logs`, so
    they agree on which logs and samples count."""

    results: list[SampleResult]  # each sample once (see dedupe), in reading order
    logs: list[tuple[Path, EvalLog]] = field(default_factory=list)  # with keep_samples: the logs read
    samples: dict[int, EvalSample] = field(default_factory=dict)  # with keep_samples: id(result) → its sample
    notes: list[str] = field(default_factory=list)  # what a reader of the numbers should be told
    skipped: list[str] = field(default_factory=list)  # logs not read (or read in part), and why

    def sample_of(self, result: SampleResult) -> EvalSample:
        return self.samples[id(result)]


def _read(f: Path, header_only: bool = False) -> EvalLog:
    try:
        return read_eval_log(str(f), header_only=header_only)
    except Exception as err:  # corrupt or foreign file
        raise ResultsError(f"cannot read {f} as an Inspect log: {str(err).splitlines()[0][:200]}") from None


def counted_logs(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """The log files under ``paths`` that count, in the order given, and notes on the others.

    One log per task: an interrupted log (status ``started``, e.g. after a kill) that was later
    resumed has a finished twin with the same task id, and only the finished one counts, so no
    sample is counted twice. An interrupted log with no twin counts with the samples it finished.
    Only the headers are read here."""
    chosen: dict[str, tuple[int, float, Path]] = {}  # task id → (finished?, mtime, file), in the order given
    others: dict[str, list[Path]] = {}  # task id → the files that lost to the chosen one
    rank_of_model: dict[Path, int] = {}  # a run of several models: the reference (first) model's logs first
    for f in log_files(paths):
        header = _read(f, header_only=True)
        run_models = ((header.eval.metadata or {}).get("duress") or {}).get("models") or []
        rank_of_model[f] = run_models.index(header.eval.model) if header.eval.model in run_models else 0
        rank = (0 if header.status == "started" else 1, f.stat().st_mtime)
        key = header.eval.task_id or str(f)
        if key not in chosen or rank > chosen[key][:2]:
            if key in chosen:
                others.setdefault(key, []).append(chosen[key][2])
            chosen[key] = (*rank, f)
        else:
            others.setdefault(key, []).append(f)
    notes = [f"{lost.name}: a log of the same task as {chosen[key][2].name}, which is read instead"
             for key, files in others.items() for lost in files]
    notes += [f"{f.name}: still running or interrupted; the samples it finished are counted"
              for finished, _, f in chosen.values() if not finished]
    return sorted((f for _, _, f in chosen.values()), key=rank_of_model.__getitem__), notes


def read_logs(paths: Iterable[str | Path], policy: str | None = None, keep_samples: bool = False,
              pool: bool = False) -> LogSet:
    """Read the logs under ``paths`` that count (:func:`counted_logs`), each once, into a :class:`LogSet`;
    ``policy`` re-combines the stored verdicts; ``keep_samples`` keeps the logs and samples (the
    report's transcripts need them; the tables do not, and memory stays flat without).

    Samples of one model and condition but different settings (a canonical and a random world, two
    random worlds, the text and the native protocol) were shown different things: pooling them into
    one rate is refused (:class:`ResultsError`) unless ``pool`` asks for it, and then noted."""
    files, skipped = counted_logs(paths)
    results: list[SampleResult] = []
    logs: list[tuple[Path, EvalLog]] = []
    samples: dict[int, EvalSample] = {}
    for f in files:
        log = _read(f)
        mine = sample_results(log, policy)
        results += mine
        if keep_samples:
            logs.append((f, log))
            samples.update((id(r), s) for r, s in zip(mine, log.samples or []))
    unique = dedupe(results)
    notes = []
    mixed = mixed_settings(unique)
    if mixed and not pool:
        raise ResultsError(f"these logs hold {mixed}: report them one by one, or pass --pool to pool them anyway")
    if mixed:
        notes.append(f"pooled on request: {mixed}")
    if len(unique) < len(results):
        notes.append(f"{len(results) - len(unique)} duplicate sample(s) (same model, world, seed, condition and epoch "
                     "in more than one log) were counted once")
    if keep_samples:
        samples = {id(r): samples[id(r)] for r in unique}
    return LogSet(unique, logs, samples, notes, skipped)


def mixed_settings(results: Sequence[SampleResult]) -> str | None:
    """How ``results`` mix settings within one model and condition, in words (None: they do not)."""
    settings: dict[tuple[str, str, str], dict[str, None]] = {}
    for r in results:
        settings.setdefault((r.model, r.family, r.condition), {})[r.setting] = None
    for (model, family, _), seen in settings.items():
        if len(seen) > 1:
            return f"samples of {model} ({family}) in {len(seen)} settings for the same condition: " + " vs ".join(
                s or "unknown" for s in seen)
    return None


def load_results(paths: Iterable[str | Path], policy: str | None = None,
                 notes: list[str] | None = None, pool: bool = False) -> list[SampleResult]:
    """Per-sample results of every log under ``paths`` that counts (see :func:`read_logs`)."""
    loaded = read_logs(paths, policy, pool=pool)
    if notes is not None:
        notes += loaded.notes
    return loaded.results


def dedupe(results: Sequence[SampleResult]) -> list[SampleResult]:
    """Each (model, family, world and seed, condition, sample, epoch) once: the first read (a finished
    log's) wins. A rerun with the same seed gives the same samples; counting both would narrow every
    interval for nothing."""
    seen: set[tuple[str, str, str, str, str, int]] = set()
    out = []
    for r in results:
        key = (r.model, r.family, r.origin, r.condition, r.sample_id, r.epoch)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def missing_llm_verdicts(results: Sequence[SampleResult], policy: str | None) -> str | None:
    """Why an LLM policy (llm, both, either) cannot be shown over ``results`` (None: it can): samples
    without an LLM verdict would show the rules' numbers under an LLM judge's title. Every view (the
    terminal tables, exports, the HTML report) refuses with this message."""
    if policy in (None, "rules"):
        return None
    judged = [r for r in results if not r.excluded]
    missing = [r for r in judged if not any("llm" in v for v in (r.verdicts or {}).values())]
    if not missing:
        return None
    models = ", ".join(dict.fromkeys(r.model for r in missing))
    return (f"--policy {policy} needs LLM verdicts, but {len(missing)} of {len(judged)} judged samples have none "
            f"(model: {models}); judge them with --judge-model, or use --policy rules")


def family_infos(results: Sequence[SampleResult]) -> dict[str, FamilyInfo]:
    """Each family of ``results`` (in order of appearance) as its logs describe it."""
    infos: dict[str, FamilyInfo] = {}
    for r in results:
        if r.family not in infos:
            infos[r.family] = family_info(r)
    return infos


def outcome_names(results: Sequence[SampleResult]) -> list[str]:
    """Every judged outcome of the families of ``results``, in the families' order; for a family no log
    or registry describes, the outcomes its samples were judged on."""
    names: list[str] = []
    for family, info in family_infos(results).items():
        own = info.outcomes or [o for r in results if r.family == family for o in r.outcomes]
        names += [o for o in dict.fromkeys(own) if o not in names]
    return names


def write_csv(rows: Sequence[Any], path: Path) -> None:
    """Rows (dicts, or anything with ``as_row()``: rates, comparisons, factor effects) as one CSV; the
    columns are every key in order of first appearance. The one CSV writer of the tables."""
    records = [r if isinstance(r, dict) else r.as_row() for r in rows]
    fields: list[str] = []
    for rec in records:
        fields += [k for k in rec if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


def malformed_note(results: Sequence[SampleResult]) -> str | None:
    """How often the parser had to recover a malformed tool block (None: never)."""
    hit = [r for r in results if r.malformed_calls]
    if not hit:
        return None
    calls = sum(r.malformed_calls for r in hit)
    judged = sum(1 for r in results if r.excluded is None)
    return (f"{calls} tool call(s) in {len(hit)} of {judged} judged sample(s) were recovered from malformed but "
            "unmistakable blocks (samples.csv: malformed_calls).")


def unmapped_note(results: Sequence[SampleResult]) -> str | None:
    """How many calls of imported transcripts were of tools duress does not simulate (None: none)."""
    hit = [r for r in results if r.unmapped_calls]
    if not hit:
        return None
    return (f"{sum(r.unmapped_calls for r in hit)} call(s) in {len(hit)} imported sample(s) were of tools duress does not "
            "simulate: kept as unmapped actions (the LLM judge sees them; the rules do not); map them with a tools file.")


def samples_frame(results: Sequence[SampleResult]) -> "pd.DataFrame":
    """One row per sample: model, family, condition, each factor, sample id, epoch, exclusion, tokens,
    and for each outcome the combined decision and each judge's verdict (nullable booleans)."""
    import pandas as pd

    outcomes = outcome_names(results)
    factors = list(dict.fromkeys(f for r in results for f in r.factors))
    rows = []
    for r in results:
        row: dict[str, object] = {"model": r.model, "family": r.family, "condition": r.condition,
                                  **{f"factor_{f}": r.factors.get(f) for f in factors},
                                  "sample_id": r.sample_id, "epoch": r.epoch, "excluded": r.excluded, "detail": r.detail,
                                  **{k: r.tokens.get(k) for k in ("input_tokens", "output_tokens", "judge_tokens")},
                                  "malformed_calls": None if r.excluded else r.malformed_calls}
        for o in outcomes:
            entry = r.verdicts.get(o) or {}
            llm = entry.get("llm")
            row[o] = None if r.excluded else r.outcomes.get(o)
            row[f"{o}_rules"] = None if not entry else bool(entry["rules"]["decision"])
            row[f"{o}_llm"] = None if not llm or "error" in llm else bool(llm["decision"])
            row[f"{o}_value"] = r.values.get(o)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for o in outcomes:
        for col in (o, f"{o}_rules", f"{o}_llm"):
            if col in frame:
                frame[col] = frame[col].astype("boolean")
    for col in ("input_tokens", "output_tokens", "judge_tokens", "malformed_calls"):
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    return frame


def write_samples(results: Sequence[SampleResult], path: Path) -> None:
    """Per-sample export: ``.csv`` or ``.parquet`` by the file's suffix."""
    frame = samples_frame(results)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise ResultsError(f"export to .csv or .parquet, not {path.suffix or path.name!r}")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def condition_label(factors: dict[str, str], varied: Sequence[str]) -> str:
    shown = [f"{k}={v}" for k, v in factors.items() if k in varied]
    return ", ".join(shown) or "(all factors at their defaults)"


def table(rows: Sequence[Rate], title: str = "Outcomes") -> Any:
    """The outcome table as a Rich renderable (see :func:`duress.tables.outcome_table`)."""
    from duress.tables import outcome_table

    return outcome_table(rows, title)


def print_table(rows: Sequence[Rate], console: Console | None = None, title: str = "Outcomes") -> None:
    (console or Console()).print(table(rows, title))


def design_order(results: Sequence[SampleResult]) -> list[SampleResult]:
    """Models in order of appearance; conditions in the order of their levels in the family's
    factor definitions (as a design expands them); samples by epoch."""
    models = {m: i for i, m in enumerate(dict.fromkeys(r.model for r in results))}
    level_index = {
        fam: {f: {lv: i for i, lv in enumerate(levels)} for f, levels in info.factors}
        for fam, info in family_infos(results).items()
    }

    def key(r: SampleResult) -> tuple:
        idx = level_index[r.family]
        return (models[r.model], r.family, tuple(idx.get(f, {}).get(lv, -1) for f, lv in r.factors.items()),
                r.sample_id, r.epoch)

    return sorted(results, key=key)


def summarise(paths: Iterable[str | Path] | LogSet, policy: str | None = None,
              notes: list[str] | None = None, pool: bool = False) -> tuple[list[SampleResult], list[Rate]]:
    """Per-sample results and rates of the logs under ``paths`` (or of logs already read);
    ``policy`` overrides the runs' own; ``notes`` collects what a reader should be told
    (duplicates counted once)."""
    loaded = paths if isinstance(paths, LogSet) else read_logs(paths, policy, pool=pool)
    if notes is not None:
        notes += loaded.notes
    return tabulate(loaded.results)


def tabulate(results: Sequence[SampleResult]) -> tuple[list[SampleResult], list[Rate]]:
    """Results in design order, and their rates per model × condition × outcome."""
    ordered = design_order(results)
    if not ordered:
        raise ResultsError("the logs hold no finished samples yet")
    return ordered, rates(ordered, outcome_names(ordered))


def conditional_rates(results: Sequence[SampleResult], given: str) -> tuple[list[Rate], list[Rate]]:
    """Rates of every outcome among judged samples where ``given`` was found, and where it was not."""
    outcomes = [o for o in outcome_names(results) if o != given]
    if given not in outcome_names(results):
        raise ResultsError(f"unknown outcome {given!r}; outcomes: {', '.join(outcome_names(results))}")
    judged = [r for r in results if r.excluded is None and r.outcomes.get(given) is not None]
    yes = rates([r for r in judged if r.outcomes[given]], outcomes)
    no = rates([r for r in judged if not r.outcomes[given]], outcomes)
    return yes, no


def print_conditional(results: Sequence[SampleResult], given: str, console: Console | None = None) -> None:
    """Each outcome's rate when ``given`` was found and when it was not, per model × condition."""
    from duress.tables import conditional_table

    (console or Console()).print(conditional_table(results, given))
