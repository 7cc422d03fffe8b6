"""OpenAI-compatible embeddings: POST {base_url}/embeddings."""

from fmgov.evaluations.adapters.base import EndpointUnusable, HttpAdapter

__all__ = ["OpenAIEmbeddingsAdapter"]


class OpenAIEmbeddingsAdapter(HttpAdapter):
    name = "openai_embeddings"
    supports_embeddings = True
    batch_size = 64

    def embed(self, texts: list[str]) -> list[list[float]]:
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        out: list[list[float]] = []
        for vectors in self.map(self._embed_batch, batches):
            out.extend(vectors)
        return out

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        body = self.post_json("/embeddings", {"model": self.config.model, "input": batch})
        try:
            rows = sorted(body["data"], key=lambda row: row.get("index", 0))
            vectors = [row["embedding"] for row in rows]
        except (KeyError, TypeError, AttributeError):
            # Never quote the body: it is the endpoint's text, and run errors are shown to every role.
            raise EndpointUnusable("The embeddings endpoint answered without data[].embedding.") from None
        if len(vectors) != len(batch):
            raise EndpointUnusable(f"The embeddings endpoint returned {len(vectors)} vectors for {len(batch)} inputs.")
        return vectors
