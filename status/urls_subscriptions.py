"""Public subscription routes of one status page (subscribe, confirm, unsubscribe), under the page's root."""

urlpatterns: list = []
