"""Evaluation pages, included at the site root."""

from django.urls import path

from fmgov.evaluations import views

app_name = "evaluations"
urlpatterns = [
    path("evaluations/", views.index, name="index"),
    path("evaluations/suites/", views.suite_create, name="suite-create"),
    path("evaluations/schedules/", views.schedule_create, name="schedule-create"),
    path("evaluations/schedules/<int:pk>/toggle/", views.schedule_toggle, name="schedule-toggle"),
    path("evaluations/runs/", views.run_now, name="run-now"),
    path("evaluations/runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("evaluations/runs/<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("evaluations/runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path("evaluations/findings/<int:pk>/<slug:action>/", views.finding_action, name="finding-action"),
]
