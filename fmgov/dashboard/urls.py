"""The dashboard at the site root; the URL name stays ``dashboard`` (no namespace), as templates use it."""

from django.urls import path

from fmgov.dashboard import views

urlpatterns = [path("", views.dashboard, name="dashboard")]
