"""HTTP probes of client URLs: readiness checks now, status-page probes later.

Every fetch of a URL a client gave goes through ``probes.http``, which carries the SSRF guard
(DESIGN.md, invariant 5); ``probes.pages`` reads what a fetched page says about weight,
compression, CDN cacheability and whether a CDN answered.
"""
