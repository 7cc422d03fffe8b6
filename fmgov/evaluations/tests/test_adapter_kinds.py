"""One table of adapter kinds (``registry.choices.ADAPTER_KINDS``): evaluations, credentials and runs derive from it."""

from fmgov.evaluations.adapters import ADAPTERS, adapter_classes
from fmgov.evaluations.evaluators import REGISTRY
from fmgov.registry.choices import ADAPTER_KINDS, HTTP_ADAPTERS, EndpointAdapter, adapters_with


def test_every_callable_endpoint_adapter_has_a_kind():
    assert set(ADAPTER_KINDS) == set(EndpointAdapter.values) - {EndpointAdapter.NONE}


def test_every_kind_has_exactly_its_adapter_class():
    classes = adapter_classes()
    assert list(classes) == list(ADAPTER_KINDS) == list(ADAPTERS)
    assert all(cls.name == kind for kind, cls in classes.items())


def test_http_adapters_and_capabilities_come_from_the_table():
    assert {EndpointAdapter.OPENAI_CHAT, EndpointAdapter.OPENAI_EMBEDDINGS} == HTTP_ADAPTERS
    assert adapters_with("chat") == (EndpointAdapter.OPENAI_CHAT,)
    assert adapters_with("embeddings") == (
        EndpointAdapter.OPENAI_EMBEDDINGS,
        EndpointAdapter.LOCAL_SENTENCE_TRANSFORMERS,
    )


def test_every_evaluator_need_is_served_by_some_kind():
    needs = {cls.needs for cls in REGISTRY.values()} - {None}
    assert needs and all(adapters_with(need) for need in needs)
