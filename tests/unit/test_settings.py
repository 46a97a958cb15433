"""Tests for enclave_core.settings: YAML + ${VAR:default} expansion, profiles, env overrides, errors.

Every test passes an explicit env dict with ENCLAVE_SETTINGS pointing into tmp_path, so nothing is
read from the developer's environment or from the repository's own settings.yaml.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from enclave_core.errors import PolicyError
from enclave_core.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def main_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "settings.yaml",
        """
        env: test
        llm:
          url: http://yaml-host:8001/v1
          model: yaml-model
          max_tokens: 111
        retrieval:
          mode: hybrid
          top_k: 7
          candidates: 40
        gateway:
          port: 8100
        """,
    )


def load(main_file: Path, **env: str) -> Settings:
    return load_settings({"ENCLAVE_SETTINGS": str(main_file), **env})


def get(settings: Settings, dotted: str) -> Any:
    node: Any = settings
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


# -- the YAML file ----------------------------------------------------------------------


def test_values_come_from_the_yaml_file(main_file: Path) -> None:
    s = load(main_file)
    assert s.env == "test"
    assert s.llm.url == "http://yaml-host:8001/v1"
    assert s.llm.model == "yaml-model"
    assert s.llm.max_tokens == 111
    assert s.retrieval.top_k == 7
    assert s.retrieval.candidates == 40
    assert s.gateway.port == 8100
    # Keys absent from the file keep the model defaults.
    assert s.llm.timeout_s == 120.0
    assert s.retrieval.rrf_k == 60
    assert s.chunking.max_words == 180


def test_empty_yaml_file_gives_defaults(tmp_path: Path) -> None:
    s = load(write(tmp_path / "settings.yaml", ""))
    assert s == Settings()


def test_missing_named_settings_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="settings file not found"):
        load(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("llm: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("just a string\n", "expected a mapping"),
    ],
)
def test_malformed_yaml_is_a_policy_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load(write(tmp_path / "settings.yaml", text))


# -- ${VAR} / ${VAR:default} expansion ----------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_value", "env", "expected"),
    [
        ("${MODEL}", {"MODEL": "from-env"}, "from-env"),
        ("${MODEL:fallback}", {"MODEL": "from-env"}, "from-env"),
        ("${MODEL:fallback}", {}, "fallback"),
        ("${MODEL:}", {}, ""),
        ("${MODEL:}", {"MODEL": "set"}, "set"),
        ("pre-${A}-mid-${B:bee}-post", {"A": "ay"}, "pre-ay-mid-bee-post"),
        ("${A}${A}", {"A": "x"}, "xx"),
        ("no variables here", {}, "no variables here"),
        ("$MODEL is not a reference", {}, "$MODEL is not a reference"),
        # The value set in the environment wins even when it is empty.
        ("${MODEL:fallback}", {"MODEL": ""}, ""),
    ],
)
def test_variable_expansion(tmp_path: Path, yaml_value: str, env: dict[str, str], expected: str) -> None:
    f = write(tmp_path / "settings.yaml", f'llm:\n  model: "{yaml_value}"\n')
    assert load(f, **env).llm.model == expected


def test_default_may_contain_colons_and_slashes(tmp_path: Path) -> None:
    f = write(tmp_path / "settings.yaml", 'llm:\n  url: "${LLM:http://h:8001/v1}"\n')
    assert load(f).llm.url == "http://h:8001/v1"


def test_expanded_strings_are_coerced_to_the_field_type(tmp_path: Path) -> None:
    f = write(
        tmp_path / "settings.yaml",
        'gateway:\n  port: "${PORT:8123}"\nretrieval:\n  dense_weight: "${W}"\n',
    )
    s = load(f, W="0.25")
    assert s.gateway.port == 8123
    assert s.retrieval.dense_weight == 0.25


def test_non_string_values_are_not_touched(tmp_path: Path) -> None:
    f = write(tmp_path / "settings.yaml", "gateway:\n  port: 9000\nvector_store:\n  url: null\n")
    s = load(f)
    assert s.gateway.port == 9000
    assert s.vector_store.url is None


@pytest.mark.parametrize("reference", ["${UNSET_VAR}", "x-${UNSET_VAR}-y"])
def test_missing_variable_without_default_is_a_policy_error(tmp_path: Path, reference: str) -> None:
    f = write(tmp_path / "settings.yaml", f'llm:\n  model: "{reference}"\n')
    with pytest.raises(PolicyError, match=r"\$\{UNSET_VAR\}"):
        load(f)


def test_missing_variable_in_a_profile_is_a_policy_error(main_file: Path) -> None:
    write(main_file.with_name("settings-p.yaml"), 'llm:\n  model: "${NOT_THERE}"\n')
    with pytest.raises(PolicyError, match="NOT_THERE"):
        load(main_file, ENCLAVE_PROFILES="p")


# -- profiles ---------------------------------------------------------------------------


def test_profile_overrides_only_its_keys(main_file: Path) -> None:
    write(main_file.with_name("settings-prod.yaml"), "llm:\n  model: prod-model\n")
    s = load(main_file, ENCLAVE_PROFILES="prod")
    assert s.llm.model == "prod-model"
    # Deep merge: the rest of the llm section still comes from the main file.
    assert s.llm.url == "http://yaml-host:8001/v1"
    assert s.llm.max_tokens == 111


def test_later_profiles_win(main_file: Path) -> None:
    write(main_file.with_name("settings-a.yaml"), "llm:\n  model: a-model\n  max_tokens: 5\n")
    write(main_file.with_name("settings-b.yaml"), "llm:\n  model: b-model\n")
    s = load(main_file, ENCLAVE_PROFILES=" a , b ,")
    assert s.llm.model == "b-model"
    assert s.llm.max_tokens == 5
    s = load(main_file, ENCLAVE_PROFILES="b,a")
    assert s.llm.model == "a-model"


def test_profiles_are_looked_up_beside_the_main_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    main = write(conf / "main.yaml", "llm:\n  model: main\n")
    write(tmp_path / "settings-x.yaml", "llm:\n  model: wrong-dir\n")  # not beside main.yaml
    with pytest.raises(PolicyError, match="profile 'x' not found"):
        load(main, ENCLAVE_PROFILES="x")
    write(conf / "settings-x.yaml", "llm:\n  model: right-dir\n")
    assert load(main, ENCLAVE_PROFILES="x").llm.model == "right-dir"


def test_empty_profiles_variable_loads_no_profile(main_file: Path) -> None:
    assert load(main_file, ENCLAVE_PROFILES=" , ").llm.model == "yaml-model"


# -- ENCLAVE_<SECTION>__<KEY> and shortcuts -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "dotted", "expected"),
    [
        ("ENCLAVE_RETRIEVAL__TOP_K", "8", "retrieval.top_k", 8),
        ("ENCLAVE_RETRIEVAL__MODE", "sparse", "retrieval.mode", "sparse"),
        ("ENCLAVE_LLM__MODEL", "env-model", "llm.model", "env-model"),
        ("ENCLAVE_LLM__TIMEOUT_S", "2.5", "llm.timeout_s", 2.5),
        ("ENCLAVE_GATEWAY__PORT", "9999", "gateway.port", 9999),
        ("ENCLAVE_CHUNKING__OVERLAP_WORDS", "0", "chunking.overlap_words", 0),
        ("ENCLAVE_LLM_SERVER__KV_CACHE_GB", "3", "llm_server.kv_cache_gb", 3),
        ("ENCLAVE_VECTOR_STORE__COLLECTION_PREFIX", "t_", "vector_store.collection_prefix", "t_"),
        ("ENCLAVE_ENV", "production", "env", "production"),
    ],
)
def test_environment_overrides(main_file: Path, name: str, value: str, dotted: str, expected: Any) -> None:
    assert get(load(main_file, **{name: value}), dotted) == expected


def test_environment_override_beats_file_and_profile(main_file: Path) -> None:
    write(main_file.with_name("settings-p.yaml"), "retrieval:\n  top_k: 9\n")
    s = load(main_file, ENCLAVE_PROFILES="p", ENCLAVE_RETRIEVAL__TOP_K="3")
    assert s.retrieval.top_k == 3
    assert s.retrieval.candidates == 40  # sibling key untouched


def test_override_into_a_scalar_is_a_policy_error(main_file: Path) -> None:
    with pytest.raises(PolicyError, match="env"):
        load(main_file, ENCLAVE_ENV__X="1")


@pytest.mark.parametrize(
    ("name", "value", "dotted", "expected"),
    [
        ("ENCLAVE_LLM_URL", "http://10.0.0.5:8001/v1", "llm.url", "http://10.0.0.5:8001/v1"),
        ("ENCLAVE_LLM_MODEL", "llama-3-8b", "llm.model", "llama-3-8b"),
        ("QDRANT_URL", "http://qdrant:6333", "vector_store.url", "http://qdrant:6333"),
    ],
)
def test_shortcuts(main_file: Path, name: str, value: str, dotted: str, expected: str) -> None:
    assert get(load(main_file, **{name: value}), dotted) == expected


def test_data_dir_shortcut_is_made_absolute(main_file: Path, tmp_path: Path) -> None:
    s = load(main_file, ENCLAVE_DATA_DIR=str(tmp_path / "d" / ".." / "data"))
    assert s.data_dir == (tmp_path / "data").resolve()
    assert s.data_dir.is_absolute()
    assert s.audit_dir == s.data_dir / "audit"
    assert s.qdrant_path == s.data_dir / "qdrant"


def test_qdrant_api_key_shortcut_is_kept_secret(main_file: Path) -> None:
    s = load(main_file, QDRANT_API_KEY="s3cr3t-value")
    assert s.vector_store.api_key is not None
    assert s.vector_store.api_key.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(s)
    assert "s3cr3t-value" not in str(s.model_dump())


def test_empty_shortcut_is_ignored(main_file: Path) -> None:
    assert load(main_file, ENCLAVE_LLM_URL="").llm.url == "http://yaml-host:8001/v1"


def test_unrelated_variables_are_ignored(main_file: Path) -> None:
    s = load(main_file, HOME="/nowhere", LLM__MODEL="x", OTHER_TOP_K="1")
    assert s.llm.model == "yaml-model"
    assert s.retrieval.top_k == 7


# -- invalid values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("ENCLAVE_RETRIEVAL__TOP_K", "0", "retrieval.top_k"),
        ("ENCLAVE_RETRIEVAL__TOP_K", "many", "retrieval.top_k"),
        ("ENCLAVE_RETRIEVAL__MODE", "fuzzy", "retrieval.mode"),
        ("ENCLAVE_RETRIEVAL__RRF_K", "0", "retrieval.rrf_k"),
        ("ENCLAVE_CHUNKING__MAX_WORDS", "5", "chunking.max_words"),
        ("ENCLAVE_CHUNKING__OVERLAP_WORDS", "201", "chunking.overlap_words"),
        ("ENCLAVE_LLM__TIMEOUT_S", "soon", "llm.timeout_s"),
        ("ENCLAVE_GATEWAY__PORT", "http", "gateway.port"),
        ("ENCLAVE_GATEWAY__MAX_UPLOAD_MB", "0", "gateway.max_upload_mb"),
        ("ENCLAVE_ENV", "staging", "env"),
    ],
)
def test_invalid_value_is_a_policy_error_naming_the_key(main_file: Path, name: str, value: str, key: str) -> None:
    with pytest.raises(PolicyError) as info:
        load(main_file, **{name: value})
    message = str(info.value)
    assert message.startswith("invalid settings:")
    assert f"{key}:" in message


def test_invalid_value_in_the_yaml_file_names_the_key(tmp_path: Path) -> None:
    f = write(tmp_path / "settings.yaml", "retrieval:\n  candidates: -1\nchunking:\n  max_words: 5000\n")
    with pytest.raises(PolicyError) as info:
        load(f)
    assert "retrieval.candidates:" in str(info.value)
    assert "chunking.max_words:" in str(info.value)
