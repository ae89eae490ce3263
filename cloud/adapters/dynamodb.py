"""DynamoDB tables: billing mode and provisioned (or on-demand maximum) throughput, per table and index."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import last_part, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind


def _resource(link: RoleLink, region: str, table: dict[str, Any]) -> Resource:
    client = aws_client(link, "dynamodb", region)
    tags = [
        tag
        for page in client.get_paginator("list_tags_of_resource").paginate(ResourceArn=table["TableArn"])
        for tag in page.get("Tags", [])
    ]
    # Tables created before on-demand existed have no BillingModeSummary.
    billing_mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    throughput = table.get("ProvisionedThroughput", {})
    on_demand = table.get("OnDemandThroughput", {})
    provisioned = billing_mode == "PROVISIONED"
    return Resource(
        kind=ResourceKind.dynamodb_table,
        identifier=table["TableArn"],
        name=table["TableName"],
        region=region,
        capacity={
            "billing_mode": billing_mode,
            "read_capacity": throughput.get("ReadCapacityUnits") if provisioned else None,
            "write_capacity": throughput.get("WriteCapacityUnits") if provisioned else None,
            # On-demand tables may cap throughput; -1 or absent means no cap.
            "max_read_request_units": None if provisioned else on_demand.get("MaxReadRequestUnits"),
            "max_write_request_units": None if provisioned else on_demand.get("MaxWriteRequestUnits"),
        },
        details={
            "status": table.get("TableStatus"),
            "item_count": table.get("ItemCount"),
            "size_bytes": table.get("TableSizeBytes"),
            "table_class": table.get("TableClassSummary", {}).get("TableClass", "STANDARD"),
            "global_secondary_indexes": [
                {
                    "name": index["IndexName"],
                    "status": index.get("IndexStatus"),
                    "read_capacity": index.get("ProvisionedThroughput", {}).get("ReadCapacityUnits")
                    if provisioned
                    else None,
                    "write_capacity": index.get("ProvisionedThroughput", {}).get("WriteCapacityUnits")
                    if provisioned
                    else None,
                }
                for index in table.get("GlobalSecondaryIndexes", [])
            ],
            "stream_enabled": bool(table.get("StreamSpecification", {}).get("StreamEnabled")),
            "replica_regions": [replica["RegionName"] for replica in table.get("Replicas", [])],
            "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
        },
        tags=tags_from(tags),
    )


@translate_errors("dynamodb")
def list_dynamodb_tables(link: RoleLink, region: str) -> list[Resource]:
    """Return every table in the region."""
    client = aws_client(link, "dynamodb", region)
    names = [name for page in client.get_paginator("list_tables").paginate() for name in page["TableNames"]]
    return [_resource(link, region, client.describe_table(TableName=name)["Table"]) for name in names]


@translate_errors("dynamodb")
def describe_dynamodb_table(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one table by ARN or name; raise NotFound when it is gone."""
    table = aws_client(link, "dynamodb", region).describe_table(TableName=last_part(identifier))["Table"]
    return _resource(link, region, table)
