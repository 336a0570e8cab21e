"""duress as a library: run a family on a model, resume a run, sample until the intervals are narrow.

The ``duress`` command is a thin layer on these functions; a notebook calls them directly::

    from duress import api
    result = api.run("blackmail", "local/smollm2", factors={"threat": ["replacement", "none"]}, samples=2)
    result.rows            # rates with n and 95% Wilson intervals, per condition and outcome
    result.results         # one record per sample (verdicts, exclusions, tokens)
    api.resume(result.run_dir)   # finish a run that was interrupted
    api.run_until(0.1, "blackmail", "local/smollm2", batch=5, max_samples=60)

A run is a folder: ``run.json`` (the :class:`RunSpec`), ``logs/`` (Inspect logs, one eval set per
round or chunk), ``results.csv``, ``samples.csv`` and ``samples.parquet``. Bad input raises
:class:`UsageError` (one line: what is wrong and how to fix it) before anything is written.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.console import Console
from rich.markup import escape

from duress.choices import PROTOCOLS, WORLDS
from duress.limits import MESSAGE_LIMIT, SAMPLE_TIME_LIMIT
from duress.redact import redact_all
from duress.verdicts import POLICIES

SAMPLES_PER_LOG = 1000  # samples per Inspect eval of a run (RunSpec.samples_per_log)
DEFAULT_TIMEOUT = 600  # seconds one model call may take, retries included: an unreachable server fails in bounded time
PREFLIGHT_TIMEOUT = 30  # seconds the one-line test request to each model may take
IN_PROCESS = ("local", "scripted", "mockllm", "none")  # providers with no server to check (and scripts not to consume)


def one_line(err: BaseException) -> str:
    """An exception message (possibly multi-line Rich markup) as one plain line."""
    from rich.text import Text

    try:
        plain = Text.from_markup(str(err)).plain
    except Exception:
        plain = str(err)
    text = " ".join(line.strip() for line in plain.splitlines() if line.strip())
    return re.sub(r"^ERROR:\s*", "", text) or type(err).__name__


def slug(text: str) -> str:
    """``text`` as a short folder-name part."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "model"


class UsageError(ValueError):
    """Bad input to a run: the message is one line saying what is wrong and how to fix it."""


class RunError(RuntimeError):
    """A run that produced nothing to report (every eval failed before a sample was logged)."""


class RunSpec(BaseModel):
    """Everything that defines a run; stored as the run folder's ``run.json``, read back by :func:`resume`."""

    model_config = ConfigDict(extra="ignore")  # run.json also keeps the expanded design and condition ids

    scenario: str = "blackmail"
    model: str = "local/smollm2"  # the first of ``models``: the reference a newer model is compared with
    models: list[str] = Field(default_factory=list)  # every model of the run (one eval set); default: [model]
    factors: list[str] = Field(default_factory=list)  # NAME=LEVEL[,LEVEL...]; none: the family's default design
    samples: int = Field(5, ge=1)  # per condition (the round size with until_ci)
    world: Literal[WORLDS] = "canonical"  # type: ignore[valid-type]
    seed: int | None = None  # None: a fresh random seed, drawn when the run starts and stored
    protocol: Literal[("auto", *PROTOCOLS)] = "auto"  # type: ignore[valid-type]
    max_turns: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0)
    max_connections: int | None = Field(None, ge=1)
    max_retries: int | None = Field(None, ge=0)
    timeout: int | None = Field(DEFAULT_TIMEOUT, ge=1)  # per model call, retries included
    preflight: bool = True  # one tiny request to each model before anything is written
    cache: bool = False
    judge_model: str | None = None
    policy: Literal[POLICIES] | None = None  # type: ignore[valid-type]
    until_ci: float | None = Field(None, gt=0, lt=0.5)
    max_samples: int = Field(300, ge=1)
    samples_per_log: int = Field(SAMPLES_PER_LOG, ge=1)
    sample_time_limit: int = Field(SAMPLE_TIME_LIMIT, ge=0)
    message_limit: int = Field(MESSAGE_LIMIT, ge=0)
    token_limit: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _models(self) -> "RunSpec":
        if not self.models:
            self.models = [self.model]
        self.models = list(dict.fromkeys(self.models))  # a model named twice runs once
        self.model = self.models[0]
        return self


