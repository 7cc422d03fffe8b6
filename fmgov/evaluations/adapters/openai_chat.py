"""OpenAI-compatible chat completions: POST {base_url}/chat/completions (vLLM, Ollama, TGI, LiteLLM, OpenAI)."""

from fmgov.evaluations.adapters.base import Completion, EndpointUnusable, HttpAdapter

__all__ = ["OpenAIChatAdapter"]


class OpenAIChatAdapter(HttpAdapter):
    name = "openai_chat"
    supports_chat = True

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 256, temperature: float = 0.0) -> Completion:
        payload = {
            "model": self.config.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        body, latency, attempts = self.post_json_timed("/chat/completions", payload)
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            # Never quote the body: it is the endpoint's text, and run errors are shown to every role.
            raise EndpointUnusable("The chat completions endpoint answered without choices[0].message.") from None
        usage = body.get("usage") or {}
        return Completion(
            text=text,
            latency_s=latency,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
            attempts=attempts,
        )
