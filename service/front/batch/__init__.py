"""Batch extraction: input entries (`sources`) in, one resumable JSONL line each (`output`).

`run.run_batch` is the loop between them; the CLI's `batch` command and `python -m evals
run` both go through it.
"""