@dataclass
class RunResult:
    """What a run left in its folder, read back from its logs."""

    run_dir: Path
    title: str
    results: list[Any]  # duress.results.SampleResult, one per sample
    rows: list[Any]  # duress.stats.Rate, one per condition and outcome
    expected: int = 0  # samples the evals were asked for (0: not known, e.g. judged transcripts)
    problems: list[str] = field(default_factory=list)  # evals that failed or could not be written
    notes: list[str] = field(default_factory=list)  # what the reader of the table should know
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)  # model (and "judge") → input/output tokens

    @property
    def complete(self) -> bool:
        return not self.problems and len(self.results) >= self.expected

    @property
    def excluded(self) -> int:
        return sum(1 for r in self.results if r.excluded)

    @property
    def failed(self) -> bool:
        """No sample could be judged: every one errored, hit a limit, came back empty or was refused."""
        return bool(self.results) and self.excluded == len(self.results)

    def exclusions(self) -> list[tuple[str, int, str, int]]:
        """(reason, samples, most common detail, samples with it), most frequent reason first."""
        from collections import Counter

        by_reason: dict[str, Counter[str]] = {}
        for r in self.results:
            if r.excluded:
                by_reason.setdefault(r.excluded, Counter())[r.detail or ""] += 1
        rows = [(reason, sum(c.values()), *c.most_common(1)[0]) for reason, c in by_reason.items()]
        return sorted(rows, key=lambda row: -row[1])


def factor_options(factors: Mapping[str, str | Sequence[str]] | Sequence[str] | None) -> list[str]:
    """``{"threat": ["replacement", "none"]}`` or ``["threat=replacement,none"]`` as ``NAME=LEVELS`` strings."""
    if not factors:
        return []
    if isinstance(factors, Mapping):
        return [f"{k}={v if isinstance(v, str) else ','.join(v)}" for k, v in factors.items()]
    return [str(f) for f in factors]


def design_of(scenario: str, factors: Sequence[str]) -> tuple[Any, Any]:
    """The family and the design that ``factors`` (``NAME=LEVELS`` strings; none: the default) choose."""
    from duress.design import build_design, parse_factor_options
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        raise UsageError(f"{err.args[0]} (see: duress scenarios)") from None
    try:
        choices = parse_factor_options(list(factors)) if factors else dict(fam.default_choices)
        return fam, build_design(fam.factors, choices, family=f"scenario {scenario!r}")
    except ValueError as err:
        raise UsageError(str(err)) from None


def inert_factors(fam: Any, design: Any, world: Any) -> list[str]:
    """Notes on factors that change nothing in some conditions of ``design``: conditions that differ
    only in them render byte-identical prompts (e.g. the successor's values when there is no
    replacement). Their samples stay separate rows; the note says they are the same experiment."""
    import hashlib

    groups: dict[str, list[Any]] = {}
    for condition in design.conditions():
        r = fam.render(condition, world, "text")
        key = hashlib.sha256(json.dumps([r.system, r.user_turns, r.environment], sort_keys=True).encode()).hexdigest()
        groups.setdefault(key, []).append(condition)
    varied = [f for f, levels in design.chosen.items() if len(levels) > 1]
    notes: dict[str, tuple[int, str]] = {}
    for same in (g for g in groups.values() if len(g) > 1):
        levels = [c.as_dict() for c in same]
        inert = [f for f in varied if len({lv[f] for lv in levels}) > 1]
        where = ", ".join(f"{f}={levels[0][f]}" for f in varied if f not in inert)
        for f in inert:
            count, example = notes.get(f, (0, where))
            notes[f] = (count + len(same), example)
    total = len(design.conditions())
    return [f"{f} has no effect in {count} of {total} conditions{f' (e.g. with {where})' if where else ''}: they show the "
            "agent the same prompts, so their rows are the same experiment" for f, (count, where) in notes.items()]


