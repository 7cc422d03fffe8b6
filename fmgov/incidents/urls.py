"""Incident pages, included at the site root."""

from django.urls import path

from fmgov.incidents import views

app_name = "incidents"
urlpatterns = [
    path("incidents/", views.incident_list_view, name="incident-list"),
    path("incidents/new/", views.incident_create, name="incident-create"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/<slug:action>/", views.incident_action, name="incident-action"),
]
