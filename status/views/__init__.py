"""Views of the status app, by audience: ``manage_*`` are the portal's screens for engineers and clients."""
