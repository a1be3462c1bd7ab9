"""Settings: one object, filled from arguments, environment or defaults.

Any OpenAI-compatible endpoint works by configuration alone: set `base_url` (or
OPENAI_BASE_URL) and `model`. With no base URL the embedded llama.cpp server runs
a built-in model, or any GGUF named by `gguf`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import instructor
from platformdirs import user_cache_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.infra.weights import BUILTIN_MODELS, DEFAULT_MODEL

APP_NAME = "newsevents"


class Backend(StrEnum):
    """Which kind of server answers; it decides the instructor mode."""

    EMBEDDED = "embedded"  # llama.cpp inside this process (xllamacpp)
    LLAMACPP = "llamacpp"  # a llama.cpp server elsewhere
    OPENAI = "openai"
    VLLM = "vllm"
    OLLAMA = "ollama"
    OTHER = "other"  # any other OpenAI-compatible server


# JSON_SCHEMA makes llama.cpp, vLLM and Ollama constrain decoding to the schema;
# OpenAI's tool calling is its most reliable structured path.
DEFAULT_MODES: dict[Backend, instructor.Mode] = {
    Backend.EMBEDDED: instructor.Mode.JSON_SCHEMA,
    Backend.LLAMACPP: instructor.Mode.JSON_SCHEMA,
    Backend.OPENAI: instructor.Mode.TOOLS,
    Backend.VLLM: instructor.Mode.JSON_SCHEMA,
    Backend.OLLAMA: instructor.Mode.JSON_SCHEMA,
    Backend.OTHER: instructor.Mode.JSON,
}


def _env(name: str, *more: str) -> AliasChoices:
    return AliasChoices(f"{APP_NAME.upper()}_{name}", *more)


class Settings(BaseSettings):
    """Everything that configures an extraction. Environment variables are NEWSEVENTS_*."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSEVENTS_", populate_by_name=True, extra="forbid"
    )

    # -- where the model runs
    base_url: str | None = Field(
        default=None,
        validation_alias=_env("BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint; unset = the embedded llama.cpp server.",
    )
    api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("API_KEY", "OPENAI_API_KEY"), repr=False
    )
    model: str = Field(
        default=DEFAULT_MODEL,
        validation_alias=_env("MODEL"),
        description="Remote model name, or a built-in local model name.",
    )
    gguf: Path | None = Field(
        default=None,
        validation_alias=_env("GGUF"),
        description="Any GGUF file to run in the embedded server instead of a built-in.",
    )
    backend: Backend | None = Field(
        default=None,
        validation_alias=_env("BACKEND"),
        description="Kind of endpoint; guessed from base_url when unset.",
    )
    mode: instructor.Mode | None = Field(
        default=None, validation_alias=_env("MODE"), description="Override the instructor mode."
    )
    llguidance: bool | None = Field(
        default=None,
        validation_alias=_env("LLGUIDANCE"),
        description="Send the answer schema to llama.cpp as an LLGuidance grammar that "
        "keeps the JSON on one line (fewer output tokens: the seeds' fill answers took 48 "
        "instead of 60). Only for llama.cpp servers built with LLGuidance. Unset: on for "
        "the embedded server (built with it), off for a remote llama.cpp.",
    )
    # -- prompt and sampling
    prompt: str = Field(
        default="stages@v3",
        validation_alias=_env("PROMPT"),
        description="Prompt template as name@version: stages@v3 (the staged pipeline, "
        "default) or extract_events@v2 (the one-shot baseline).",
    )
    temperature: float = Field(default=0.0, ge=0, le=2)
    seed: int = 0
    max_tokens: int = Field(default=1536, gt=0, description="Cap on generated tokens per call.")
    attack_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        validation_alias=_env("ATTACK_THRESHOLD"),
        description="Staged prompts: the model's probability that a run of sentences "
        "reports an attack, at or above which it is read as one (from token "
        "log-probabilities; endpoints that send none fall back to the model's true/false). "
        "Unset: the built-in model's own, chosen with `evals sweep` on WikiEvents and MUC-4 "
        "(1.5B: 0.75); 0.5, the model's own true/false, for any other model.",
    )
    field_threshold: float = Field(
        default=0.0,
        ge=0,
        le=1,
        validation_alias=_env("FIELD_THRESHOLD"),
        description="Staged prompts: the model's probability of the attacker, target, "
        "victims, place or source it chose, below which the field is left null (from "
        "token log-probabilities; kept as the field's span confidence).",
    )
    accept: bool = Field(
        default=False,
        validation_alias=_env("ACCEPT"),
        description="Staged prompts, built-in 1.5B model: drop the events, and null the "
        "attacker, target and victims values, that the learned acceptor "
        "(service/pipeline/accept.json, fitted on MUC-4 train) scores below its thresholds. "
        "Off by default: it pays on MUC-4 (dev --limit 20: role F1 0.366 -> 0.420) but "
        "costs on other news (WikiEvents attack recall 0.740 -> 0.342).",
    )
    # -- resilience
    timeout: float = Field(default=600.0, gt=0, validation_alias=_env("TIMEOUT"))
    max_attempts: int = Field(default=4, ge=1, description="Tries on transient endpoint errors.")
    max_reasks: int = Field(default=1, ge=0, description="Re-asks after a schema-invalid answer.")
    deadline: float = Field(
        default=900.0,
        gt=0,
        validation_alias=_env("DEADLINE"),
        description="Seconds one article may take in all: every chunk, retry and re-ask.",
    )
    # -- HTTP server
    max_pending: int = Field(
        default=16,
        ge=1,
        validation_alias=_env("MAX_PENDING"),
        description="Extraction requests in progress or waiting; more get 503 + Retry-After.",
    )
    client_timeout: float = Field(
        default=15.0,
        gt=0,
        validation_alias=_env("CLIENT_TIMEOUT"),
        description="Seconds a client has to send a request's headers, and again its body.",
    )
    # -- input limits
    chunk_chars: int = Field(
        default=6000, ge=500, description="Longer articles are split into chunks of this size."
    )
    max_chars: int = Field(
        default=200_000, gt=0, description="Longer input is refused with an error."
    )
    # -- embedded server
    n_ctx: int = Field(default=8192, ge=512)
    n_parallel: int = Field(default=1, ge=1, validation_alias=_env("N_PARALLEL"))
    n_threads: int | None = Field(default=None, ge=1)
    llama_verbosity: int = Field(
        default=0,
        ge=0,
        validation_alias=_env("LLAMA_VERBOSITY"),
        description="llama.cpp's own log level (0: quiet); it never changes an answer.",
    )
    # -- storage
    cache_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir(APP_NAME)),
        validation_alias=_env("CACHE_DIR"),
    )
    use_cache: bool = Field(default=True, validation_alias=_env("USE_CACHE"))
    log_prompts: bool = Field(
        default=True,
        validation_alias=_env("LOG"),
        description="Record every prompt and response in logs.db (see `python -m service logs`).",
    )

    def resolved_backend(self) -> Backend:
        """The backend kind, guessed from the URL when not set."""
        if self.backend is not None:
            return self.backend
        if self.base_url is None:
            # A built-in name or a GGUF runs locally; any other name means OpenAI itself.
            local = self.gguf is not None or self.model in BUILTIN_MODELS
            return Backend.EMBEDDED if local else Backend.OPENAI
        url = self.base_url.lower()
        if "api.openai.com" in url:
            return Backend.OPENAI
        if ":11434" in url or "ollama" in url:
            return Backend.OLLAMA
        return Backend.OTHER

    def resolved_attack_threshold(self) -> float:
        """A probability is only comparable within one model: each built-in has its own."""
        if self.attack_threshold is not None:
            return self.attack_threshold
        builtin = BUILTIN_MODELS.get(self.model)
        if builtin is None or self.gguf is not None or self.base_url is not None:
            return 0.5
        return builtin.attack_threshold

    def acceptor_model(self) -> str | None:
        """The built-in model whose fitted acceptor applies, if any: a probability is
        comparable only within one model."""
        if not self.accept or self.gguf is not None or self.base_url is not None:
            return None
        return self.model if self.model in BUILTIN_MODELS else None

    def uses_llguidance(self) -> bool:
        """LLGuidance grammars go only to llama.cpp, and unasked only to our own build."""
        backend = self.resolved_backend()
        if self.llguidance is None:
            return backend is Backend.EMBEDDED
        return self.llguidance and backend in (Backend.EMBEDDED, Backend.LLAMACPP)

    def resolved_mode(self) -> instructor.Mode:
        return self.mode or DEFAULT_MODES[self.resolved_backend()]
