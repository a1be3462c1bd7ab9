"""Where the model runs: the embedded llama.cpp server, or any OpenAI-compatible URL.

Both end as an `Endpoint` (base URL, model name, identity), and every call goes
through the same `openai` client wrapped by `instructor`, so there is one model path.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import diskcache
import httpx2
import instructor
import openai

from service.config import Backend, Settings
from service.errors import ModelUnavailableError
from service.infra.redact import reveal, without_credentials
from service.infra.transport import MeteredTransport
from service.infra.weights import BUILTIN_MODELS, ensure_builtin, file_sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server and the model to ask there."""

    base_url: str
    model: str
    #: what makes answers differ between endpoints; part of every cache key.
    #: A GGUF is known by its sha256, a remote model by URL (without credentials or
    #: query) and name. Never the key.
    identity: str
    mode: instructor.Mode


def engine_version() -> str:
    """The pinned xllamacpp wheel (and so the llama.cpp build): part of every cache key."""
    try:
        return metadata.version("xllamacpp")
    except metadata.PackageNotFoundError:
        return "absent"


class LLGuidanceTransport(httpx2.HTTPTransport):
    """Sends instructor's `response_format` JSON schema as an LLGuidance grammar.

    llama.cpp converts a `json_schema` to its own GBNF grammar, which lets the model
    spend tokens on indentation and ignores LLGuidance's options. The same schema sent
    as `%llguidance` grammar is enforced by LLGuidance itself, on one line: on 2 cores,
    every output token saved is about 90 ms.
    """

    # One line, with the spaces the model writes by itself: `{"a": 1, "b": null}`. With
    # no spaces at all (`{"a":1}`) the 1.5B model, pushed off its habits, answered null
    # to the first field of nearly every fill question (seeds: attacker F1 0.50 -> 0.00).
    JSON_OPTIONS: ClassVar[dict[str, object]] = {
        "whitespace_flexible": False,
        "item_separator": ", ",
        "key_separator": ": ",
    }

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return super().handle_request(self.rewrite(request))

    @classmethod
    def rewrite(cls, request: httpx2.Request) -> httpx2.Request:
        """The same request with its JSON schema moved into an LLGuidance grammar."""
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return request
        body = json.loads(request.content)
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
        if schema is None:
            return request
        del body["response_format"]
        options = {"x-guidance": cls.JSON_OPTIONS, **schema}
        body["grammar"] = "%llguidance {}\nstart: %json " + json.dumps(options)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return httpx2.Request(
            request.method,
            request.url,
            headers=headers,
            content=json.dumps(body).encode(),
            extensions=request.extensions,
        )


class EmbeddedServer:
    """llama.cpp's own OpenAI-compatible server, run inside this process on 127.0.0.1."""

    def __init__(self, gguf: Path, settings: Settings) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelUnavailableError(
                "the embedded model needs xllamacpp: install the project with the 'local' extra"
            ) from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = settings.n_ctx * settings.n_parallel  # n_ctx is shared by the slots
        params.n_parallel = settings.n_parallel
        params.cont_batching = True
        params.cache_prompt = True  # reuse the KV cache of the shared system prompt
        threads = settings.n_threads or os.cpu_count() or 2
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = settings.llama_verbosity
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the C++ side reports load errors as plain exceptions
            raise ModelUnavailableError(f"llama.cpp could not load {gguf.name}: {exc}") from exc
        self.base_url = f"{self._server.listening_address}/v1"
        log.info("embedded llama.cpp server on %s with %s", self.base_url, gguf.name)

    def close(self) -> None:
        """Stop the server (xllamacpp stops it when the object is released)."""
        self.__dict__.pop("_server", None)


@dataclass(frozen=True)
class ModelRef:
    """What answers will come from, known without starting anything (for cache keys)."""

    name: str
    identity: str
    mode: instructor.Mode
    gguf: Path | None  # set for the embedded server


class EndpointManager:
    """Resolves settings to an endpoint; the embedded server starts on the first real call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ref: ModelRef | None = None
        self._server: EmbeddedServer | None = None
        self._endpoint: Endpoint | None = None
        self._lock = threading.Lock()

    def ref(self) -> ModelRef:
        with self._lock:
            if self._ref is None:
                self._ref = self._describe()
            return self._ref

    def endpoint(self) -> Endpoint:
        ref = self.ref()
        with self._lock:
            if self._endpoint is None:
                if ref.gguf is None:
                    base_url = self.settings.base_url or "https://api.openai.com/v1"
                else:
                    self._server = EmbeddedServer(ref.gguf, self.settings)
                    base_url = self._server.base_url
                model = ref.name if ref.gguf is None else ref.gguf.name
                self._endpoint = Endpoint(base_url, model, ref.identity, ref.mode)
            return self._endpoint

    def _describe(self) -> ModelRef:
        s = self.settings
        backend = s.resolved_backend()
        if backend is not Backend.EMBEDDED:
            base_url = without_credentials(s.base_url or "https://api.openai.com/v1").rstrip("/")
            return ModelRef(
                s.model, f"{backend.value}:{base_url}#{s.model}", s.resolved_mode(), None
            )
        engine = f"xllamacpp-{engine_version()}"
        if s.gguf is None:
            gguf = ensure_builtin(s.model, s.cache_dir)
            sha = BUILTIN_MODELS[s.model].sha256
            return ModelRef(s.model, f"gguf:{sha}@{engine}", s.resolved_mode(), gguf)
        sha = self._gguf_sha256(s.gguf)
        return ModelRef(s.gguf.name, f"gguf:{sha}@{engine}", s.resolved_mode(), s.gguf)

    def _gguf_sha256(self, gguf: Path) -> str:
        if not gguf.is_file():
            raise ModelUnavailableError(f"GGUF file not found: {gguf}")
        # Hashing a multi-GB file takes seconds: remember it per (path, size, mtime).
        st = gguf.stat()
        with diskcache.Cache(str(self.settings.cache_dir / "gguf-hashes")) as hashes:
            key = (str(gguf.resolve()), st.st_size, st.st_mtime_ns)
            sha = hashes.get(key)
            if sha is None:
                sha = file_sha256(gguf)
                hashes.set(key, sha)
        return str(sha)

    def client(self, llguidance: bool) -> instructor.Instructor:
        """An instructor client for the endpoint; transport retries are ours (tenacity).
        With `llguidance` the answer schema goes as an LLGuidance grammar."""
        ep = self.endpoint()
        key = reveal(self.settings.api_key) or "not-needed"
        inner = LLGuidanceTransport() if llguidance else httpx2.HTTPTransport()
        http = openai.DefaultHttpxClient(transport=MeteredTransport(inner))
        raw = openai.OpenAI(
            base_url=ep.base_url,
            api_key=key,
            timeout=self.settings.timeout,
            max_retries=0,
            http_client=http,
        )
        return instructor.from_openai(raw, mode=ep.mode)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.close()
                self._server = None
            self._endpoint = None
