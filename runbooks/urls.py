"""runbooks pages."""

urlpatterns: list = []
