from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "fmgov.reviews"
    label = "reviews"
