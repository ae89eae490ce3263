"""translate_errors maps botocore's failures to the project's exceptions (answers given by botocore's Stubber)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from cloud.client import provider_client, translate_errors
from cloud.exceptions import (
    AccessDenied,
    CloudError,
    InvalidRequest,
    NotFound,
    PermanentCloudError,
    TransientCloudError,
)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDenied", 403, AccessDenied),
        ("AccessDeniedException", 400, AccessDenied),
        ("UnauthorizedOperation", 403, AccessDenied),
        ("UnrecognizedClientException", 400, AccessDenied),
        ("InvalidClientTokenId", 403, AccessDenied),
        ("Throttling", 400, TransientCloudError),
        ("ThrottlingException", 400, TransientCloudError),
        ("RequestLimitExceeded", 503, TransientCloudError),
        ("TooManyRequestsException", 429, TransientCloudError),
        ("ServiceUnavailable", 503, TransientCloudError),
        ("InternalError", 500, TransientCloudError),
        ("SomethingNewAndBroken", 502, TransientCloudError),
        ("ResourceNotFoundException", 400, NotFound),
        ("DBInstanceNotFoundFault", 404, NotFound),
        ("ReplicationGroupNotFoundFault", 404, NotFound),
        ("NoSuchEntity", 404, NotFound),
        ("ValidationError", 400, InvalidRequest),
        ("InvalidParameterValue", 400, InvalidRequest),
        ("InvalidParameterCombination", 400, InvalidRequest),
        ("LimitExceeded", 400, PermanentCloudError),
    ],
)
def test_client_error_codes_map_to_the_project_exceptions(code, status, expected):
    autoscaling = provider_client("autoscaling")
    with Stubber(autoscaling) as stub:
        stub.add_client_error(
            "describe_auto_scaling_groups",
            service_error_code=code,
            service_message="AWS said no",
            http_status_code=status,
        )
        with pytest.raises(CloudError) as raised, translate_errors("autoscaling"):
            autoscaling.describe_auto_scaling_groups()

    assert type(raised.value) is expected
    assert raised.value.code == code
    assert "DescribeAutoScalingGroups" in raised.value.message
    assert isinstance(raised.value.__cause__, Exception)


def test_access_denied_names_the_iam_action_to_allow():
    elbv2 = provider_client("elbv2")
    with Stubber(elbv2) as stub:
        stub.add_client_error("describe_load_balancers", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AccessDenied) as raised, translate_errors("elbv2"):
            elbv2.describe_load_balancers()

    assert "elasticloadbalancing:DescribeLoadBalancers" in raised.value.message


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://rds.eu-west-3.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://rds.eu-west-3.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://rds.eu-west-3.amazonaws.com"),
    ],
    ids=["endpoint-connection", "connect-timeout", "read-timeout"],
)
def test_connection_failures_are_transient(error):
    with pytest.raises(TransientCloudError) as raised, translate_errors("rds", "DescribeDBInstances"):
        raise error

    assert "rds DescribeDBInstances" in raised.value.message
    assert raised.value.code == ""


def test_works_as_a_decorator_and_leaves_other_exceptions_alone():
    @translate_errors("dynamodb")
    def broken() -> None:
        raise KeyError("not botocore's")

    with pytest.raises(KeyError):
        broken()


def test_project_exceptions_pass_through_unchanged():
    original = NotFound("Gone.", code="NoSuchThing")
    with pytest.raises(NotFound) as raised, translate_errors("rds"):
        raise original

    assert raised.value is original
