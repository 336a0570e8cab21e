"""A fault-injecting OpenAI-compatible chat server for reliability tests.

``serve(behaviour, faults=FaultPlan(http_500=0.1, timeout=0.05), seed=0)`` starts a small HTTP
server on 127.0.0.1 (an ephemeral port) in a background thread and stops it on exit. It answers
``POST /v1/chat/completions`` and ``GET /v1/models`` well enough for Inspect's ``openai-api``
provider::

    with serve(my_behaviour, faults=FaultPlan(http_500=0.1)) as server:
        os.environ |= {"FAULT_BASE_URL": server.base_url, "FAULT_API_KEY": "x"}
        inspect_ai.eval(task, model="openai-api/fault/anything", ...)
    server.stats.faults["http_500"]   # how many 500s were injected

Inspect memoizes models by name, config, base URL argument and key argument — not by the
environment — so give each server its own model (``model_base_url=server.base_url`` or a model
name of its own), or a later run may talk to an earlier, stopped server with an earlier key.

The *behaviour* scripts the agent: ``behaviour(messages, tools) -> reply`` gets the request's
OpenAI-format messages and tools (plain dicts) and returns ``{"content": "..."}`` and/or
``{"tool_calls": [{"name": "send_email", "arguments": {...}}]}``. It is called from the server's
handler threads, possibly at the same time for concurrent requests: keep it a pure function.

Which fault, if any, hits a request is a pure function of the seed, the request body and how
many times that same body was seen before (its *attempt*): a run is reproducible, and a retried
request draws again, so transient faults can succeed on retry. The faults:

- ``http_500``, ``http_429``: an error status (with ``Retry-After`` / ``retry-after-ms``);
- ``timeout``: no answer for ``hang`` seconds (default 30: the client should give up first, e.g.
  Inspect's ``attempt_timeout``), then the connection closes; stopping the server ends it at once;
- ``reset``: the connection is reset without any response;
- ``truncated``: a 200 whose JSON body is cut off before its declared length;
- ``malformed_tool_json``: a tool call whose ``arguments`` string is not valid JSON
  (only for replies with tool calls; other replies are served normally);
- ``empty``: a completion with empty content and no tool calls;
- ``content_filter``: ``finish_reason: "content_filter"`` with empty content;
- ``bad_key``: a 401 whose message echoes the key it was sent (``Incorrect API key provided:
  sk-…``), as real providers do — for tests that no secret reaches what duress writes.

Every response carries ``usage``, so clients never need to count tokens themselves.
:func:`loopback_only` refuses any connection or name lookup that is not to the loopback
interface, for tests that must not touch the network.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import struct
import threading
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

Behaviour = Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, Any]]

#: Faults the client sees as a failed request (it may retry them).
TRANSPORT_FAULTS = ("http_500", "http_429", "timeout", "reset", "truncated", "bad_key")
#: Faults delivered as a well-formed completion (nothing to retry at the HTTP level).
CONTENT_FAULTS = ("malformed_tool_json", "empty", "content_filter")
FAULTS = TRANSPORT_FAULTS + CONTENT_FAULTS


@dataclass(frozen=True)
class FaultPlan:
    """The probability of each fault per request (each in [0, 1], summing to at most 1)."""

    http_500: float = 0.0
    http_429: float = 0.0
    timeout: float = 0.0
    reset: float = 0.0
    truncated: float = 0.0
    malformed_tool_json: float = 0.0
    empty: float = 0.0
    content_filter: float = 0.0
    bad_key: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            rate = getattr(self, f.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{f.name} must be a rate in [0, 1], not {rate!r}")
        if sum(getattr(self, f.name) for f in fields(self)) > 1.0 + 1e-9:
            raise ValueError("the fault rates must sum to at most 1")

    def draw(self, seed: int, key: str, attempt: int) -> str | None:
        """The fault (or None) for the ``attempt``-th request (0-based) with body digest ``key``."""
        u = uniform(seed, key, attempt)
        edge = 0.0
        for name in FAULTS:
            edge += getattr(self, name)
            if u < edge:
                return name
        return None


def uniform(seed: int, key: str, attempt: int) -> float:
    """A number in [0, 1) fixed by (seed, key, attempt)."""
    digest = hashlib.sha256(f"{seed}|{key}|{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def body_key(body: dict[str, Any]) -> str:
    """The digest of a request body (canonical JSON): the same request gives the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def message_text(message: dict[str, Any]) -> str:
    """The text of an OpenAI-format message, whether its content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


@dataclass(frozen=True)
class Draw:
    """One chat request as the server saw it: its body digest, attempt number and fault."""

    key: str
    attempt: int
    fault: str | None
    at: float = field(default=0.0, compare=False)  # time.monotonic() when the request arrived


@dataclass
class Stats:
    """What the server saw and did (read it after the run)."""

    requests: int = 0  # chat completion requests received
    completions: int = 0  # 200 responses with a complete body (content faults included)
    faults: Counter = field(default_factory=Counter)  # injected faults by name
    draws: list[Draw] = field(default_factory=list)  # one per chat request, as it was handled
    authorization: Counter = field(default_factory=Counter)  # Authorization header values received
    errors: list[str] = field(default_factory=list)  # behaviour or server errors (tracebacks)

    def final_draws(self) -> dict[str, Draw]:
        """The last request of each distinct body: it decides whether that request succeeded."""
        last: dict[str, Draw] = {}
        for d in self.draws:
            if d.key not in last or d.attempt > last[d.key].attempt:
                last[d.key] = d
        return last


class Server:
    """The running server: ``base_url`` (``http://127.0.0.1:PORT/v1``) and ``stats``."""

    def __init__(self, behaviour: Behaviour, faults: FaultPlan | None = None, seed: int = 0,
                 latency: float = 0.0, hang: float = 30.0, retry_after_ms: int = 10,
                 shutdown_timeout: float = 10.0) -> None:
        self.behaviour = behaviour
        self.faults = faults or FaultPlan()
        self.seed = seed
        self.latency = latency
        self.hang = hang
        self.retry_after_ms = retry_after_ms
        self.shutdown_timeout = shutdown_timeout
        self.stats = Stats()
        self._lock = threading.Lock()
        self._attempts: Counter = Counter()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port it listens (or listened) on."""
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "Server":
        self._httpd = _HTTPServer(self)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fault-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any hanging handler and wait (bounded) for every thread to end."""
        if self._httpd is None:
            return
        self._stopping.set()
        deadline = time.monotonic() + self.shutdown_timeout
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        alive = []
        for t in [self._thread, *self._httpd.handler_threads]:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                alive.append(t.name)
        self._httpd = None
        if alive:
            raise RuntimeError(f"the fault server did not stop within {self.shutdown_timeout}s: {alive}")

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- handling one chat request ------------------------------------------------------------

    def _next_draw(self, body: dict[str, Any], authorization: str | None) -> Draw:
        key = body_key(body)
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
            draw = Draw(key, attempt, self.faults.draw(self.seed, key, attempt), time.monotonic())
            self.stats.requests += 1
            if authorization is not None:
                self.stats.authorization[authorization] += 1
        return draw

    def _record(self, draw: Draw, fault: str | None, completed: bool) -> None:
        with self._lock:
            self.stats.draws.append(Draw(draw.key, draw.attempt, fault, draw.at))
            if fault is not None:
                self.stats.faults[fault] += 1
            if completed:
                self.stats.completions += 1

    def _chat(self, handler: "_Handler", body: dict[str, Any]) -> None:
        draw = self._next_draw(body, handler.headers.get("Authorization"))
        if self.latency:
            self._stopping.wait(self.latency)
        fault = draw.fault
        if fault in ("http_500", "http_429"):
            self._record(draw, fault, False)
            status, kind = (500, "server_error") if fault == "http_500" else (429, "rate_limit_exceeded")
            headers = {"Retry-After": str(max(1, round(self.retry_after_ms / 1000))),
                       "retry-after-ms": str(self.retry_after_ms)}
            handler.send_json(status, {"error": {"message": f"injected fault: {fault}", "type": kind, "code": kind}},
                              headers)
            return
        if fault == "bad_key":
            self._record(draw, fault, False)
            key = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
            handler.send_json(401, {"error": {"message": f"Incorrect API key provided: {key}. You can find your API key "
                                                         "in your account settings.", "type": "invalid_request_error",
                                              "code": "invalid_api_key"}})
            return
        if fault == "timeout":
            self._record(draw, fault, False)
            self._stopping.wait(self.hang)  # the client gives up first; stopping the server wakes us
            return  # close without answering
        if fault == "reset":
            self._record(draw, fault, False)
            handler.reset()
            return

        try:
            reply = _check_reply(self.behaviour(body.get("messages", []), body.get("tools") or []))
        except Exception:
            with self._lock:
                self.stats.errors.append(traceback.format_exc())
            self._record(draw, None, False)
            handler.send_json(400, {"error": {"message": "the behaviour failed", "type": "invalid_request_error"}})
            return
        if fault == "malformed_tool_json" and not reply.get("tool_calls"):
            fault = None  # nothing to corrupt: served normally
        completion = self._completion(body, draw, reply, fault)
        payload = json.dumps(completion).encode()
        if fault == "truncated":
            self._record(draw, fault, False)
            handler.send_bytes(200, payload, cut=len(payload) // 2)
            return
        self._record(draw, fault, True)
        handler.send_bytes(200, payload)

    def _completion(self, body: dict[str, Any], draw: Draw, reply: dict[str, Any], fault: str | None) -> dict[str, Any]:
        content: str | None = reply.get("content") or ""
        calls = []
        for i, call in enumerate(reply.get("tool_calls") or []):
            arguments = json.dumps(call.get("arguments", {}))
            if fault == "malformed_tool_json":
                arguments = arguments[: max(1, len(arguments) // 2)]  # an object cut in half: not JSON
            calls.append({"id": f"call_{draw.key[:12]}_{i}", "type": "function",
                          "function": {"name": call["name"], "arguments": arguments}})
        finish = "tool_calls" if calls else "stop"
        if fault in ("empty", "content_filter"):
            content, calls = "", []
            finish = "content_filter" if fault == "content_filter" else "stop"
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = calls
        prompt = sum(len(message_text(m).split()) for m in body.get("messages", []))
        output = len((content or "").split()) + sum(len(c["function"]["arguments"]) // 4 for c in calls)
        return {
            "id": f"chatcmpl-{draw.key}-{draw.attempt}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": str(body.get("model", "fault")),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output},
        }


def _check_reply(reply: Any) -> dict[str, Any]:
    if not isinstance(reply, dict) or not set(reply) <= {"content", "tool_calls"}:
        raise ValueError(f"a behaviour returns {{'content': str}} and/or {{'tool_calls': [...]}}, not {reply!r}")
    for call in reply.get("tool_calls") or []:
        if not isinstance(call, dict) or "name" not in call or not isinstance(call.get("arguments", {}), dict):
            raise ValueError(f"a tool call is {{'name': str, 'arguments': dict}}, not {call!r}")
    return reply


class _Handler(BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive to go stale
    timeout = 5  # seconds to wait for a request's bytes

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "anything", "object": "model", "owned_by": "fault"}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            return
        self.server.owner._chat(self, body)

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(data).encode(), headers=headers)

    def send_bytes(self, status: int, payload: bytes, cut: int | None = None,
                   headers: dict[str, str] | None = None) -> None:
        """Send a JSON response; with ``cut``, declare the full length but send only ``cut`` bytes."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload if cut is None else payload[:cut])
        except OSError:
            pass  # the client went away (it timed out): nothing to do

    def reset(self) -> None:
        """Abort the connection: with SO_LINGER 0 the close sends a TCP RST, no response at all."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        self.connection.close()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # Server.stop joins the handler threads itself, with a deadline
    request_queue_size = 128  # many concurrent samples: do not drop connections at the backlog

    def __init__(self, owner: Server) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.handler_threads: list[threading.Thread] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True,
                             name=f"fault-handler-{client_address[1]}")
        self.handler_threads = [h for h in self.handler_threads if h.is_alive()] + [t]
        t.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        with self.owner._lock:
            self.owner.stats.errors.append(traceback.format_exc())


@contextmanager
def serve(behaviour: Behaviour, faults: FaultPlan | None = None, seed: int = 0, latency: float = 0.0,
          **options: Any) -> Iterator[Server]:
    """Run a fault server for the duration of the ``with`` block (see :class:`Server` for options:
    ``hang`` seconds a timeout holds the request, ``retry_after_ms`` of 429/500 responses,
    ``shutdown_timeout``)."""
    server = Server(behaviour, faults, seed, latency, **options).start()
    try:
        yield server
    finally:
        server.stop()


# -- keeping tests off the network ------------------------------------------------------------

def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse every IP connection and name lookup that is not to the loopback interface.

    Yields the list of refused destinations (empty if nothing tried to reach the network).
    Unix-domain sockets are allowed.
    """
    refused: list[str] = []
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            refused.append(str(address))
            raise ConnectionRefusedError(f"network access is disabled in tests (connect to {address!r})")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            refused.append(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, f"network access is disabled in tests (lookup of {host!r})")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]
    try:
        yield refused
    finally:
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
