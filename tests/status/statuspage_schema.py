"""JSON Schemas of Atlassian Statuspage's public v2 answers: the fields and enums its clients rely on.

Written from Statuspage's published API documentation; ``additionalProperties`` stays open (Statuspage
adds fields over time) but every documented field is required with its type and enum.
"""

from __future__ import annotations

ISO = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$"}
ISO_OR_NULL = {"anyOf": [ISO, {"type": "null"}]}
ID = {"type": "string", "pattern": "^[a-z0-9]{12}$"}
COMPONENT_STATUS = {
    "enum": ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
}
INCIDENT_STATUS = {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]}
MAINTENANCE_STATUS = {"enum": ["scheduled", "in_progress", "verifying", "completed"]}

PAGE = {
    "type": "object",
    "required": ["id", "name", "url", "time_zone", "updated_at"],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "time_zone": {"type": "string"},
        "updated_at": ISO,
    },
}
STATUS = {
    "type": "object",
    "required": ["indicator", "description"],
    "properties": {
        "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
        "description": {"type": "string"},
    },
}
COMPONENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "status": COMPONENT_STATUS,
        "created_at": ISO,
        "updated_at": ISO,
        "position": {"type": "integer"},
        "description": {"type": ["string", "null"]},
        "showcase": {"type": "boolean"},
        "start_date": {"type": ["string", "null"]},
        "group_id": {"anyOf": [ID, {"type": "null"}]},
        "page_id": ID,
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
        "components": {"type": "array", "items": ID},
    },
    "if": {"properties": {"group": {"const": True}}},
    "then": {"required": ["components"]},
}
AFFECTED = {
    "type": "object",
    "required": ["code", "name", "old_status", "new_status"],
    "properties": {
        "code": ID,
        "name": {"type": "string"},
        "old_status": COMPONENT_STATUS,
        "new_status": COMPONENT_STATUS,
    },
}
UPDATE = {
    "type": "object",
    "required": [
        "id",
        "status",
        "body",
        "incident_id",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
    ],
    "properties": {
        "id": ID,
        "status": {"enum": INCIDENT_STATUS["enum"] + MAINTENANCE_STATUS["enum"]},
        "body": {"type": "string"},
        "incident_id": ID,
        "created_at": ISO,
        "updated_at": ISO,
        "display_at": ISO,
        "affected_components": {"anyOf": [{"type": "null"}, {"type": "array", "items": AFFECTED}]},
        "deliver_notifications": {"type": "boolean"},
    },
}
INCIDENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "impact",
        "shortlink",
        "started_at",
        "page_id",
        "incident_updates",
        "components",
    ],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "status": {"enum": INCIDENT_STATUS["enum"] + MAINTENANCE_STATUS["enum"]},
        "created_at": ISO,
        "updated_at": ISO,
        "monitoring_at": ISO_OR_NULL,
        "resolved_at": ISO_OR_NULL,
        "impact": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
        "shortlink": {"type": "string"},
        "started_at": ISO,
        "page_id": ID,
        "incident_updates": {"type": "array", "items": UPDATE},
        "components": {"type": "array", "items": COMPONENT},
    },
}
INCIDENT_ONLY = {"allOf": [INCIDENT, {"properties": {"status": INCIDENT_STATUS}}]}
MAINTENANCE = {
    "allOf": [
        INCIDENT,
        {
            "required": ["scheduled_for", "scheduled_until"],
            "properties": {
                "status": MAINTENANCE_STATUS,
                "scheduled_for": ISO,
                "scheduled_until": ISO,
                "impact": {"const": "maintenance"},
            },
        },
    ]
}


def _envelope(**properties) -> dict:
    return {
        "type": "object",
        "required": ["page", *properties],
        "properties": {"page": PAGE, **properties},
    }


ENDPOINTS = {
    "summary.json": _envelope(
        components={"type": "array", "items": COMPONENT},
        incidents={"type": "array", "items": INCIDENT_ONLY},
        scheduled_maintenances={"type": "array", "items": MAINTENANCE},
        status=STATUS,
    ),
    "status.json": _envelope(status=STATUS),
    "components.json": _envelope(components={"type": "array", "items": COMPONENT}),
    "incidents.json": _envelope(incidents={"type": "array", "items": INCIDENT_ONLY, "maxItems": 50}),
    "incidents/unresolved.json": _envelope(incidents={"type": "array", "items": INCIDENT_ONLY}),
    "scheduled-maintenances.json": _envelope(
        scheduled_maintenances={"type": "array", "items": MAINTENANCE, "maxItems": 50}
    ),
    "scheduled-maintenances/upcoming.json": _envelope(scheduled_maintenances={"type": "array", "items": MAINTENANCE}),
    "scheduled-maintenances/active.json": _envelope(scheduled_maintenances={"type": "array", "items": MAINTENANCE}),
}
