"""Evidence-file API routes, included under /api/v1/."""

from django.urls import path

urlpatterns: list = []
