"""Registry pages, included at the site root."""

from django.urls import path

from fmgov.registry import views

app_name = "registry"
urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    path("models/import/", views.card_import, name="card-import"),
    path("models/<int:pk>/", views.model_detail, name="model-detail"),
    path("models/<int:pk>/edit/", views.model_edit, name="model-edit"),
    path("adaptations/", views.adaptation_list_view, name="adaptation-list"),
    path("adaptations/new/", views.adaptation_create, name="adaptation-create"),
    path("adaptations/<int:pk>/", views.adaptation_detail, name="adaptation-detail"),
    path("adaptations/<int:pk>/edit/", views.adaptation_edit, name="adaptation-edit"),
    path("deployments/", views.deployment_list_view, name="deployment-list"),
    path("deployments/new/", views.deployment_create, name="deployment-create"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/edit/", views.deployment_edit, name="deployment-edit"),
    path("deployments/<int:pk>/revise/", views.deployment_revise, name="deployment-revise"),
    path("deployments/<int:pk>/<slug:action>/", views.deployment_action, name="deployment-action"),
]
