"""The embedded provider's plumbing, with llama-cpp-python replaced by a fake (fast, no model loaded)."""

import asyncio
import threading
import time

from inspect_ai.model import ChatMessageUser, GenerateConfig

from duress.models.local import LocalModelAPI


class FakeLlama:
    def __init__(self):
        self.threads = []
        self.closed = False

    def create_chat_completion(self, **kwargs):
        self.threads.append(threading.get_ident())
        time.sleep(0.01)  # long enough for concurrent callers to pile up
        return {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}

    def tokenize(self, data, add_bos=False):
        self.threads.append(threading.get_ident())
        return data.split()

    def close(self):
        self.closed = True


def provider(fake):
    api = LocalModelAPI("smollm2", probe=False)  # the runtime check has its own tests
    api._llm = fake
    return api


def test_every_llama_call_runs_on_one_dedicated_thread_even_when_many_samples_wait():
    # llama-cpp-python's OpenMP build decodes at about half speed when successive calls come from
    # different threads, which is what asyncio.to_thread does under Inspect's concurrency
    fake = FakeLlama()
    api = provider(fake)
    msgs = [ChatMessageUser(content="hello")]

    async def go():
        outs = await asyncio.gather(*[api.generate(msgs, [], "auto", GenerateConfig(seed=i)) for i in range(12)])
        n = await api.count_text_tokens("one two three")
        return outs, n

    outs, n = asyncio.run(go())
    assert [o.completion for o in outs] == ["ok"] * 12 and n == 3
    assert len(fake.threads) == 13
    assert len(set(fake.threads)) == 1 and fake.threads[0] != threading.get_ident()


def test_a_closed_provider_can_be_used_again():
    fake = FakeLlama()
    api = provider(fake)
    api.close()
    assert fake.closed and api._llm is None
    api._llm = FakeLlama()  # what _model() would load again
    out = asyncio.run(api.generate([ChatMessageUser(content="hi")], [], "auto", GenerateConfig()))
    assert out.completion == "ok"
