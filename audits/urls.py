from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("verify/", views.verify, name="verify"),
]
