"""The HTTP API: `app.create_app` serves one shared `Extractor` over FastAPI.

`models` (the request and response bodies) needs only pydantic, since `service.client`
parses with it; the other modules need the `serve` extra. So this `__init__` imports
nothing: importing the models must not import FastAPI.
"""
