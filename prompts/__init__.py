"""Prompt templates, shipped as package data: `<name>/<version>.jinja`.

Each template defines two blocks, `system` and `user`. The system block must not
depend on the article, so every call shares it as a prefix that llama.cpp's server
can reuse from its KV cache. Load and render them with `service.core.templates`.
"""
