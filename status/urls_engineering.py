"""Engineers' pages for the provider-wide status page, under /engineering/status-page/."""

urlpatterns: list = []
