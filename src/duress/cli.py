"""The ``duress`` command: a thin Typer layer on :mod:`duress.api` and the readers of runs."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table
from typer.core import TyperGroup

try:  # recent Typer vendors Click; older ones use the click package
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from duress.api import DEFAULT_TIMEOUT, SAMPLES_PER_LOG
from duress.choices import IMPORT_FORMATS, PROTOCOLS, WORLDS
from duress.limits import MESSAGE_LIMIT, SAMPLE_TIME_LIMIT
from duress.verdicts import POLICIES


class _OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, a missing argument) as one line and exit 2, like every other bad input."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click_errors.UsageError as err:
            if err.format_message().strip():  # (none when no arguments printed the help)
                where = f" (see: {err.ctx.command_path} --help)" if err.ctx is not None else ""
                fail_line(f"{err.format_message()}{where}")
            sys.exit(2)
        except typer.Abort:
            err_console.print("interrupted")
            sys.exit(130)
        except click_errors.ClickException as err:
            fail_line(err.format_message())
            sys.exit(err.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    help="Stress-test AI agents for high-stakes misaligned behaviour (on Inspect AI).",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """An option's choices as the Enum Typer validates and lists in --help (from the one tuple that defines them)."""
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


Policy = _choices("Policy", POLICIES)
Protocol = _choices("Protocol", ("auto", *PROTOCOLS))
TextOrNative = _choices("TextOrNative", PROTOCOLS)
WorldKind = _choices("WorldKind", WORLDS)
ImportFormat = _choices("ImportFormat", IMPORT_FORMATS)


def _value(option: Enum | None) -> str | None:
    return None if option is None else option.value


def fail_line(message: str) -> None:
    # the message may quote user input or a provider's words: never read it as Rich markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    fail_line(message)
    raise typer.Exit(2)


def _require_llm_verdicts(results: list[Any], policy: str | None) -> None:
    """Refuse to show an LLM policy over samples that have no LLM verdict: their numbers would be
    the rules' under an LLM title."""
    from duress.results import missing_llm_verdicts

    problem = missing_llm_verdicts(results, policy)
    if problem:
        fail(problem)


