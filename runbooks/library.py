"""The starter library of the TV-spike playbook, written by the provider team.

Loaded by a data migration (so every install has it) through historical models, hence plain data and
``apps`` passed in; tests run without migrations and call ``starter_library_load`` themselves.
"""

from __future__ import annotations

from django.apps import apps as django_apps

from status.markdown import render

M, C, Q, A = "manual_check", "command", "confirmation", "automated"

LIBRARY = [
    {
        "title": "Booking review",
        "phase": "booking_review",
        "intro": "Review a newly booked broadcast before accepting it. The goal is to know, within a day of "
        "the booking, whether the stack can be made ready in time and what the client must do.",
        "steps": [
            (
                M,
                "Check the air window and the audience",
                "Compare the expected audience with the channel's "
                "usual figures for this programme. A prime-time magazine is 2–4 million viewers; a figure far off "
                "usually means the client gave the audience of the whole evening.",
                "",
                "",
            ),
            (
                M,
                "Check the landing URLs",
                "Every landing URL must answer over **HTTPS** with a 200, without a "
                "redirect chain. URLs said aloud on air must be short and typo-proof (register the obvious "
                "misspellings).",
                "",
                "",
            ),
            (
                Q,
                "The AWS account is linked and verified",
                "Without the IAM role we can neither audit nor "
                "pre-scale. If it is missing, ask the client to deploy the CloudFormation template today.",
                "",
                "",
            ),
            (
                A,
                "Run the readiness checks",
                "Gives the first readiness report to share with the client.",
                "",
                "run_readiness",
            ),
            (
                M,
                "Accept or send back the booking",
                "Accept from the event page, or send it back with a note saying exactly what is missing.",
                "",
                "",
            ),
        ],
    },
    {
        "title": "T-7 days audit",
        "phase": "t_minus_7d",
        "intro": "A week before air: audit the whole path a viewer takes, from DNS to the database, and leave "
        "enough time for the client to fix what fails.",
        "steps": [
            (
                A,
                "Run the readiness checks",
                "Read every **fail** and **warn** finding with its remediation.",
                "",
                "run_readiness",
            ),
            (
                C,
                "Review the Service Quotas",
                "Check the vCPU quota of the region against the plan's peak "
                "capacity. Ask AWS for an increase now: it can take days.",
                "https://console.aws.amazon.com/servicequotas/home",
                "",
            ),
            (
                M,
                "The static fallback exists",
                "A static copy of the landing pages (S3 behind CloudFront) must "
                "be ready to serve if the origin gives way. Open it and check the prices and links are current.",
                "",
                "",
            ),
            (
                M,
                "Caching headers on the landing pages",
                "The landing pages must be cacheable by the CDN "
                "(`Cache-Control: public, max-age=60` at least) so the origin sees a fraction of the traffic.",
                "",
                "",
            ),
            (
                Q,
                "The scaling plan is approved",
                "Make the plan from the current forecast, read each target and its revert time, and approve it.",
                "",
                "",
            ),
            (
                A,
                "Tell the client the audit is done",
                "Sends the client a short note pointing to the readiness report.",
                "",
                "notify_client",
            ),
        ],
    },
    {
        "title": "T-1 hour go/no-go",
        "phase": "t_minus_1h",
        "intro": "One hour before air the watch crew decides, together, that the stack is ready. A *no-go* "
        "means switching to the static fallback before air, not hoping.",
        "steps": [
            (
                A,
                "Apply the scaling plan",
                "Schedules the scale-up and its revert on AWS (does nothing more if the plan is already applied).",
                "",
                "apply_plan",
            ),
            (
                A,
                "Run the readiness checks one last time",
                "Every landing URL must answer and no new **fail** may appear.",
                "",
                "run_readiness",
            ),
            (
                M,
                "Capacity in service matches the plan",
                "On the event page, the T-10 minutes verification must "
                "show no shortfall. Check the Auto Scaling groups reached their desired capacity.",
                "",
                "",
            ),
            (
                C,
                "Open the dashboards",
                "Keep the load balancer and database dashboards open for the whole air window.",
                "https://console.aws.amazon.com/cloudwatch/home#dashboards",
                "",
            ),
            (
                Q,
                "Go / no-go decided with the client",
                "Record who decided and what. On a no-go, follow "
                "*Origin overloaded* now and serve the static fallback before air.",
                "",
                "",
            ),
        ],
    },
    {
        "title": "On-air watch",
        "phase": "on_air",
        "intro": "During the air window and its tail. Watch the live room, act early: at this scale, five "
        "minutes late is too late.",
        "steps": [
            (
                A,
                "Tell the client we are on watch",
                "Sends the client a note that the watch crew is live.",
                "",
                "notify_client",
            ),
            (
                M,
                "Requests follow the forecast",
                "In the live room, compare observed requests/s with the "
                "forecast band. Above the high line, get ready to shed optional features.",
                "",
                "",
            ),
            (
                M,
                "Error rate and latency",
                "5xx above 1 % or p95 above 2 s for two minutes: open the matching "
                "incident runbook (*Origin overloaded*, *Database saturated* or *CDN errors*).",
                "",
                "",
            ),
            (
                Q,
                "Capacity holds until the end of the tail",
                "Do not revert early: traffic stays high for "
                "hours after the segment. Confirm the revert time of the plan still fits.",
                "",
                "",
            ),
            (
                M,
                "Write down the peak",
                "Note the peak requests/s and the time it happened in the room's timeline; the report uses it.",
                "",
                "",
            ),
        ],
    },
    {
        "title": "Origin overloaded",
        "phase": "incident",
        "intro": "The origin cannot keep up (5xx, timeouts, queueing). Protect the viewers first: a static "
        "page that loads beats a dynamic one that does not.",
        "steps": [
            (
                A,
                "Open an incident on the status page",
                "Tells the client's customers the truth right away.",
                "",
                "open_incident",
            ),
            (
                C,
                "Serve the static fallback from the CDN",
                "Switch the CloudFront origin group (or the default "
                "behaviour) to the S3 fallback bucket, then invalidate `/*`.",
                "aws cloudfront create-invalidation --distribution-id $DISTRIBUTION_ID --paths '/*'",
                "",
            ),
            (
                M,
                "Shed optional features",
                "Turn off recommendations, live stock counters, search suggestions "
                "and third-party widgets through the client's feature flags.",
                "",
                "",
            ),
            (
                A,
                "Scale to the plan's targets now",
                "Sets each automated resource to its target at once, audited.",
                "",
                "scale_now",
            ),
            (Q, "The site answers again", "5xx below 1 % for five minutes, checked in the live room.", "", ""),
            (A, "Post a monitoring update", "", "monitoring", "post_status_update"),
        ],
    },
    {
        "title": "Database saturated",
        "phase": "incident",
        "resource_kind": "rds_instance",
        "intro": "CPU, connections or IOPS of the database at their ceiling. The database is the one thing "
        "that cannot be scaled in seconds: take load off it.",
        "steps": [
            (
                C,
                "Check the database metrics",
                "CPUUtilization, DatabaseConnections, ReadIOPS and ReplicaLag over the last 15 minutes.",
                "https://console.aws.amazon.com/rds/home#databases:",
                "",
            ),
            (
                M,
                "Serve reads from the cache",
                "Raise the cache TTLs of the catalogue and the landing pages; check the ElastiCache hit rate goes up.",
                "",
                "",
            ),
            (
                M,
                "Send reads to the replicas",
                "If the application supports it, point read-only traffic to the reader endpoint.",
                "",
                "",
            ),
            (
                Q,
                "Decide on a failover or resize",
                "A resize or failover interrupts writes for about a minute. "
                "Confirm with the client before doing it on air.",
                "",
                "",
            ),
            (A, "Open an incident on the status page", "", "", "open_incident"),
        ],
    },
    {
        "title": "CDN errors",
        "phase": "incident",
        "resource_kind": "cloudfront_distribution",
        "intro": "CloudFront returns 5xx or the cache hit rate collapses.",
        "steps": [
            (
                C,
                "Check the distribution's error rates",
                "5xxErrorRate and OriginLatency; tell an edge error from an origin error.",
                "https://console.aws.amazon.com/cloudfront/v4/home#/monitoring",
                "",
            ),
            (
                M,
                "Check the cache behaviour",
                "A `Set-Cookie` or `Cache-Control: private` on the landing pages "
                "makes every request reach the origin. Fix the header or the cache policy.",
                "",
                "",
            ),
            (M, "Serve the static fallback", "If the origin is the cause, follow *Origin overloaded*.", "", ""),
            (A, "Post a status update", "", "identified", "post_status_update"),
        ],
    },
    {
        "title": "Post-event review",
        "phase": "after_air",
        "intro": "After the tail: bring capacity back, then learn from the night while it is fresh.",
        "steps": [
            (A, "Revert capacity now", "Only if the scheduled revert has not already run.", "", "revert_now"),
            (M, "Check the bill of the extra capacity", "Compare with the plan's estimate.", "", ""),
            (
                M,
                "Forecast against observed",
                "Read the report's ratios; accept the calibration suggestion if it is credible.",
                "",
                "",
            ),
            (Q, "Every incident is resolved", "No incident may stay open on the status page.", "", ""),
            (A, "Tell the client the report is coming", "", "", "notify_client"),
        ],
    },
]


def starter_library_load(*, apps=django_apps) -> int:
    """Create the starter runbooks that are missing (by title); return how many were made."""
    made = 0
    Runbook = apps.get_model("runbooks", "Runbook")
    RunbookVersion = apps.get_model("runbooks", "RunbookVersion")
    RunbookStep = apps.get_model("runbooks", "RunbookStep")
    for entry in LIBRARY:
        if Runbook.objects.filter(title=entry["title"]).exists():
            continue
        runbook = Runbook.objects.create(
            title=entry["title"], phase=entry["phase"], resource_kind=entry.get("resource_kind", "")
        )
        version = RunbookVersion.objects.create(
            runbook=runbook, number=1, title=entry["title"], intro=entry["intro"], intro_html=render(entry["intro"])
        )
        for position, (kind, title, body, command, action) in enumerate(entry["steps"], start=1):
            RunbookStep.objects.create(
                version=version,
                position=position,
                kind=kind,
                title=title,
                body=body,
                body_html=render(body),
                command=command,
                action=action,
            )
        made += 1
    return made
