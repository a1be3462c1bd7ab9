"""The front ends: the same `Extractor` behind a command line, a batch runner and HTTP.

`cli` is `python -m service` (and the `newsevents` script), `batch` extracts many
articles into a resumable JSONL file, `http` serves the API that `service.client` calls;
`results` is the per-article outcome they all report. Front ends may import anything in
`service`; within `service`, only `service.client` imports from here (the HTTP models and
`results`, which need only pydantic).
"""
