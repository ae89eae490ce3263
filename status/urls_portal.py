"""Organization pages for managing status pages, under /o/<org>/status-pages/."""

urlpatterns: list = []
