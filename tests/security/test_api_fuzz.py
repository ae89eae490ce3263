"""Scenario 8: schemathesis against the API schema, as each persona, with every check.

Every operation of ``/api/schema/`` is called with generated requests (valid and invalid bodies, parameters and
headers) through the WSGI application, authenticated with an API token of the persona. Every check schemathesis
has runs, plus ours: no server error, every answer conforms to the schema (status, content type, headers, body),
invalid data is refused, and every refusal names the field it refuses.

One expectation is stated, not left at schemathesis's default: data the schema allows may still break a rule the
schema cannot state (a slug that names no organization, an air time in the past, an end before its start).
Those answers are a 400 that names the field (``refusal_names_a_field``); ``positive_data_acceptance`` therefore
expects 400 among its statuses, and the figure printed is how much schema-valid data was accepted.

CI runs every phase with ``SCHEMATHESIS_EXAMPLES`` (default 100) generated examples per operation for the
engineer, who reaches every operation of every organization, and the fuzzing phase alone with a tenth of that for
the owner, the member, the outsider and the anonymous caller, whose answers are mostly refusals. The nightly run
(``NIGHTLY=1 pytest tests/security/test_api_fuzz.py -s``) gives all five personas every phase and the full count.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.models import ApiToken
from tests.conftest import PERSONA_NAMES
from tests.tenancy_matrix import make_event, make_stack

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "100"))
NIGHTLY = os.environ.get("NIGHTLY") == "1"
# The engineer reaches every operation of every organization: every phase, the full count.
FULL = {"engineer"}
OTHERS = sorted(set(PERSONA_NAMES) - FULL)
CHECKS = {
    # Schema-valid data may break a rule the schema cannot state: a 400, which must name the field.
    "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]},
}


def _load_schema(*, coverage: bool) -> schemathesis.BaseSchema:
    """The schema ``/api/schema/`` serves, generated in process (JSON round trip: what a client would read)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    config = {"checks": CHECKS, "phases": {"coverage": {"enabled": coverage}}}
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(document)), config=schemathesis.Config.from_dict(config)
    )
    loaded.app = get_wsgi_application()
    return loaded


def _scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _on_the_wire_as_generated(value, *, array: bool) -> bool:
    """Whether a query value reaches the API as what was generated.

    A query string has no encoding for an object (schemathesis sends its Python repr, one valid string), an empty
    list sends nothing, and a one-item list is the same bytes as its item: the API would rightly take them as
    valid, and the check would count negative data accepted.
    """
    if isinstance(value, list):
        return all(_scalar(item) for item in value) and (len(value) > 1 or (array and len(value) == 1))
    return _scalar(value)


@schemathesis.check
def refusal_names_a_field(ctx, response, case):
    """A 400 is our error format and says which field (or which rule across fields) it refuses."""
    if response.status_code != 400:
        return None
    body = response.json()
    if not body.get("errors"):
        raise AssertionError(f"400 without the field it refuses: {body}")
    return None


schema = _load_schema(coverage=True)
others_schema = _load_schema(coverage=NIGHTLY)
AUTHORIZATION = "Authorization"
PLACEHOLDER = "persona-token"


def filter_query(context, query):
    """Leave out query values that a query string cannot carry as generated (see ``_on_the_wire_as_generated``)."""
    arrays = {
        parameter.name
        for parameter in context.operation.query
        if parameter.definition.get("schema", {}).get("type") == "array"
    }
    return all(_on_the_wire_as_generated(value, array=name in arrays) for name, value in (query or {}).items())


class PersonaToken:
    """Declare the credentials as supplied, so that schemathesis does not generate (or mutate) its own.

    Examples are generated before the test's fixtures exist; ``_fuzz`` puts the persona's token in at call time.
    """

    def get(self, case, context):
        return PLACEHOLDER

    def set(self, case, data, context):
        case.headers[AUTHORIZATION] = data


for loaded in (schema, others_schema):
    loaded.hook(filter_query)
    loaded.auth(refresh_interval=None)(PersonaToken)


# (persona, operation) -> Counter of status codes, printed at the end of the module.
answered: defaultdict[tuple[str, str], Counter[int]] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _print_figures():
    yield
    if not answered:
        return
    by_persona: defaultdict[str, Counter[int]] = defaultdict(Counter)
    for (persona, _operation), counter in answered.items():
        by_persona[persona].update(counter)
    total = sum(sum(counter.values()) for counter in by_persona.values())
    errors = sum(n for counter in by_persona.values() for code, n in counter.items() if code >= 500)
    operations = len({operation for _persona, operation in answered})
    print(f"\nscenario 8: {total} requests over {operations} operations; server errors {errors}")
    for persona, counter in sorted(by_persona.items()):
        print(f"  {persona:<10} {sum(counter.values()):>6} answers {dict(sorted(counter.items()))}")


@pytest.fixture
def fuzz_world(personas, settings):
    """Each persona's token, and a little of everything so that generated ids sometimes find a real object."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis's WSGI client's host
    tokens = {}
    for name in PERSONA_NAMES:
        user = personas.by_name(name)
        if user is None:
            continue
        raw, key_id, key_hash = ApiToken.generate()
        ApiToken.objects.create(user=user, name="schemathesis", key_id=key_id, key_hash=key_hash)
        tokens[name] = raw
    for organization in (personas.organization, personas.other_organization):
        make_event(organization, stack=make_stack(organization))
    # schemathesis calls the WSGI application itself: keep the test's connection (and its transaction) open
    # across requests, as Django's test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield tokens
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _fuzz(case, persona: str, tokens: dict[str, str]) -> None:
    if persona in tokens:
        case.headers[AUTHORIZATION] = f"Bearer {tokens[persona]}"
    else:
        case.headers.pop(AUTHORIZATION, None)
    # Throttling answers 429 (documented); clear it so that each example reaches the view.
    cache.clear()
    response = case.call_and_validate()
    answered[(persona, case.operation.label)][response.status_code] += 1


SETTINGS = {
    # The same examples on every run and machine: a failure in CI is a failure on a developer's machine.
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(FULL))
@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, **SETTINGS)
def test_every_operation_answers_as_documented(case, persona, fuzz_world):
    _fuzz(case, persona, fuzz_world)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", OTHERS)
@others_schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES if NIGHTLY else max(EXAMPLES // 10, 5), **SETTINGS)
def test_every_operation_answers_as_documented_to_the_others(case, persona, fuzz_world):
    _fuzz(case, persona, fuzz_world)
