"""The ``duress`` command."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from duress.limits import MESSAGE_LIMIT, SAMPLE_TIME_LIMIT
from duress.redact import redact_all

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Stress-test AI agents for high-stakes misaligned behaviour (on Inspect AI).",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class UsageProblem(Exception):
    """Bad input: one line to the user, exit code 2."""


SAMPLES_PER_LOG = 1000  # samples per Inspect eval in duress run (--samples-per-log)


def fail(message: str) -> NoReturn:
    # the message may quote user input or a provider's words: never read it as Rich markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _design_and_family(scenario: str, factor: list[str]) -> tuple[Any, Any]:
    from duress.design import build_design, parse_factor_options
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        raise UsageProblem(f"{err.args[0]} (see: duress scenarios)") from None
    choices = parse_factor_options(factor) if factor else dict(fam.default_choices)
    return fam, build_design(fam.factors, choices, family=f"scenario {scenario!r}")


def _check_world(world: str) -> None:
    from duress.task import WORLDS

    if world not in WORLDS:
        raise UsageProblem(f"unknown world {world!r}; use --world canonical or --world random --seed N")


def _check_protocol(protocol: str, auto: bool = True) -> None:
    from duress.agent import check_protocol

    try:
        check_protocol(protocol, auto)
    except ValueError as err:
        raise UsageProblem(str(err)) from None


def one_line(err: BaseException) -> str:
    """An exception message (possibly multi-line Rich markup) as one plain line."""
    from rich.text import Text

    try:
        plain = Text.from_markup(str(err)).plain
    except Exception:
        plain = str(err)
    text = " ".join(line.strip() for line in plain.splitlines() if line.strip())
    return re.sub(r"^ERROR:\s*", "", text) or type(err).__name__


def _resolve_policy(policy: str | None, judge_model: str | None) -> str:
    """The policy a judged run uses: the one named, else ``llm`` with a judge model and ``rules``
    without (the rules alone, or a policy that needs them to agree, would hide what they miss)."""
    from duress.verdicts import PolicyError, run_policy

    try:
        return run_policy(policy, judge_model)
    except PolicyError as err:
        raise UsageProblem(str(err)) from None


def _check_stored_policy(policy: str | None) -> None:
    from duress.verdicts import PolicyError, check_policy

    try:
        check_policy(policy)
    except PolicyError as err:
        fail(str(err))


def _require_llm_verdicts(results: list[Any], policy: str | None) -> None:
    """Refuse to show an LLM policy over samples that have no LLM verdict: their numbers would be
    the rules' under an LLM title."""
    if policy in (None, "rules"):
        return
    judged = [r for r in results if not r.excluded]
    missing = [r for r in judged if not any("llm" in v for v in (r.verdicts or {}).values())]
    if missing:
        models = ", ".join(dict.fromkeys(r.model for r in missing))
        fail(f"--policy {policy} needs LLM verdicts, but {len(missing)} of {len(judged)} judged samples have none "
             f"(model: {models}); judge them with --judge-model, or use --policy rules")


def policy_label(policy: str | None, judge_model: str | None = None) -> str:
    from duress.verdicts import policy_label as label

    return label(policy, [judge_model])


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "model"


