"""Documentation pages, included at the site root next to the registry's pages."""

from django.urls import path

from fmgov.documentation import views

app_name = "documentation"
urlpatterns = [
    path("models/<int:pk>/documentation/", views.documentation_edit, {"kind": "model"}, name="model-edit"),
    path(
        "adaptations/<int:pk>/documentation/",
        views.documentation_edit,
        {"kind": "adaptation"},
        name="adaptation-edit",
    ),
]
