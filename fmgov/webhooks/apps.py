from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "fmgov.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
