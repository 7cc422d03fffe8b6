"""Documentation routes under each foundation model and adaptation, included under /api/v1/."""

from django.urls import path

from fmgov.documentation.api.views import documentation_views
from fmgov.registry.models import Adaptation, FoundationModel

urlpatterns = []
for _prefix, _model, _name in (
    ("foundation-models", FoundationModel, "foundation-model"),
    ("adaptations", Adaptation, "adaptation"),
):
    _record, _versions, _freeze, _refresh = documentation_views(_model)
    urlpatterns += [
        path(f"{_prefix}/<int:pk>/documentation/", _record.as_view(), name=f"{_name}-documentation"),
        path(
            f"{_prefix}/<int:pk>/documentation/versions/",
            _versions.as_view(),
            name=f"{_name}-documentation-versions",
        ),
        path(f"{_prefix}/<int:pk>/documentation/freeze/", _freeze.as_view(), name=f"{_name}-documentation-freeze"),
        path(
            f"{_prefix}/<int:pk>/documentation/refresh/",
            _refresh.as_view(),
            name=f"{_name}-documentation-refresh",
        ),
    ]
