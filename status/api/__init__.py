"""The status pages' REST API: pages, component groups, components, incidents and maintenance.

Objects are named by their 12-character public id (the ``id`` of the public Statuspage JSON too), and
filtered by page with ``?status_page=<id>``. Every change goes through status/services.py, which decides
who may do what: 403 when the caller may not, 400 with field-named errors, 409 when the incident's or
maintenance's lifecycle forbids it. The viewsets are in ``status.api.views``.
"""