def check_models(*models: str | None, roles: Sequence[str] = ("model", "judge model")) -> None:
    """Each model can be built (known provider, file present, key set), or one line saying which cannot."""
    from inspect_ai.model import get_model

    for model, role in zip(models, roles):
        if not model:
            continue
        try:
            get_model(model)
        except Exception as err:  # unknown provider, missing file, missing key …
            raise UsageError(f"cannot use {role} {model!r}: {one_line(err)}") from None


def spec_error(err: ValidationError) -> str:
    """A pydantic error as one line naming the field."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "run"
    return f"{where}: {first.get('msg', 'invalid')}"


def make_spec(scenario: str = "blackmail", model: str | Sequence[str] = "local/smollm2", *,
              factors: Mapping[str, str | Sequence[str]] | Sequence[str] | None = None, **options: Any) -> RunSpec:
    """A :class:`RunSpec` from :func:`run`'s arguments (checked: unknown options and bad values are a UsageError)."""
    unknown = sorted(set(options) - set(RunSpec.model_fields) - {"models"})
    if unknown:
        raise UsageError(f"unknown run option(s) {', '.join(unknown)}; see duress.api.RunSpec for the options")
    models = [model] if isinstance(model, str) else list(model)
    if not models:
        raise UsageError("give at least one model")
    try:
        return RunSpec(scenario=scenario, model=models[0], models=models, factors=factor_options(factors), **options)
    except ValidationError as err:
        raise UsageError(spec_error(err)) from None


