"""The Outbox pages, included at the site root."""

from django.urls import path

from fmgov.notifications import views

app_name = "notifications"
urlpatterns = [
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/<str:name>/", views.outbox_detail, name="outbox-detail"),
]
