"""Model documentation API routes, included under /api/v1/ (filled in as the app is built)."""

urlpatterns: list = []
