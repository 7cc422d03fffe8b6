"""Review pages, included at the site root."""

from django.urls import path

from fmgov.reviews import views

app_name = "reviews"
urlpatterns = [
    path("reviews/", views.review_list_view, name="review-list"),
    path("reviews/new/", views.review_create, name="review-create"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/items/", views.item_create, name="item-create"),
    path("reviews/<int:pk>/items/<int:item_pk>/", views.item_edit, name="item-edit"),
    path("reviews/<int:pk>/items/<int:item_pk>/delete/", views.item_delete, name="item-delete"),
    path("reviews/<int:pk>/evidence/", views.evidence_link, name="evidence-link"),
    path("reviews/<int:pk>/submit/", views.review_submit, name="review-submit"),
    path("reviews/<int:pk>/sign-off/", views.sign_off, name="sign-off"),
    path("reviews/<int:pk>/revoke/", views.review_revoke, name="review-revoke"),
    path("reviews/<int:pk>/request-changes/", views.request_changes, name="request-changes"),
]