@app.command()
def run(
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="Scenario family (see: duress scenarios)."),
    model: list[str] = typer.Option(["local/smollm2"], "--model", "-m", help="Any Inspect model, e.g. anthropic/claude-sonnet-4-0, local/smollm2, local/PATH.gguf. Repeat for several models in one run: the first is the reference (previous) model."),
    factor: list[str] = typer.Option([], "--factor", "-f", help="NAME=LEVEL[,LEVEL...]; repeat for several factors. Without any, the family's default design."),
    samples: int = typer.Option(5, "--samples", "-n", min=1, help="Samples (epochs) per condition."),
    world: WorldKind = typer.Option("canonical", "--world", help="canonical, or random (names drawn from --seed)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the random world and the per-sample generation seeds (default: a fresh one, printed and stored in run.json; give it to reproduce a run)."),
    protocol: Protocol = typer.Option("auto", "--protocol", help="auto (text for local/*, native otherwise), native or text."),
    max_turns: Optional[int] = typer.Option(None, "--max-turns", min=1, help="Model turns per sample (default: 1 text, 10 native)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Tokens per model turn."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, help="Sampling temperature."),
    max_connections: Optional[int] = typer.Option(None, "--max-connections", min=1, help="Concurrent model calls."),
    max_retries: Optional[int] = typer.Option(None, "--max-retries", min=0, help="Retries of a failed model call (Inspect's default: unlimited within --timeout)."),
    timeout: int = typer.Option(DEFAULT_TIMEOUT, "--timeout", min=1, help="Seconds a model call may take, retries included (an unreachable server fails in bounded time)."),
    preflight: bool = typer.Option(True, "--preflight/--no-preflight", help="Send one tiny request to each remote model first, so a bad key or URL is one line before anything runs."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the design, the model and judge calls and a token estimate per model (and money, with --prices), then stop."),
    prices: Optional[Path] = typer.Option(None, "--prices", help="With --dry-run: YAML of MODEL: {input: USD, output: USD} per million tokens."),
    cache: bool = typer.Option(False, "--cache/--no-cache", help="Reuse cached model responses (identical numbers on rerun)."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome (LLM judge)."),
    policy: Optional[Policy] = typer.Option(None, "--policy", help="How rule and LLM verdicts combine (default: llm with --judge-model, else rules)."),
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
    from duress import api

    options = dict(factors=factor, samples=samples, world=_value(world), seed=seed, protocol=_value(protocol),
                   max_turns=max_turns, max_tokens=max_tokens, temperature=temperature,
                   max_connections=max_connections, max_retries=max_retries, timeout=timeout, cache=cache,
                   judge_model=judge_model, policy=_value(policy), until_ci=until_ci, max_samples=max_samples,
                   samples_per_log=samples_per_log, sample_time_limit=sample_time_limit,
                   message_limit=message_limit, token_limit=token_limit, preflight=preflight)
    try:
        if dry_run:
            spec = api.read_spec(resume) if resume is not None else api.make_spec(scenario, model, **options)
            _show_estimate(spec, api.estimate(spec, api.read_prices(prices) if prices else None))
            return
        if resume is not None:
            result = api.resume(resume, console=console)
        else:
            result = api.run(scenario, model, out=out, console=console, **options)
    except (api.UsageError, api.RunError) as err:
        fail(str(err))
    _show_run(result, resume_hint=f"duress run --resume {result.run_dir}")


def _show_estimate(spec: Any, costs: list[Any]) -> None:
    """duress run --dry-run: the design and what it will cost, nothing run or written."""
    from duress import api

    fam, design = api.design_of(spec.scenario, spec.factors)
    n = len(design.conditions())
    per = f"{spec.samples}" if spec.until_ci is None else f"{spec.samples} to {spec.max_samples} (--until-ci)"
    console.print(f"[bold]duress run --dry-run[/]: {fam.name}, {n} condition(s) × {per} sample(s) × "
                  f"{len(spec.models)} model(s); nothing is run.")
    for f, levels in design.chosen.items():
        if len(levels) > 1:
            console.print(f"  {f}: {', '.join(levels)}")
    for note in api.inert_factors(fam, design, fam.world(spec.world, spec.seed if spec.world == "random" else None)):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)

    def span(pair: tuple[Any, Any], money: bool = False) -> str:
        lo, hi = (f"{v:,.2f}" if money else f"{v:,}" for v in pair)
        return lo if lo == hi else f"{lo} to {hi}"

    console.print(f"Estimate, from a typical run (one model turn per user message, {api.SHORT_ANSWER}-token answers) "
                  f"to the bound (every turn used, answers at their token bound); tokens ≈ characters / "
                  f"{api.CHARS_PER_TOKEN}, which tokenizers miss by up to a quarter either way.")
    for c in costs:
        role = "LLM judge" if c.role == "judge" else f"agent, {c.protocol} protocol"
        console.print(f"[bold]{escape(c.model)}[/] ({role}): {c.samples:,} samples", highlight=False)
        console.print(f"  model calls    {span(c.calls)}", highlight=False)
        console.print(f"  input tokens   {span(c.input_tokens)}", highlight=False)
        console.print(f"  output tokens  {span(c.output_tokens)}", highlight=False)
        if c.money is not None:
            console.print(f"  cost (USD)     {span(c.money, money=True)}", highlight=False)
    if not spec.max_tokens:
        console.print(f"Answers are assumed at most {api.ASSUMED_OUTPUT} tokens per turn; --max-tokens bounds them.")
    if all(c.money is None for c in costs):
        console.print("No prices: pass --prices prices.yaml (MODEL: {input: USD, output: USD} per million tokens).")


def _show_run(result: Any, resume_hint: str = "") -> None:
    """The end of a run on screen: the table, notes, exclusions, where the files are; exit 1 when incomplete."""
    from duress.results import print_table

    if result.rows:
        print_table(result.rows, console, title=result.title)
        for note in result.notes:
            console.print(note)
        if result.excluded:
            console.print(f"[yellow]{result.excluded} of {len(result.results)} sample(s) excluded from the rates:[/]")
            for reason, count, detail, with_detail in result.exclusions():
                said = f" — most common: {escape(detail)!s} (×{with_detail})" if detail else ""
                console.print(f"  {reason}: {count}{said}", highlight=False, soft_wrap=True)
        _show_model_comparisons(result.results)
        run_dir = result.run_dir
        for model, t in result.tokens.items():
            used = f"{t['total']:,} tokens" if "total" in t else f"{t['input']:,} input + {t['output']:,} output tokens"
            console.print(f"Tokens ({'LLM judge' if model == 'judge' else escape(model)}): {used}", highlight=False)
        console.print(f"Results: {run_dir / 'results.csv'} (per-sample: samples.csv, samples.parquet)")
        console.print(f"Inspect logs: {run_dir / 'logs'}  (open with: inspect view --log-dir {run_dir / 'logs'})")
    if result.complete and result.failed:
        reason, count, detail, _ = result.exclusions()[0]
        err_console.print(f"[bold red]run failed:[/] every one of {len(result.results)} sample(s) was excluded "
                          f"({reason}: {escape(detail or reason)})", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if not result.complete:
        why = "; ".join(result.problems[:3]) or "some samples were not run"
        err_console.print(f"[bold red]run incomplete:[/] {len(result.results)} of {result.expected} samples ({escape(why)})"
                          + (f"; resume with: {escape(resume_hint)}" if resume_hint else ""), highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _show_model_comparisons(results: list[Any]) -> None:
    """After a run of several models: each later model against the first (the reference), as duress compare shows it."""
    from duress.results import design_order
    from duress.stats import comparison_family
    from duress.tables import comparison_table

    results = design_order(results)
    models = list(dict.fromkeys(r.model for r in results))
    for other in models[1:]:
        family = comparison_family(results, "model", other, models[0])
        if family.comparisons:
            console.print(comparison_table(family, results, other, models[0]))


@app.command()
def judge(
    input: Path = typer.Option(..., "--input", "-i", help="JSON lines of answers ('response') or of chat messages ('messages', OpenAI shape), or an Inspect log or folder of logs."),
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="The family whose outcomes to judge."),
    world: Optional[Path] = typer.Option(None, "--world", "-w", help="World file (YAML) naming the transcripts' roles (see the README; draft one with duress world draft). Default: the family's canonical world."),
    format: Optional[ImportFormat] = typer.Option(None, "--format", help="The input's shape (default: detected)."),
    tools: Optional[Path] = typer.Option(None, "--tools", help="YAML mapping the transcripts' tool names onto duress's (built-in defaults cover the common names)."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome."),
    policy: Optional[Policy] = typer.Option(None, "--policy", help="How rule and LLM verdicts combine (default: llm with --judge-model, else rules)."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
) -> None:
    """Judge transcripts produced elsewhere (any harness, Inspect logs) and print the same outcome table."""
    from duress import api
    from duress.imports import ImportProblem, judge_transcripts
    from duress.verdicts import PolicyError

    try:
        api.check_models(judge_model, roles=("judge model",))
        console.print(f"[bold]duress judge[/]: {escape(str(input))} as {escape(scenario)}"
                      + ("" if world else " (the family's canonical world)"))
        imported = judge_transcripts(input, scenario, world, format=_value(format), tools_map=tools,
                                     judge_model=judge_model, policy=_value(policy), out=out)
        result = api.finish(imported.run_dir, imported.title)
    except (ImportProblem, PolicyError, api.UsageError, api.RunError) as err:
        fail(str(err))
    _show_run(result)


world_app = typer.Typer(help="World files: the names and addresses of a transcript's roles.", no_args_is_help=True)
app.add_typer(world_app, name="world")


@world_app.command("draft")
def world_draft(
    prompt: Path = typer.Argument(..., help="A file holding the transcript's prompt (system prompt and emails)."),
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="The family whose roles to fill."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the draft here (default: print it)."),
) -> None:
    """Draft a world file from the names and addresses in a prompt, a comment on every guessed role."""
    from duress.imports import draft_world
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        fail(f"{err.args[0]} (see: duress scenarios)")
    try:
        text = prompt.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read {prompt}: {getattr(err, 'strerror', None) or err}")
    draft = draft_world(text, fam, source=str(prompt))
    if out is None:
        console.print(draft, markup=False, highlight=False, soft_wrap=True)
        return
    if out.exists():
        fail(f"{out} exists; give another --out (a draft never overwrites a file)")
    try:
        out.write_text(draft, encoding="utf-8")
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror or err}")
    console.print(f"World draft written to {out}: check every role marked 'guess', then: duress judge -i … -w {out}")


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files (also from a plain `inspect eval`)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the table as CSV here."),
    policy_: Optional[Policy] = typer.Option(None, "--policy", help="Re-combine stored verdicts (default: each run's own)."),
    by: Optional[str] = typer.Option(None, "--by", help="Also show every rate split by this outcome, e.g. states_evaluation."),
    html: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the self-contained HTML report here (report.html)."),
    title: Optional[str] = typer.Option(None, "--title", help="Title of the HTML report."),
    pool: bool = typer.Option(False, "--pool", help="Pool samples of one model and condition shown different settings (world, protocol); refused otherwise."),
) -> None:
    """Print the outcome table of one or more runs (rates, 95% Wilson intervals, exclusions); -o writes the HTML report."""
    from duress.results import ResultsError, malformed_note, print_conditional, print_table, read_logs, summarise, write_csv
    from duress.verdicts import policy_label

    policy = _value(policy_)
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        fail(f"the report is HTML: give -o a path ending in .html, not {html.name!r}")
    notes: list[str] = []
    try:
        loaded = read_logs(runs, policy, keep_samples=html is not None, pool=pool)  # each log read once, for both
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
    policy_: Optional[Policy] = typer.Option(None, "--policy", help="Re-combine stored verdicts (default: each run's own)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the comparisons as CSV here."),
    pool: bool = typer.Option(False, "--pool", help="Pool samples of one model and condition shown different settings (world, protocol); refused otherwise."),
) -> None:
    """Compare two models (new vs previous), or two levels of a factor.

    Risk difference with a Newcombe interval, Fisher's exact p, and Holm-corrected p over every
    comparison shown (the output says over how many, and which).
    """
    from duress.results import ResultsError, design_order, load_results, write_csv
    from duress.stats import comparison_family
    from duress.tables import comparison_table

    policy = _value(policy_)
    try:
        if by == "model" and len(runs) == 1:  # one run of several models: each later one against the first
            results = design_order(load_results(runs, policy, pool=pool))
            models = list(dict.fromkeys(r.model for r in results))
            if len(models) < 2:
                fail(f"{runs[0]} holds one model ({', '.join(models) or 'none'}); give two runs, PREVIOUS then NEW, "
                     "or a run of several models (duress run -m OLD -m NEW)")
            a_label, b_label = a or models[-1], b or models[0]
            for m in (a_label, b_label):
                if m not in models:
                    fail(f"no samples of model {m!r} in {runs[0]}; models: {', '.join(models)}")
        elif by == "model":
            if len(runs) != 2 or a or b:
                fail("give two runs, PREVIOUS then NEW: duress compare runs/OLD runs/NEW, one run of several models, "
                     "or --by FACTOR --a L1 --b L2")
            previous, new = (design_order(load_results([r], policy, pool=pool)) for r in runs)
            if not previous or not new:
                fail("a run holds no finished samples")
            a_label, b_label = new[0].model, previous[0].model
            if a_label == b_label:
                fail(f"both runs are of {a_label}; compare two models, or use --by FACTOR")
            results = previous + new
        else:
            results = design_order(load_results(runs, policy, pool=pool))
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
    family = comparison_family(results, by, a_label, b_label, outcome or None)
    rows = list(family.comparisons)
    if not rows:
        fail("no condition has samples on both sides to compare")
    console.print(comparison_table(family, results, a_label, b_label))
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
    policy_: Optional[Policy] = typer.Option(None, "--policy", help="Re-combine stored verdicts (default: each run's own)."),
    pool: bool = typer.Option(False, "--pool", help="Pool samples of one model and condition shown different settings (world, protocol); refused otherwise."),
) -> None:
    """Export one row per sample (factors, exclusion, tokens, every judge's verdict) as CSV or Parquet."""
    from duress.results import ResultsError, design_order, load_results, write_samples

    policy = _value(policy_)
    if out.suffix not in (".csv", ".parquet"):
        fail(f"--out must end in .csv or .parquet, not {out.name!r}")
    try:
        results = design_order(load_results(runs, policy, pool=pool))
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
    pool: bool = typer.Option(False, "--pool", help="Pool samples of one model and condition shown different settings (world, protocol); refused otherwise."),
) -> None:
    """Agreement between the rule judge, the LLM judge and human labels: κ, raw agreement, confusion matrix."""
    from duress.judges.agreement import LabelsError, agreements, load_labels
    from duress.results import ResultsError, load_results, write_csv
    from duress.tables import agreement_table, disagreement_table

    try:
        results = load_results(runs, pool=pool)
        human = load_labels(labels) if labels is not None else None
    except (ResultsError, LabelsError) as err:
        fail(str(err))
    rows = agreements(results, human)
    if not rows:
        fail("nothing to compare: judge the run with --judge-model, or give --labels")
    console.print(agreement_table(rows))
    listed = disagreement_table(rows, show, results)
    if listed is not None:
        console.print(listed)
    if csv_out is not None:
        write_csv([{"outcome": r.outcome, "a": r.a, "b": r.b, "n": r.n, "agreement": r.raw, "kappa": r.kappa,
                    "both_yes": r.both_yes, "a_only": r.a_only, "b_only": r.b_only, "both_no": r.both_no,
                    "undecided": r.undecided} for r in rows], csv_out)


