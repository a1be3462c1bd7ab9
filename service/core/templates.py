"""Load prompt templates from the `prompts` package by 'name@version' and render messages.

Rendering is deterministic (same inputs, same bytes), so the rendered messages can
be part of the cache key and the system message is a stable prefix for KV reuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jinja2
from pydantic import BaseModel

from schemas.draft import EventDraft
from service.errors import TemplateError

_REF = re.compile(r"^(?P<name>[a-z0-9_]+)@(?P<version>v[0-9]+[a-z0-9_.-]*)$")
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_ENV.filters["fence"] = lambda text: fence(text)  # staged templates fence every sentence


# A worked example goes in its own turn: small models copy examples less from there.
_BLOCK_ROLES = (
    ("system", "system"),
    ("example_user", "user"),
    ("example_assistant", "assistant"),
    ("user", "user"),
)


@dataclass(frozen=True)
class Field:
    name: str
    description: str


@dataclass(frozen=True)
class PromptTemplate:
    """One versioned template file: `prompts/<name>/<version>.jinja`."""

    name: str
    version: str
    source: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def staged(self) -> bool:
        """A template with a `detect` block drives the staged pipeline (`service.pipeline`)."""
        return "detect" in _ENV.from_string(self.source).blocks

    def render_stage(self, stage: str, **context: object) -> list[dict[str, str]]:
        """[system, user]: the same system message for every question of every article
        (the server keeps its KV cache), and the stage's question with its sentences."""
        template = _ENV.from_string(self.source)
        missing = {"system", stage} - set(template.blocks)
        if missing:
            raise TemplateError(f"template {self.ref} lacks the block(s) {sorted(missing)}")
        ctx = template.new_context(dict(context))

        def block(name: str) -> str:
            return "".join(template.blocks[name](ctx)).strip()

        return [
            {"role": "system", "content": block("system")},
            {"role": "user", "content": block(stage)},
        ]

    def render(self, article: str) -> list[dict[str, str]]:
        """Chat messages: static system prompt and example turn first, the article last."""
        template = _ENV.from_string(self.source)
        context = template.new_context(
            {"article": fence(article), "fields": field_guide(EventDraft)}
        )
        missing = {"system", "user"} - set(template.blocks)
        if missing:
            raise TemplateError(f"template {self.ref} lacks the block(s) {sorted(missing)}")
        messages = []
        for block, role in _BLOCK_ROLES:
            if block in template.blocks:
                content = "".join(template.blocks[block](context)).strip()
                messages.append({"role": role, "content": content})
        return messages


#: What could close or reopen the fence: any tag named article (attributes, spaces, any
#: case, even unterminated), and chat-template tokens such as <|im_end|><|im_start|>.
_FENCE_BREAKER = re.compile(r"<(?=\s*/?\s*article\b)|<(?=\|)", re.I)


def fence(article: str) -> str:
    """Keep the article inside its <article> fence: such a '<' becomes a harmless '‹'."""
    return _FENCE_BREAKER.sub("‹", article)


def field_guide(model: type[BaseModel]) -> list[Field]:
    """The schema's field descriptions, in order: the model reads these in the prompt."""
    return [Field(name, info.description or "") for name, info in model.model_fields.items()]


@cache
def load_template(ref: str) -> PromptTemplate:
    """Find `prompts/<name>/<version>.jinja` for a reference like 'extract_events@v1'."""
    match = _REF.match(ref)
    if not match:
        raise TemplateError(f"prompt reference {ref!r} is not of the form name@vN")
    path = resources.files("prompts") / match["name"] / f"{match['version']}.jinja"
    if not path.is_file():
        raise TemplateError(
            f"no prompt template {ref!r}; available: {', '.join(available_templates())}"
        )
    return PromptTemplate(match["name"], match["version"], path.read_text(encoding="utf-8"))


def available_templates() -> list[str]:
    """Every 'name@version' shipped in the prompts package."""
    root = resources.files("prompts")
    return sorted(
        f"{d.name}@{f.name.removesuffix('.jinja')}"
        for d in root.iterdir()
        if d.is_dir()
        for f in d.iterdir()
        if f.name.endswith(".jinja")
    )