def run(scenario: str = "blackmail", model: str | Sequence[str] = "local/smollm2", *,
        factors: Mapping[str, str | Sequence[str]] | Sequence[str] | None = None, out: str | Path = "runs",
        console: Console | None = None, **options: Any) -> RunResult:
    """Run ``scenario`` on ``model`` (or on each of several models, the first being the reference) in a
    new folder under ``out``; ``options`` are :class:`RunSpec` fields.

    Without ``seed``, a fresh one is drawn and stored, so a second run adds new samples instead of
    repeating the first (pass the stored seed to reproduce a run exactly).
    ``console``: where to show the plan, the progress bar and notes (default: nothing is printed)."""
    spec = make_spec(scenario, model, factors=factors, **options)
    if spec.seed is None:
        spec.seed = secrets.randbelow(2**31)
    more = f"-and-{len(spec.models) - 1}-more" if len(spec.models) > 1 else ""
    run_dir = Path(out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{spec.scenario}-{slug(spec.model)}{more}"
    return execute(spec, run_dir, resuming=False, console=console)


def run_until(halfwidth: float, scenario: str = "blackmail", model: str = "local/smollm2", *, batch: int = 5,
              max_samples: int = 300, **options: Any) -> RunResult:
    """Sample in rounds of ``batch`` per condition until every condition's widest 95% Wilson interval
    has half-width ≤ ``halfwidth`` (or ``max_samples`` per condition were run); see :func:`run`."""
    return run(scenario, model, samples=batch, until_ci=halfwidth, max_samples=max_samples, **options)


def read_spec(run_dir: str | Path) -> RunSpec:
    """The :class:`RunSpec` a run folder was made with."""
    spec_file = Path(run_dir) / "run.json"
    try:
        data = json.loads(spec_file.read_text(encoding="utf-8"))
        data["scenario"], data["model"]  # noqa: B018  (a run.json must name both)
        return RunSpec.model_validate(data)
    except (OSError, ValueError, KeyError, TypeError) as err:
        why = spec_error(err) if isinstance(err, ValidationError) else type(err).__name__
        raise UsageError(f"cannot resume {run_dir}: {spec_file} is missing or unreadable ({why}); "
                         "give a run folder made by duress run") from None


def resume(run_dir: str | Path, console: Console | None = None) -> RunResult:
    """Finish an interrupted run in its own folder: finished samples are kept, the rest are run."""
    return execute(read_spec(run_dir), Path(run_dir), resuming=True, console=console)


@dataclass
class _Progress:
    """What a run was asked for and what went wrong, so that an incomplete run never looks complete."""

    expected: int = 0
    problems: list[str] = field(default_factory=list)


def _quiet() -> Console:
    return Console(quiet=True)


def new_run_dir(run_dir: Path) -> Path:
    """Create the run folder: a new one (``-2``, ``-3`` … when a run started in the same second)."""
    for i in range(1, 100):
        candidate = run_dir if i == 1 else run_dir.with_name(f"{run_dir.name}-{i}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            raise UsageError(f"cannot create the run folder {candidate}: {err.strerror or err}; "
                             "give --out a folder you can write to") from None
    raise UsageError(f"cannot create a new run folder next to {run_dir}: too many with that name; give another --out")


def _lock(run_dir: Path) -> Any:
    """Hold the run folder for this process: a second duress on the same folder is refused."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(run_dir / ".duress.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UsageError(f"{run_dir} is being run by another duress process; wait for it to finish "
                         "(one writer per run folder)") from None
    except OSError as err:
        raise UsageError(f"cannot lock the run folder {run_dir}: {err.strerror or err}; is it writable?") from None
    return lock


def _check_logs_readable(run_dir: Path) -> None:
    """Before resuming: every log in the folder must be readable, or say which is not and what to do."""
    from inspect_ai.log import read_eval_log

    from duress.results import log_files

    for f in log_files([run_dir / "logs"]) if (run_dir / "logs").is_dir() else []:
        try:
            read_eval_log(str(f), header_only=True)
        except Exception as err:
            raise UsageError(f"cannot resume {run_dir}: {f} is not a readable Inspect log ({one_line(err)[:120]}); "
                             "move it out of the folder and resume again (its samples will be run again)") from None


def preflight(models: Sequence[str], timeout: int = PREFLIGHT_TIMEOUT) -> None:
    """One tiny request to each model served elsewhere, so that a bad key, URL or model name is one
    line before the run instead of a run whose every sample is an error."""
    from inspect_ai.model import GenerateConfig, get_model

    from duress.redact import redact

    async def ask(name: str) -> None:
        model = get_model(name, memoize=False)  # its own client, closed here: the run's evals make theirs
        async with model:
            await model.generate("Reply with the word OK.",
                                 config=GenerateConfig(max_tokens=8, timeout=timeout, max_retries=1))

    for name in models:
        if name.split("/", 1)[0] in IN_PROCESS:
            continue
        try:
            asyncio.run(asyncio.wait_for(ask(name), timeout + 5))
        except Exception as err:  # whatever the provider raised: a key, a URL, a quota, a name
            why = "no answer within {timeout} s".format(timeout=timeout) if isinstance(err, TimeoutError) \
                else redact(one_line(err))[:240]
            raise UsageError(f"model {name!r} failed a one-line test request ({why}); check its API key, base URL "
                             "and name, or pass --no-preflight") from None


def execute(spec: RunSpec, run_dir: Path, resuming: bool, console: Console | None = None) -> RunResult:
    """Validate ``spec``, write it to run.json, run it as Inspect eval sets, and read the results back.

    Every eval goes through ``eval_set`` on the run's log folder, so running the same spec on the
    same folder again (:func:`resume`) skips what is finished and completes what is not: samples of
    an interrupted log are reused, none is run twice.
    """
    from duress.verdicts import PolicyError, policy_label, run_policy

    console = console or _quiet()
    fam, design = design_of(spec.scenario, spec.factors)
    try:
        policy = run_policy(spec.policy, spec.judge_model)
    except PolicyError as err:
        raise UsageError(str(err)) from None
    spec = spec.model_copy(update={"policy": policy})
    if spec.seed is None:
        spec.seed = secrets.randbelow(2**31)
    check_models(*spec.models, spec.judge_model, roles=("model",) * len(spec.models) + ("judge model",))
    conditions = design.conditions()
    models = ", ".join(spec.models)
    plan = f"{spec.samples} sample(s)" if spec.until_ci is None else \
        f"rounds of {spec.samples} until every 95% CI half-width ≤ {spec.until_ci:g} (at most {spec.max_samples})"
    console.print(
        f"[bold]duress run[/]{' (resuming ' + str(run_dir) + ')' if resuming else ''}: {fam.name} on "
        f"[bold]{escape(models)}[/], {len(conditions)} condition(s) × {plan}; world {spec.world}; "
        f"seed {spec.seed} (reproduce with --seed {spec.seed}); protocol {spec.protocol}"
    )
    world = fam.world(spec.world, spec.seed if spec.world == "random" else None)
    inert = inert_factors(fam, design, world)
    for note in inert:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if spec.preflight and not resuming:
        preflight([*spec.models, *([spec.judge_model] if spec.judge_model else [])])
    if resuming:
        lock = _lock(run_dir)
        _check_logs_readable(run_dir)
    else:
        run_dir = new_run_dir(run_dir)
        lock = _lock(run_dir)
    try:
        _write_spec(run_dir, spec, design, conditions)
        progress = _Progress()
        if spec.until_ci is None:
            _round(fam, spec, design, run_dir, "all", [c.id for c in conditions], spec.samples, 0, progress, console)
        else:
            _sequential(fam, conditions, spec, design, run_dir, progress, console)
        result = finish(run_dir, f"{fam.name} · {models} · verdicts: {policy_label(policy, [spec.judge_model])}",
                        progress)
        result.tokens = token_totals(result.results, spec.judge_model)
        result.notes += inert
        _write_spec(run_dir, spec, design, conditions, tokens=result.tokens)
        return result
    finally:
        lock.release()


def _write_spec(run_dir: Path, spec: RunSpec, design: Any, conditions: Sequence[Any], **extra: Any) -> None:
    """run.json: the spec, the expanded design and condition ids (and, after the run, its token totals)."""
    stored = {**spec.model_dump(), "design": {k: list(v) for k, v in design.chosen.items()},
              "conditions": [c.id for c in conditions], **extra}
    try:
        (run_dir / "run.json").write_text(json.dumps(redact_all(stored), indent=2) + "\n")
    except OSError as err:
        raise UsageError(f"cannot write {run_dir / 'run.json'}: {err.strerror or err}") from None


def token_totals(results: Sequence[Any], judge_model: str | None = None) -> dict[str, dict[str, int]]:
    """Input and output tokens per model of the run, and the judge's tokens (all of them, as "judge")."""
    totals: dict[str, dict[str, int]] = {}
    for r in results:
        t = totals.setdefault(r.model, {"input": 0, "output": 0})
        t["input"] += r.tokens.get("input_tokens", 0)
        t["output"] += r.tokens.get("output_tokens", 0)
        if judge_model or r.tokens.get("judge_tokens"):
            totals.setdefault("judge", {"total": 0})["total"] += r.tokens.get("judge_tokens", 0)
    return totals


def _task_options(spec: RunSpec, design: Any) -> dict[str, Any]:
    """What every task of a run shares (:func:`duress.task.family_task`'s arguments)."""
    return {"factors": {k: list(v) for k, v in design.chosen.items()}, "world": spec.world, "seed": spec.seed,
            "protocol": spec.protocol, "max_turns": spec.max_turns, "cache": spec.cache,
            "judge_model": spec.judge_model, "policy": spec.policy, "sample_time_limit": spec.sample_time_limit,
            "message_limit": spec.message_limit, "token_limit": spec.token_limit, "models": spec.models}


def _eval_options(spec: RunSpec) -> dict[str, Any]:
    """What every eval set of a run is given: the models and their generation config."""
    from inspect_ai.model import GenerateConfig

    config = GenerateConfig(max_tokens=spec.max_tokens, temperature=spec.temperature,
                            max_connections=spec.max_connections, max_retries=spec.max_retries, timeout=spec.timeout)
    model: str | list[str] = spec.models if len(spec.models) > 1 else spec.model
    return {"model": model, "display": "none", "score_display": False, **config.model_dump(exclude_none=True)}


def _round(fam: Any, spec: RunSpec, design: Any, run_dir: Path, name: str, only: list[str], size: int, offset: int,
           progress: _Progress, console: Console) -> None:
    """``size`` samples of the conditions ``only`` as Inspect eval sets of at most ``per_log`` samples
    (see :func:`duress.task.eval_chunks`), one after the other, each in its own log folder.

    Separate eval sets, not one eval set of several tasks: Inspect keeps every finished sample's
    score until the *eval* call returns, across all of its tasks, so only separate calls keep a
    large run's memory flat. The chunks are fixed by the spec, so a resumed run maps onto them."""
    from inspect_ai import eval_set

    from duress.progress import sample_progress
    from duress.task import eval_chunks, family_task

    chunks = eval_chunks(only, size, spec.samples_per_log)
    common, eval_args, n_models = _task_options(spec, design), _eval_options(spec), len(spec.models)
    label = fam.name if name == "all" else f"{fam.name} {name} (n={offset}→{offset + size})"
    base = run_dir / "logs" if name == "all" else run_dir / "logs" / name
    with sample_progress(len(only) * size * n_models, label, console):
        for i, (group, start, epochs) in enumerate(chunks, 1):
            task = family_task(fam.name, samples=epochs, only=group, epoch_offset=offset + start, **common)
            log_dir = base if len(chunks) == 1 else base / f"part-{i:03d}"
            progress.expected += len(group) * epochs * n_models
            # task-level retries stay off: sample errors are excluded and counted, not retried silently
            try:
                success, _ = eval_set(task, log_dir=str(log_dir), retry_attempts=0, retry_immediate=False, **eval_args)
            except (OSError, PermissionError) as err:  # full disk, a folder that became unwritable …
                progress.problems.append(f"writing {log_dir} failed: {err.strerror or err}")
                continue
            if not success:
                progress.problems.append(f"the eval in {log_dir} did not finish")


def _sequential(fam: Any, conditions: list[Any], spec: RunSpec, design: Any, run_dir: Path, progress: _Progress,
                console: Console) -> None:
    """Rounds of ``spec.samples`` per unfinished condition until each condition's widest 95% Wilson
    interval (over the family's outcomes) has half-width ≤ ``spec.until_ci``, or ``spec.max_samples``
    is reached.

    This targets precision, not significance: stopping depends on the interval's width, not on
    whether it excludes some value, so the intervals keep close to their nominal coverage. The
    rounds are deterministic given the logs, so a resumed run replays finished rounds from their
    logs and goes on where it stopped.
    """
    from duress.results import summarise
    from duress.stats import next_round, samples_for_halfwidth, wilson_halfwidth

    batch, target, max_samples = spec.samples, spec.until_ci, spec.max_samples
    assert target is not None
    done = used = 0
    sizes = {c.id: min(batch, max_samples) for c in conditions}
    round_no = 0
    while any(sizes.values()):
        round_no += 1
        active = [cid for cid, size in sizes.items() if size]
        size = sizes[active[0]]  # every unfinished condition has had the same number of samples
        _round(fam, spec, design, run_dir, f"round-{round_no:02d}", active, size, done, progress, console)
        if progress.problems:
            break  # a failed round: the stopping rule cannot be trusted on missing samples
        done += size
        used += len(active) * size * len(spec.models)
        _, rows = summarise([run_dir / "logs"])
        own = {o.name for o in fam.outcomes}
        worst: dict[str, tuple[int, int]] = {}
        for r in rows:
            if r.outcome in own and r.condition in sizes:
                k, n = worst.get(r.condition, (r.k, r.n))
                worst[r.condition] = max([(k, n), (r.k, r.n)], key=lambda kn: wilson_halfwidth(*kn) if kn[1] else 1.0)
        # n counts judged samples (a condition whose samples all failed has n = 0 and goes on);
        # the cap applies to samples run, so every unfinished condition stays in step.
        nxt = next_round({cid: worst.get(cid, (0, 0)) for cid in active}, target, max_samples, batch)
        sizes = {cid: (min(nxt.get(cid, 0), max_samples - done) if cid in active else 0) for cid in sizes}
    fixed = samples_for_halfwidth(0.5, target) * len(conditions) * len(spec.models)
    console.print(f"Sequential sampling used {used} samples; a fixed-n design with the same worst-case interval "
                  f"width (half-width {target:g} at a 50% rate) needs {fixed}.")


def finish(run_dir: Path, title: str, progress: _Progress | None = None) -> RunResult:
    """After the evals: redact the logs, read them back, write the CSVs and Parquet.

    A run that got fewer samples than it asked for (an eval that failed or was cut short, a log
    that could not be written) says so in the title; :attr:`RunResult.complete` is then False."""
    from duress.redact import redact_log_file
    from duress.results import (ResultsError, log_files, malformed_note, summarise, unmapped_note, write_csv,
                                write_samples)

    progress = progress or _Progress()
    for log in log_files([run_dir / "logs"]) if (run_dir / "logs").is_dir() else []:
        redact_log_file(log)  # a provider's error may echo its key: none stays in a log
    notes: list[str] = []
    try:
        results, rows = summarise([run_dir / "logs"], notes=notes)
    except ResultsError as err:
        if progress.problems:
            return RunResult(run_dir, f"{title} · INCOMPLETE: 0 of {progress.expected} samples", [], [],
                             progress.expected, progress.problems)
        raise RunError(f"the run produced no results: {err} (logs: {run_dir / 'logs'})") from None
    result = RunResult(run_dir, title, results, rows, progress.expected, progress.problems,
                       [n for n in [*notes, malformed_note(results), unmapped_note(results)] if n])
    if not result.complete:
        result.title = f"{title} · INCOMPLETE: {len(results)} of {progress.expected} samples"
    write_csv(rows, run_dir / "results.csv")
    write_samples(results, run_dir / "samples.csv")
    write_samples(results, run_dir / "samples.parquet")
    return result


# --- the bill before paying it ------------------------------------------------------------------

CHARS_PER_TOKEN = 4  # a rough, provider-neutral rule for English text; tokenizers differ by ±25%
ASSUMED_OUTPUT = 600  # tokens per model turn when --max-tokens does not bound it
TOOL_RESULT_TOKENS = 150  # what one turn's tool results add to the conversation, roughly
SHORT_ANSWER = 200  # tokens of one answer in a typical run


@dataclass
class Cost:
    """One model's (or the judge's) share of a run: calls and tokens as (typical, bound), and money if priced."""

    model: str
    role: str  # "agent" or "judge"
    protocol: str
    samples: int
    calls: tuple[int, int]
    input_tokens: tuple[int, int]
    output_tokens: tuple[int, int]
    money: tuple[float, float] | None = None


def _tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate(spec: RunSpec, prices: Mapping[str, Mapping[str, float]] | None = None) -> list[Cost]:
    """What ``spec`` will cost, from the prompts it renders: per model (and the judge) the model calls
    and tokens, from a typical run (one model turn per user message, short answers) to the bound
    (every turn used, every answer at its token bound), and with ``prices`` (model → USD per million
    ``input``/``output`` tokens) money. Tokens are characters / :data:`CHARS_PER_TOKEN`.

    With ``until_ci`` the samples are one round per condition (typical) to ``max_samples`` (bound)."""
    from duress.agent import default_max_turns, default_protocol
    from duress.judges.llm import MAX_ANSWER_TOKENS, MAX_ENV_CHARS, MAX_ENV_ITEMS, plan_for
    from duress.tools.base import text_instructions

    fam, design = design_of(spec.scenario, spec.factors)
    conditions = design.conditions()
    world = fam.world(spec.world, spec.seed if spec.world == "random" else None)
    fewest, most = spec.samples, (spec.max_samples if spec.until_ci is not None else spec.samples)
    out_per_turn = spec.max_tokens or ASSUMED_OUTPUT
    judge_system = _tokens(plan_for(fam).system) if spec.judge_model else 0
    costs: list[Cost] = []
    judge = {"calls": [0, 0], "in": [0, 0], "out": [0, 0]}
    for model in spec.models:
        protocol = default_protocol(model) if spec.protocol == "auto" else spec.protocol
        turns = spec.max_turns or default_max_turns(protocol)
        calls, tokens_in, tokens_out = [0, 0], [0, 0], [0, 0]
        for condition in conditions:
            rendered = fam.render(condition, world, protocol)
            head = _tokens(rendered.system)
            if protocol == "native":  # the tool definitions travel beside the prompt
                head += _tokens(text_instructions(list(rendered.environment)))
            environment = sum(min(len(json.dumps(v)), MAX_ENV_CHARS * MAX_ENV_ITEMS) for v in rendered.environment.values())
            for i, (per_user_turn, n) in enumerate(((1, fewest), (turns, most))):
                context, sample_in, sample_calls = head, 0, 0
                for user in rendered.user_turns:
                    context += _tokens(user)
                    for _ in range(per_user_turn):
                        sample_in += context
                        sample_calls += 1
                        context += out_per_turn + TOOL_RESULT_TOKENS
                sample_out = sample_calls * (out_per_turn if i else min(out_per_turn, SHORT_ANSWER))
                calls[i] += n * sample_calls
                tokens_in[i] += n * sample_in
                tokens_out[i] += n * sample_out
                if spec.judge_model:  # one call per sample (a second for outcomes it left out, at most)
                    judge["calls"][i] += n * (1 + i)
                    judge["in"][i] += n * (1 + i) * (judge_system + environment // CHARS_PER_TOKEN + sample_out)
                    judge["out"][i] += n * (1 + i) * (400 if not i else MAX_ANSWER_TOKENS)
        costs.append(Cost(model, "agent", protocol, most * len(conditions), tuple(calls), tuple(tokens_in),
                          tuple(tokens_out)))
    if spec.judge_model:
        costs.append(Cost(spec.judge_model, "judge", "-", most * len(conditions) * len(spec.models),
                          tuple(judge["calls"]), tuple(judge["in"]), tuple(judge["out"])))
    for c in costs:
        price = (prices or {}).get(c.model)
        if price:
            rate_in, rate_out = float(price.get("input", 0)), float(price.get("output", 0))
            c.money = tuple(round((i * rate_in + o * rate_out) / 1e6, 2)  # type: ignore[assignment]
                            for i, o in zip(c.input_tokens, c.output_tokens))
    return costs


def read_prices(path: str | Path) -> dict[str, dict[str, float]]:
    """A price table: YAML ``MODEL: {input: USD per million tokens, output: USD per million tokens}``."""
    from duress.yamlfile import read_yaml

    data = read_yaml(path, "price table", UsageError)
    if not isinstance(data, dict):
        raise UsageError(f"price table {path}: expected MODEL: {{input: USD, output: USD}} per million tokens")
    table: dict[str, dict[str, float]] = {}
    for model, price in data.items():
        if not isinstance(price, dict) or not set(price) <= {"input", "output"} or not all(
                isinstance(v, (int, float)) and v >= 0 for v in price.values()):
            raise UsageError(f"price table {path}: {model!r} needs input: and output: as USD per million tokens")
        table[str(model)] = {k: float(v) for k, v in price.items()}
    return table