@app.command()
def scenarios() -> None:
    """List the scenario families with their factors, levels and outcomes."""
    from duress.scenarios import family_names, get_family
    from duress.scenarios.base import family_origin

    for name in family_names():
        fam = get_family(name)
        console.print(Rule(f"[bold]{name}[/]: {escape(fam.title)}"))
        origin = family_origin(name)
        if origin != "duress":
            console.print(f"(from the duress.families {escape(origin)})", highlight=False)
        console.print(fam.description, markup=False)
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
    world: WorldKind = typer.Option("canonical", "--world"),
    seed: int = typer.Option(0, "--seed"),
    protocol: TextOrNative = typer.Option("text", "--protocol", help="text or native (the tool instructions differ)."),
) -> None:
    """Print exactly what the agent is shown (system prompt and every user turn) per condition."""
    from duress.api import UsageError, design_of
    from duress.tables import prompt_header

    try:
        fam, design = design_of(scenario, factor)
    except UsageError as err:
        fail(str(err))
    w = fam.world(world.value, seed if world.value == "random" else None)
    conditions = list(design.conditions())
    varied = [f for f, _ in conditions[0].levels if len({c[f] for c in conditions}) > 1]
    for condition in conditions:
        rendered = fam.render(condition, w, protocol.value)
        console.print(prompt_header(condition.as_dict(), varied))
        console.print("[bold]SYSTEM[/]")
        console.print(rendered.system, markup=False, highlight=False)
        for i, turn in enumerate(rendered.user_turns, 1):
            console.print(f"[bold]USER (turn {i} of {len(rendered.user_turns)})[/]")
            console.print(turn, markup=False, highlight=False)


@app.command("new-family")
def new_family(
    name: str = typer.Argument(..., help="The family's name, a Python identifier (e.g. my_family)."),
    dest: Path = typer.Option(Path("."), "--dest", help="Folder in which the project folder NAME is created."),
) -> None:
    """Scaffold a scenario family as a package of its own (registered through the duress.families entry point)."""
    from duress.scaffold import ScaffoldError, package_name, project_dir, scaffold_family

    try:
        written = scaffold_family(name, dest)
    except (ScaffoldError, OSError) as err:
        fail(str(err))
    root = project_dir(name, dest)

    def say(text: str) -> None:  # paths and names, never markup
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    say(f"Wrote the family {name!r}, a placeholder scenario (edit every file marked 'edit me'):")
    for path in written:
        say(f"  {path}")
    say("Next steps:")
    say(f"  pip install -e {root}    (registers it: duress.families entry point {name} = {package_name(name)}.family:build)")
    say(f"  duress scenarios; duress show-prompt -s {name}; duress run -s {name}")
    say(f"  cd {root} && pytest")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
