from django.urls import path
from rest_framework.routers import DefaultRouter

from fmgov.portfolio.api.views import ConcentrationView, FootprintView, PortfolioFindingViewSet, PortfolioSettingsView

router = DefaultRouter()
router.register("portfolio/findings", PortfolioFindingViewSet, basename="portfolio-finding")

urlpatterns = [
    path("portfolio/concentration/", ConcentrationView.as_view(), name="portfolio-concentration"),
    path("portfolio/footprint/", FootprintView.as_view(), name="portfolio-footprint"),
    path("portfolio/settings/", PortfolioSettingsView.as_view(), name="portfolio-settings"),
    *router.urls,
]
