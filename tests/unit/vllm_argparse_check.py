"""Run by .venv-vllm's Python (tests/unit/test_planning_vllm_args.py): parse argument lists with vLLM's own
OpenAI-server parser, without starting anything. Reads a JSON list of {"name", "argv"} on stdin and prints
a JSON list of {"name", "error"} (error null when vLLM accepted the line)."""

import json
import sys

from vllm.entrypoints.launchers.cli_args import make_arg_parser, validate_parsed_serve_args
from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS
from vllm.reasoning import ReasoningParserManager
from vllm.tool_parsers import ToolParserManager
from vllm.utils.argparse_utils import FlexibleArgumentParser


def names(manager: object) -> set[str]:
    return set(getattr(manager, "reasoning_parsers", {}) or getattr(manager, "tool_parsers", {})) | set(
        getattr(manager, "lazy_parsers", {})
    )


def check(argv: list[str]) -> str | None:
    parser = make_arg_parser(FlexibleArgumentParser())
    try:
        ns = parser.parse_args(argv)
    except SystemExit:
        return "rejected by the parser"
    except Exception as exc:  # a --config file that is missing or not YAML
        return f"parse: {exc}"
    try:
        validate_parsed_serve_args(ns)
    except Exception as exc:
        return f"validation: {exc}"
    # Names the parser accepts as free strings are checked against vLLM's registries.
    if ns.quantization is not None and ns.quantization not in QUANTIZATION_METHODS:
        return f"unknown quantization {ns.quantization}"
    if ns.reasoning_parser and ns.reasoning_parser not in names(ReasoningParserManager):
        return f"unknown reasoning parser {ns.reasoning_parser}"
    if getattr(ns, "tool_call_parser", None) and ns.tool_call_parser not in names(ToolParserManager):
        return f"unknown tool parser {ns.tool_call_parser}"
    return None


cases = json.load(sys.stdin)
print(json.dumps([{"name": c["name"], "error": check(c["argv"])} for c in cases]))
