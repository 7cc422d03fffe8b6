"""Webhook API routes, included under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from fmgov.webhooks.api.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
urlpatterns = [
    *router.urls,
    path(
        "webhooks/<int:endpoint_pk>/deliveries/",
        WebhookDeliveryViewSet.as_view({"get": "list"}),
        name="webhook-delivery-list",
    ),
]