@app.command()
def run(
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="Scenario family (see: duress scenarios)."),
    model: str = typer.Option("local/smollm2", "--model", "-m", help="Any Inspect model, e.g. anthropic/claude-sonnet-4-0, local/smollm2, local/PATH.gguf."),
    factor: list[str] = typer.Option([], "--factor", "-f", help="NAME=LEVEL[,LEVEL...]; repeat for several factors. Without any, the family's default design."),
    samples: int = typer.Option(5, "--samples", "-n", min=1, help="Samples (epochs) per condition."),
    world: str = typer.Option("canonical", "--world", help="canonical, or random (names drawn from --seed)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the random world and the per-sample generation seeds."),
    protocol: str = typer.Option("auto", "--protocol", help="auto (text for local/*, native otherwise), native or text."),
    max_turns: Optional[int] = typer.Option(None, "--max-turns", min=1, help="Model turns per sample (default: 1 text, 10 native)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Tokens per model turn."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, help="Sampling temperature."),
    max_connections: Optional[int] = typer.Option(None, "--max-connections", min=1, help="Concurrent model calls."),
    max_retries: Optional[int] = typer.Option(None, "--max-retries", min=0, help="Retries of a failed model call (Inspect's default: unlimited within --timeout)."),
    timeout: Optional[int] = typer.Option(None, "--timeout", min=1, help="Seconds a model call may take, retries included."),
    cache: bool = typer.Option(False, "--cache/--no-cache", help="Reuse cached model responses (identical numbers on rerun)."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome (LLM judge)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="How rule and LLM verdicts combine: rules, llm, both, either (default: llm with --judge-model, else rules)."),
    until_ci: Optional[float] = typer.Option(None, "--until-ci", min=0.005, max=0.49, help="Sample in rounds of --samples until every condition's 95% CI half-width is at most this."),
    max_samples: int = typer.Option(300, "--max-samples", min=1, help="With --until-ci: samples per condition at most."),
    samples_per_log: int = typer.Option(SAMPLES_PER_LOG, "--samples-per-log", min=1, help="Split the run into Inspect evals (one log each) of at most this many samples, so memory stays flat however large the run."),
    sample_time_limit: int = typer.Option(SAMPLE_TIME_LIMIT, "--sample-time-limit", min=0, help="Seconds of working time per sample (0: none); a sample over it is excluded as 'limit'."),
    message_limit: int = typer.Option(MESSAGE_LIMIT, "--message-limit", min=0, help="Messages per sample (0: none); a sample over it is excluded as 'limit'."),
    token_limit: int = typer.Option(0, "--token-limit", min=0, help="Tokens per sample, all turns (0: none); a sample over it is excluded as 'limit'."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted run folder (other options are taken from its run.json)."),
) -> None:
    """Run a scenario family on a model and print the outcome table."""
    if resume is not None:
        spec_file = resume / "run.json"
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
            spec["scenario"], spec["model"]  # noqa: B018  (a run.json must name both)
        except (OSError, ValueError, KeyError, TypeError) as err:
            fail(f"cannot resume {resume}: {spec_file} is missing or unreadable ({type(err).__name__}); give a run folder made by duress run")
        run_dir = resume
    else:
        spec = {"scenario": scenario, "model": model, "factors": list(factor), "samples": samples, "world": world,
                "seed": seed, "protocol": protocol, "max_turns": max_turns, "max_tokens": max_tokens,
                "temperature": temperature, "max_connections": max_connections, "max_retries": max_retries,
                "timeout": timeout, "cache": cache,
                "judge_model": judge_model, "policy": policy, "until_ci": until_ci, "max_samples": max_samples,
                "samples_per_log": samples_per_log, "sample_time_limit": sample_time_limit,
                "message_limit": message_limit, "token_limit": token_limit}
        run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario}-{_slug(model)}"
    _execute(spec, run_dir, resuming=resume is not None)


@dataclass
class _Progress:
    """What a run was asked for and what went wrong, so that an incomplete run never looks complete."""

    expected: int = 0  # samples the evals were asked for
    problems: list[str] = field(default_factory=list)


