"""live pages."""

urlpatterns: list = []
