"""What a remote caller imports: `service.client` loads no server, eval or model stack."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

#: Each only serves a front end that a client does not run, or the model it calls remotely.
HEAVY = ("fastapi", "uvicorn", "starlette", "scipy", "numpy", "openai", "instructor")


def loaded_after(statement: str) -> list[str]:
    """The HEAVY modules in sys.modules after `statement`, in a fresh interpreter."""
    found = f"[m for m in {HEAVY!r} if m in sys.modules]"
    code = f"import json, sys; {statement}; print(json.dumps({found}))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout)


def test_the_client_imports_neither_the_server_nor_scipy_nor_the_model_stack() -> None:
    assert loaded_after("import service.client") == []


def test_the_package_itself_is_light_until_a_heavy_name_is_used() -> None:
    assert loaded_after("import service") == []
    assert "openai" in loaded_after("from service import Extractor")
