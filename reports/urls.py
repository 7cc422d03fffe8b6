"""Report pages, included at the site root."""

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.report_list, name="report-list"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/progress/", views.report_progress, name="report-progress"),
    path("reports/<int:pk>/download/", views.report_download, name="report-download"),
]