def _new_run_dir(run_dir: Path) -> Path:
    """Create the run folder: a new one (``-2``, ``-3`` … when a run started in the same second)."""
    for i in range(1, 100):
        candidate = run_dir if i == 1 else run_dir.with_name(f"{run_dir.name}-{i}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            fail(f"cannot create the run folder {candidate}: {err.strerror or err}; give --out a folder you can write to")
    fail(f"cannot create a new run folder next to {run_dir}: too many with that name; give another --out")


def _lock(run_dir: Path) -> Any:
    """Hold the run folder for this process: a second duress on the same folder gets one line, exit 2."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(run_dir / ".duress.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        fail(f"{run_dir} is being run by another duress process; wait for it to finish (one writer per run folder)")
    except OSError as err:
        fail(f"cannot lock the run folder {run_dir}: {err.strerror or err}; is it writable?")
    return lock


def _check_logs_readable(run_dir: Path) -> None:
    """Before resuming: every log in the folder must be readable, or say which is not and what to do."""
    from inspect_ai.log import read_eval_log

    from duress.results import log_files

    for f in log_files([run_dir / "logs"]) if (run_dir / "logs").is_dir() else []:
        try:
            read_eval_log(str(f), header_only=True)
        except Exception as err:
            fail(f"cannot resume {run_dir}: {f} is not a readable Inspect log ({one_line(err)[:120]}); move it out of "
                 "the folder and resume again (its samples will be run again)")


def _execute(spec: dict[str, Any], run_dir: Path, resuming: bool) -> None:
    """Validate a run's spec, write it to run.json, run it as an Inspect eval set, and report.

    Every eval goes through ``eval_set`` on the run's log folder, so running the same spec on the
    same folder again (``--resume``) skips what is finished and completes what is not: samples of
    an interrupted log are reused, none is run twice.
    """
    try:
        fam, design = _design_and_family(spec["scenario"], spec.get("factors") or [])
        _check_world(spec["world"])
        _check_protocol(spec["protocol"])
        spec["policy"] = _resolve_policy(spec.get("policy"), spec.get("judge_model"))
    except (UsageProblem, ValueError, KeyError) as err:
        fail(str(err))

    from inspect_ai.model import GenerateConfig, get_model

    model, judge_model = spec["model"], spec.get("judge_model")
    try:
        get_model(model)
    except Exception as err:  # unknown provider, missing file, missing key …
        fail(f"cannot use model {model!r}: {one_line(err)}")
    if judge_model:
        try:
            get_model(judge_model)
        except Exception as err:
            fail(f"cannot use judge model {judge_model!r}: {one_line(err)}")

    conditions = design.conditions()
    common = dict(factors={k: list(v) for k, v in design.chosen.items()}, world=spec["world"], seed=spec["seed"],
                  protocol=spec["protocol"], max_turns=spec.get("max_turns"), cache=spec.get("cache", False),
                  judge_model=judge_model, policy=spec["policy"],
                  sample_time_limit=spec.get("sample_time_limit", SAMPLE_TIME_LIMIT),
                  message_limit=spec.get("message_limit", MESSAGE_LIMIT), token_limit=spec.get("token_limit", 0))
    per_log = int(spec.get("samples_per_log", SAMPLES_PER_LOG))  # run.json files written before the option lack it
    config = GenerateConfig(max_tokens=spec.get("max_tokens"), temperature=spec.get("temperature"),
                            max_connections=spec.get("max_connections"), max_retries=spec.get("max_retries"),
                            timeout=spec.get("timeout"))
    eval_args = dict(model=model, display="none", score_display=False, **config.model_dump(exclude_none=True))
    samples, until_ci, max_samples = spec["samples"], spec.get("until_ci"), spec.get("max_samples", 300)
    plan = f"{samples} sample(s)" if until_ci is None else \
        f"rounds of {samples} until every 95% CI half-width ≤ {until_ci:g} (at most {max_samples})"
    seed_note = f" (seed {spec['seed']})" if spec["world"] == "random" else ""
    console.print(
        f"[bold]duress run[/]{' (resuming ' + str(run_dir) + ')' if resuming else ''}: {fam.name} on [bold]{model}[/], "
        f"{len(conditions)} condition(s) × {plan}; world {spec['world']}"
        f"{seed_note}; protocol {spec['protocol']}"
    )
    if resuming:
        lock = _lock(run_dir)
        _check_logs_readable(run_dir)
    else:
        run_dir = _new_run_dir(run_dir)
        lock = _lock(run_dir)
    try:
        (run_dir / "run.json").write_text(json.dumps(redact_all({**spec, "design": common["factors"],
                                                                 "conditions": [c.id for c in conditions]}), indent=2) + "\n")
    except OSError as err:
        fail(f"cannot write {run_dir / 'run.json'}: {err.strerror or err}")
    progress = _Progress()
    try:
        if until_ci is None:
            _round(fam, common, eval_args, run_dir, "all", [c.id for c in conditions], samples, 0, per_log, progress)
        else:
            _sequential(fam, conditions, common, eval_args, samples, until_ci, max_samples, run_dir, per_log, progress)
        _finish_run(run_dir, f"{fam.name} · {model} · verdicts: {policy_label(spec['policy'], judge_model)}", progress,
                    resume_hint=f"duress run --resume {run_dir}")
    finally:
        lock.release()


def _round(fam: Any, common: dict[str, Any], eval_args: dict[str, Any], run_dir: Path, name: str,
           only: list[str], size: int, offset: int, per_log: int, progress: _Progress) -> None:
    """``size`` samples of the conditions ``only`` as Inspect eval sets of at most ``per_log`` samples
    (see :func:`duress.task.eval_chunks`), one after the other, each in its own log folder.

    Separate eval sets, not one eval set of several tasks: Inspect keeps every finished sample's
    score until the *eval* call returns, across all of its tasks, so only separate calls keep a
    large run's memory flat. The chunks are fixed by the spec, so a resumed run maps onto them."""
    from inspect_ai import eval_set

    from duress.progress import sample_progress
    from duress.task import eval_chunks, family_task

    chunks = eval_chunks(only, size, per_log)
    label = fam.name if name == "all" else f"{fam.name} {name} (n={offset}→{offset + size})"
    base = run_dir / "logs" if name == "all" else run_dir / "logs" / name
    with sample_progress(len(only) * size, label, console):
        for i, (group, start, epochs) in enumerate(chunks, 1):
            task = family_task(fam.name, samples=epochs, only=group, epoch_offset=offset + start, **common)
            log_dir = base if len(chunks) == 1 else base / f"part-{i:03d}"
            progress.expected += len(group) * epochs
            # task-level retries stay off: sample errors are excluded and counted, not retried silently
            try:
                success, _ = eval_set(task, log_dir=str(log_dir), retry_attempts=0, retry_immediate=False, **eval_args)
            except (OSError, PermissionError) as err:  # full disk, a folder that became unwritable …
                progress.problems.append(f"writing {log_dir} failed: {err.strerror or err}")
                continue
            if not success:
                progress.problems.append(f"the eval in {log_dir} did not finish")


def _sequential(fam: Any, conditions: list[Any], common: dict[str, Any], eval_args: dict[str, Any], batch: int,
                target: float, max_samples: int, run_dir: Path, per_log: int, progress: _Progress) -> None:
    """Rounds of ``batch`` samples per unfinished condition until each condition's widest 95% Wilson
    interval (over the family's outcomes) has half-width ≤ ``target``, or ``max_samples`` is reached.

    This targets precision, not significance: stopping depends on the interval's width, not on
    whether it excludes some value, so the intervals keep close to their nominal coverage. The
    rounds are deterministic given the logs, so a resumed run replays finished rounds from their
    logs and goes on where it stopped.
    """
    from duress.results import summarise
    from duress.stats import next_round, samples_for_halfwidth, wilson_halfwidth

    done = used = 0
    sizes = {c.id: min(batch, max_samples) for c in conditions}
    round_no = 0
    while any(sizes.values()):
        round_no += 1
        active = [cid for cid, size in sizes.items() if size]
        size = sizes[active[0]]  # every unfinished condition has had the same number of samples
        _round(fam, common, eval_args, run_dir, f"round-{round_no:02d}", active, size, done, per_log, progress)
        if progress.problems:
            break  # a failed round: the stopping rule cannot be trusted on missing samples
        done += size
        used += len(active) * size
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
    fixed = samples_for_halfwidth(0.5, target) * len(conditions)
    console.print(f"Sequential sampling used {used} samples; a fixed-n design with the same worst-case interval "
                  f"width (half-width {target:g} at a 50% rate) needs {fixed}.")


def _finish_run(run_dir: Path, title: str, progress: _Progress | None = None, resume_hint: str = "") -> None:
    """After the evals: the table from the logs, the CSVs and Parquet, and where everything is.

    A run that got fewer samples than it asked for (an eval that failed or was cut short, a log
    that could not be written) says so in the table's title and in a last line, and exits 1."""
    from duress.redact import redact_log_file
    from duress.results import ResultsError, log_files, malformed_note, print_table, summarise, write_csv, write_samples

    for log in log_files([run_dir / "logs"]) if (run_dir / "logs").is_dir() else []:
        redact_log_file(log)  # a provider's error may echo its key: none stays in a log
    notes: list[str] = []
    try:
        results, rows = summarise([run_dir / "logs"], notes=notes)
    except ResultsError as err:
        if progress is not None and progress.problems:
            _incomplete(0, progress, resume_hint)
        fail(f"the run produced no results: {err} (logs: {run_dir / 'logs'})")
    got = len(results)
    incomplete = progress is not None and (bool(progress.problems) or got < progress.expected)
    if incomplete:
        title = f"{title} · INCOMPLETE: {got} of {progress.expected} samples"
    print_table(rows, console, title=title)
    write_csv(rows, run_dir / "results.csv")
    write_samples(results, run_dir / "samples.csv")
    write_samples(results, run_dir / "samples.parquet")
    for note in [*notes, malformed_note(results)]:
        if note:
            console.print(note)
    excluded = sum(1 for r in results if r.excluded)
    if excluded:
        console.print(f"[yellow]{excluded} sample(s) excluded from the rates[/] (see the Excluded column and samples.csv).")
    console.print(f"Results: {run_dir / 'results.csv'} (per-sample: samples.csv, samples.parquet)")
    console.print(f"Inspect logs: {run_dir / 'logs'}  (open with: inspect view --log-dir {run_dir / 'logs'})")
    if incomplete:
        _incomplete(got, progress, resume_hint)


def _incomplete(got: int, progress: _Progress, resume_hint: str) -> NoReturn:
    """The last line of a run that got fewer samples than it asked for; exit 1."""
    why = "; ".join(progress.problems[:3]) or "some samples were not run"
    err_console.print(f"[bold red]run incomplete:[/] {got} of {progress.expected} samples ({escape(why)})"
                      + (f"; resume with: {escape(resume_hint)}" if resume_hint else ""), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def judge(
    input: Path = typer.Option(..., "--input", "-i", help="JSON lines with a 'response' field (and optional reasoning, system, prompt, id, factors)."),
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="The family whose outcomes to judge."),
    world: Path = typer.Option(..., "--world", "-w", help="World file (YAML) naming the transcripts' roles; see the README."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome."),
    policy: Optional[str] = typer.Option(None, "--policy", help="How rule and LLM verdicts combine: rules, llm, both, either (default: llm with --judge-model, else rules)."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
) -> None:
    """Judge transcripts produced elsewhere (text-protocol tool calls) and print the same outcome table."""
    from duress.imported import ImportProblem, import_task, read_transcripts, read_world_file
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        fail(f"{err.args[0]} (see: duress scenarios)")
    try:
        policy = _resolve_policy(policy, judge_model)
        world_data = read_world_file(world, fam)
        transcripts = read_transcripts(input, fam)
    except (UsageProblem, ImportProblem) as err:
        fail(str(err))
    if judge_model:
        from inspect_ai.model import get_model

        try:
            get_model(judge_model)
        except Exception as err:
            fail(f"cannot use judge model {judge_model!r}: {one_line(err)}")
    from inspect_ai import eval as inspect_eval

    from duress.progress import sample_progress

    run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{fam.name}-imported-{_slug(input.stem)}"
    run_dir.mkdir(parents=True, exist_ok=False)
    console.print(f"[bold]duress judge[/]: {len(transcripts)} transcript(s) from {input} as {fam.name}")
    task = import_task(fam.name, transcripts, world_data, input.name, judge_model=judge_model, policy=policy)
    with sample_progress(len(transcripts), "judging", console):
        logs = inspect_eval(task, model="none/none", log_dir=str(run_dir / "logs"), display="none", score_display=False)
    (run_dir / "run.json").write_text(json.dumps(redact_all({"scenario": fam.name, "input": str(input), "world_file": str(world),
                                                             "judge_model": judge_model, "policy": policy}), indent=2) + "\n")
    if logs[0].status == "error" and not logs[0].samples:
        fail(f"judging failed: {logs[0].error.message if logs[0].error else 'unknown error'}")
    _finish_run(run_dir, f"{fam.name} · imported {input.name} · verdicts: {policy_label(policy, judge_model)}")


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files (also from a plain `inspect eval`)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the table as CSV here."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Re-combine stored verdicts: rules, llm, both, either (default: each run's own)."),
    by: Optional[str] = typer.Option(None, "--by", help="Also show every rate split by this outcome, e.g. states_evaluation."),
    html: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the self-contained HTML report here (report.html)."),
    title: Optional[str] = typer.Option(None, "--title", help="Title of the HTML report."),
) -> None:
    """Print the outcome table of one or more runs (rates, 95% Wilson intervals, exclusions); -o writes the HTML report."""
    from duress.results import ResultsError, malformed_note, print_conditional, print_table, read_logs, summarise, write_csv

    _check_stored_policy(policy)
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        fail(f"the report is HTML: give -o a path ending in .html, not {html.name!r}")
    notes: list[str] = []
    try:
        loaded = read_logs(runs, policy, keep_samples=html is not None)  # each log read once, for table and report
        results, rows = summarise(loaded, notes=notes)
    except ResultsError as err:
        fail(str(err))
    _require_llm_verdicts(results, policy)
    print_table(rows, console, title=f"Outcomes · verdicts: {policy_label(policy)}")
    for note in [*notes, malformed_note(results)]:
        if note:
            console.print(note)
    if by is not None:
        try:
            print_conditional(results, by, console)
        except ResultsError as err:
            fail(str(err))
    if html is not None:
        from duress.report import build_report

        build_report(runs, html, policy=policy, title=title, logs=loaded)
        console.print(f"Report written to {html}")
    if csv_out is not None:
        write_csv(rows, csv_out)
        console.print(f"Table written to {csv_out}")


@app.command()
def compare(
    runs: list[Path] = typer.Argument(..., help="PREVIOUS NEW (two runs of different models), or one run with --by FACTOR."),
    by: str = typer.Option("model", "--by", help="'model', or a factor whose two levels to compare (with --a and --b)."),
    a: Optional[str] = typer.Option(None, "--a", help="The level (or model) taken as A; the difference shown is A − B."),
    b: Optional[str] = typer.Option(None, "--b", help="The level (or model) taken as B."),
    outcome: list[str] = typer.Option([], "--outcome", help="Outcomes to compare (default: the family's own outcomes)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Re-combine stored verdicts: rules, llm, both, either."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the comparisons as CSV here."),
) -> None:
    """Compare two models (new vs previous), or two levels of a factor.

    Risk difference with a Newcombe interval, Fisher's exact p, and Holm-corrected p across every
    comparison shown.
    """
    from duress.results import ResultsError, design_order, family_infos, load_results, write_csv
    from duress.stats import compare as compare_groups

    _check_stored_policy(policy)
    try:
        if by == "model":
            if len(runs) != 2 or a or b:
                fail("give two runs, PREVIOUS then NEW: duress compare runs/OLD runs/NEW (or --by FACTOR --a L1 --b L2)")
            previous, new = (design_order(load_results([r], policy)) for r in runs)
            if not previous or not new:
                fail("a run holds no finished samples")
            a_label, b_label = new[0].model, previous[0].model
            if a_label == b_label:
                fail(f"both runs are of {a_label}; compare two models, or use --by FACTOR")
            results = previous + new
        else:
            results = design_order(load_results(runs, policy))
            if not a or not b:
                fail(f"--by {by} needs the two levels to compare: --a LEVEL --b LEVEL")
            a_label, b_label = a, b
            known = {f for r in results for f in r.factors}
            if by not in known:
                fail(f"unknown factor {by!r}; factors: {', '.join(sorted(known))}")
            levels = {r.factors[by] for r in results}
            for lv in (a, b):
                if lv not in levels:
                    fail(f"no samples with {by}={lv}; levels in these runs: {', '.join(sorted(levels))}")
    except ResultsError as err:
        fail(str(err))
    _require_llm_verdicts(results, policy)
    names = list(outcome) or [o for info in family_infos(results).values() for o in info.own]
    rows = compare_groups(results, names, by, a_label, b_label)
    if not rows:
        fail("no condition has samples on both sides to compare")
    t = Table(title=f"A = {a_label}, B = {b_label}: rate difference A−B in points, Newcombe 95% CI, "
                    f"Fisher exact p, Holm-corrected over {len(rows)} comparisons", header_style="bold", title_justify="left")
    t.add_column("Condition", overflow="fold", ratio=1)
    for col, justify in (("Outcome", "left"), ("A k/n", "right"), ("B k/n", "right"), ("A−B", "right"),
                         ("95% CI", "right"), ("p", "right"), ("Holm p", "right")):
        t.add_column(col, justify=justify, no_wrap=True)
    factors = list(dict.fromkeys(f for r in results for f in r.factors))
    varied = [f for f in factors if f != by and len({r.factors.get(f) for r in results}) > 1]

    def short(condition_id: str) -> str:
        parts = dict(p.split("=", 1) for p in condition_id.split(",") if "=" in p)
        return ", ".join(f"{k}={parts[k]}" for k in varied if k in parts) or "(all factors at their defaults)"

    last = None
    for r in rows:
        mark = "[bold]" if r.p_holm < 0.05 else ""
        if last is not None and r.condition != last:
            t.add_section()
        label = short(r.condition) if r.condition != last else ""
        last = r.condition
        t.add_row(label, r.outcome, f"{r.k1}/{r.n1}", f"{r.k2}/{r.n2}", f"{mark}{100 * r.diff:+.0f}%",
                  f"[{100 * r.lo:+.0f}, {100 * r.hi:+.0f}]", f"{r.p:.2g}", f"{mark}{r.p_holm:.2g}")
    console.print(t)
    if csv_out is not None:
        write_csv(rows, csv_out)
        console.print(f"Comparisons written to {csv_out}")


@app.command()
def plan(
    rate: Optional[float] = typer.Option(None, "--rate", min=0.0, max=1.0, help="Expected rate, for an interval of --halfwidth."),
    halfwidth: float = typer.Option(0.05, "--halfwidth", min=0.001, max=0.49, help="Target 95% Wilson half-width."),
    rates_: Optional[tuple[float, float]] = typer.Option(None, "--rates", help="Two rates (previous, new) to tell apart."),
    power: float = typer.Option(0.8, "--power", min=0.05, max=0.999),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0001, max=0.5),
    conditions: int = typer.Option(1, "--conditions", min=1, help="Conditions in the design (for the total)."),
) -> None:
    """Samples needed: per condition for a target interval width, or per model to detect a difference."""
    from duress.stats import samples_for_difference, samples_for_halfwidth

    if rate is None and rates_ is None:
        fail("say what to plan for: --rate P [--halfwidth H], or --rates P1 P2 [--power --alpha]")
    if rate is not None:
        n = samples_for_halfwidth(rate, halfwidth)
        console.print(f"At an expected rate of {rate:.0%}, {n} samples per condition give a 95% Wilson interval of "
                      f"half-width ≤ {halfwidth:g} ({n * conditions} for {conditions} condition(s)). "
                      f"Worst case (50%): {samples_for_halfwidth(0.5, halfwidth)}.")
    if rates_ is not None:
        p1, p2 = rates_
        if not (0 <= p1 <= 1 and 0 <= p2 <= 1) or p1 == p2:
            fail("--rates needs two different rates between 0 and 1")
        n = samples_for_difference(p1, p2, power=power, alpha=alpha)
        console.print(f"To tell {p1:.0%} from {p2:.0%} with power {power:.0%} at two-sided α = {alpha:g}: {n} samples per "
                      f"model per condition ({2 * n * conditions} in all for {conditions} condition(s)).")


@app.command()
def export(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files."),
    out: Path = typer.Option(..., "--out", "-o", help="samples.csv or samples.parquet"),
    policy: Optional[str] = typer.Option(None, "--policy", help="Re-combine stored verdicts: rules, llm, both, either."),
) -> None:
    """Export one row per sample (factors, exclusion, tokens, every judge's verdict) as CSV or Parquet."""
    from duress.results import ResultsError, design_order, load_results, write_samples

    _check_stored_policy(policy)
    if out.suffix not in (".csv", ".parquet"):
        fail(f"--out must end in .csv or .parquet, not {out.name!r}")
    try:
        results = design_order(load_results(runs, policy))
    except ResultsError as err:
        fail(str(err))
    _require_llm_verdicts(results, policy)
    try:
        write_samples(results, out)
    except ResultsError as err:
        fail(str(err))
    console.print(f"{len(results)} samples written to {out}")


@app.command()
def agreement(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files judged with --judge-model (or with labels)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Human labels, JSON lines: {\"id\": ..., \"epoch\": 1, \"labels\": {\"blackmail\": true}}."),
    show: int = typer.Option(20, "--show", help="Disagreements to list (0: none)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the agreement table as CSV here."),
) -> None:
    """Agreement between the rule judge, the LLM judge and human labels: κ, raw agreement, confusion matrix."""
    from duress.judges.agreement import LabelsError, agreements, load_labels
    from duress.results import ResultsError, load_results, write_csv

    try:
        results = load_results(runs)
        human = load_labels(labels) if labels is not None else None
    except (ResultsError, LabelsError) as err:
        fail(str(err))
    rows = agreements(results, human)
    if not rows:
        fail("nothing to compare: judge the run with --judge-model, or give --labels")
    t = Table(title="Judge agreement (confusion: yes/yes, A only, B only, no/no)", header_style="bold", title_justify="left")
    for col, justify in (("Outcome", "left"), ("A vs B", "left"), ("n", "right"), ("Agreement", "right"),
                         ("Cohen's κ", "right"), ("Confusion", "right"), ("Undecided", "right")):
        t.add_column(col, justify=justify)
    for r in rows:
        t.add_row(r.outcome, f"{r.a} vs {r.b}", str(r.n), "–" if r.raw is None else f"{100 * r.raw:.0f}%",
                  "undefined" if r.kappa is None else f"{r.kappa:.2f}",
                  f"{r.both_yes} / {r.a_only} / {r.b_only} / {r.both_no}", str(r.undecided))
    console.print(t)
    listed = [d for r in rows for d in r.disagreements][:show]
    if listed:
        d_table = Table(title="Disagreements to review", header_style="bold", title_justify="left")
        for col in ("Sample", "Epoch", "Outcome", "Judges", "Evidence"):
            d_table.add_column(col, overflow="fold")
        for r in rows:
            for d in r.disagreements:
                if d in listed:
                    # model-written text: never interpreted as Rich markup
                    d_table.add_row(Text(d.sample_id), str(d.epoch), d.outcome,
                                    f"{r.a}={'yes' if d.a else 'no'}, {r.b}={'yes' if d.b else 'no'}", Text(d.evidence))
        console.print(d_table)
    if csv_out is not None:
        write_csv([{"outcome": r.outcome, "a": r.a, "b": r.b, "n": r.n, "agreement": r.raw, "kappa": r.kappa,
                    "both_yes": r.both_yes, "a_only": r.a_only, "b_only": r.b_only, "both_no": r.both_no,
                    "undecided": r.undecided} for r in rows], csv_out)


@app.command()
def scenarios() -> None:
    """List the scenario families with their factors, levels and outcomes."""
    from duress.scenarios import family_names, get_family

    for name in family_names():
        fam = get_family(name)
        console.print(Rule(f"[bold]{name}[/]: {fam.title}"))
        console.print(fam.description)
        t = Table(title="Factors (default level in bold)", show_lines=False, header_style="bold")
        t.add_column("Factor")
        t.add_column("Level")
        t.add_column("Meaning")
        for f in fam.factors:
            for i, (level, meaning) in enumerate(f.levels.items()):
                t.add_row(f.name if i == 0 else "", f"[bold]{level}[/]" if level == f.default else level, meaning)
            t.add_section()
        console.print(t)
        o = Table(title="Outcomes", header_style="bold")
        o.add_column("Outcome")
        o.add_column("Definition")
        for outcome in fam.outcomes:
            o.add_row(outcome.name, outcome.description)
        console.print(o)
        if fam.default_choices:
            shown = " ".join(f"--factor {k}={','.join(v)}" for k, v in fam.default_choices.items())
            console.print(f"Default design of `duress run -s {name}`: {shown}")


@app.command("show-prompt")
def show_prompt(
    scenario: str = typer.Option("blackmail", "--scenario", "-s"),
    factor: list[str] = typer.Option([], "--factor", "-f", help="NAME=LEVEL[,LEVEL...]; every condition of the design is shown."),
    world: str = typer.Option("canonical", "--world"),
    seed: int = typer.Option(0, "--seed"),
    protocol: str = typer.Option("text", "--protocol", help="text or native (the tool instructions differ)."),
) -> None:
    """Print exactly what the agent is shown (system prompt and every user turn) per condition."""
    try:
        fam, design = _design_and_family(scenario, factor)
        _check_world(world)
        _check_protocol(protocol, auto=False)
    except (UsageProblem, ValueError) as err:
        fail(str(err))
    w = fam.world(world, seed if world == "random" else None)
    for condition in design.conditions():
        rendered = fam.render(condition, w, protocol)
        console.print(Rule(f"[bold]{condition.id}"))
        console.print("[bold]SYSTEM[/]")
        console.print(rendered.system, markup=False, highlight=False)
        for i, turn in enumerate(rendered.user_turns, 1):
            console.print(f"[bold]USER (turn {i} of {len(rendered.user_turns)})[/]")
            console.print(turn, markup=False, highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
