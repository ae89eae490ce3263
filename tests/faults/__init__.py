"""Fault injection for tests: an HTTP proxy in front of moto's server that answers like AWS on a bad day."""
