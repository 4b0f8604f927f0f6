"""Fetches the schema of a running `credits serve` the way standard GraphQL clients do, and builds it.

graphql-core (the reference implementation's Python port, what gql and many code generators use) sends
its standard introspection query and builds a client schema from the answer; this check fails if the
service refuses that query, answers something graphql-core cannot build, or refuses a documented
maximum page with every field. On the built schema it checks the conventions clients rely on: the
custom scalars (`DateTime` with its `@specifiedBy` URL, `Credits`, `MinorUnits`, `ID`) where dates,
amounts and ids are; every mutation taking one `input` of an input type and answering a payload with
`userErrors { code field message }`; connections with Relay's `PageInfo`. Real documents (a balance
query with an `ID!` variable, a paged connection, admin mutations that succeed and that are refused)
are validated by graphql-core against the built schema, then run. It also checks GraphQL over HTTP
from a client's side: the `application/graphql-response+json` media type, GET for queries, 405 for a
mutation over GET.

Usage: graphql_client_check.py URL KEY ORGANISATION ADMIN_KEY
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    parse,
    print_schema,
    validate,
)

MEDIA_TYPE = "application/graphql-response+json"


def call(url, key, body=None, method="POST"):
    """Returns (status, content type, decoded JSON body)."""
    headers = {"Authorization": f"Bearer {key}", "Accept": f"{MEDIA_TYPE}, application/json;q=0.9"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type"), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), json.load(error)


def fail(message):
    print(f"graphql client check: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def every_leaf(object_type):
    """A selection of every field of `object_type` that takes no required argument, nested objects
    expanded (the schema has no cycles below a page's node)."""
    parts = []
    for name, field in object_type.fields.items():
        if any(isinstance(argument.type, GraphQLNonNull) for argument in field.args.values()):
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {every_leaf(named)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


DATE_TIME_SPECIFICATION = "https://scalars.graphql.org/andimarek/date-time"


def type_name(graphql_type):
    """The SDL spelling of a field's type, such as `[UserError!]!`."""
    return str(graphql_type)


def check_scalars(schema):
    """Dates, amounts and ids are custom scalars, not String; DateTime names its specification."""
    for name in ("DateTime", "Credits", "MinorUnits", "ID"):
        if not isinstance(schema.get_type(name), GraphQLScalarType):
            fail(f"scalar {name} is missing")
    specified = schema.get_type("DateTime").specified_by_url
    if specified != DATE_TIME_SPECIFICATION:
        fail(f"DateTime is specified by {specified!r}, not {DATE_TIME_SPECIFICATION}")
    expected = {
        ("CreditBalance", "organisationId"): "ID!",
        ("CreditBalance", "available"): "Credits!",
        ("CreditBalance", "asOf"): "DateTime!",
        ("Transaction", "id"): "ID!",
        ("Transaction", "credits"): "Credits!",
        ("Transaction", "money"): "Money!",
        ("Transaction", "effectiveAt"): "DateTime!",
        ("Money", "minorUnits"): "MinorUnits!",
        ("CreditPackage", "price"): "Money",
        ("Purchase", "amount"): "Money!",
        ("ConfigurationChange", "changedAt"): "DateTime!",
        ("UsageRow", "money"): "Money!",
        ("Organisation", "overdraftLimit"): "Credits!",
        ("Organisation", "configurationChanges"): "ConfigurationChangeConnection!",
    }
    for (owner, field), wanted in expected.items():
        got = type_name(schema.get_type(owner).fields[field].type)
        if got != wanted:
            fail(f"{owner}.{field} is {got}, not {wanted}")
    for field, argument, wanted in (
        ("creditBalance", "organisationId", "ID!"), ("transactions", "from", "DateTime"), ("usage", "to", "DateTime!"),
    ):
        got = type_name(schema.query_type.fields[field].args[argument].type)
        if got != wanted:
            fail(f"Query.{field}({argument}) is {got}, not {wanted}")


def check_mutations(schema):
    """Every mutation takes one `input: <X>Input!` and answers a payload carrying `userErrors`."""
    user_error = schema.get_type("UserError")
    if not isinstance(user_error, GraphQLObjectType):
        fail("type UserError is missing")
    shape = {name: type_name(field.type) for name, field in user_error.fields.items()}
    if shape != {"code": "UserErrorCode!", "field": "[String!]", "message": "String!"}:
        fail(f"UserError is {shape}")
    if not isinstance(schema.get_type("UserErrorCode"), GraphQLEnumType):
        fail("UserErrorCode is not an enum")
    for name, field in schema.mutation_type.fields.items():
        if list(field.args) != ["input"]:
            fail(f"Mutation.{name} takes {list(field.args)}, not one `input`")
        argument = field.args["input"].type
        if not (isinstance(argument, GraphQLNonNull) and isinstance(argument.of_type, GraphQLInputObjectType)):
            fail(f"Mutation.{name}(input) is {argument}, not a non-null input type")
        payload = get_named_type(field.type)
        errors = getattr(payload, "fields", {}).get("userErrors")
        if errors is None or type_name(errors.type) != "[UserError!]!":
            fail(f"Mutation.{name} answers {payload}, which carries no `userErrors: [UserError!]!`")


def check_connections(schema):
    """Every field paging with `first`/`after` is a Relay connection."""
    for named in schema.type_map.values():
        for name, field in getattr(named, "fields", {}).items():
            if "first" not in getattr(field, "args", {}):
                continue
            connection = get_named_type(field.type)
            fields = getattr(connection, "fields", {})
            if not connection.name.endswith("Connection") or set(fields) != {"edges", "pageInfo"}:
                fail(f"{named.name}.{name} pages but is not a connection")
            if "after" not in field.args:
                fail(f"{named.name}.{name} has `first` without `after`")


def run(schema, url, key, document, variables=None):
    """Validates `document` against the client's schema, then runs it; answers the `data`."""
    errors = validate(schema, parse(document))
    if errors:
        fail(f"graphql-core finds this document invalid: {document}: {errors}")
    status, _, answer = call(url, key, {"query": document, "variables": variables or {}})
    if status != 200 or "errors" in answer:
        fail(f"{document} answered {status} {answer}")
    return answer["data"]


def check_documents(schema, url, key, organisation, admin):
    """Real documents, as a client writes them, validated by graphql-core, then run."""
    balance = "query Balance($org: ID!) { creditBalance(organisationId: $org) { available spendable asOf } }"
    data = run(schema, url, key, balance, {"org": organisation})["creditBalance"]
    if not data["asOf"].endswith("Z"):
        fail(f"asOf is not UTC: {data}")

    allocate = (
        "mutation Allocate($input: CreditPostingInput!) { allocateCredits(input: $input) "
        "{ transaction { id credits money { minorUnits currency } effectiveAt } userErrors { code field message } } }"
    )
    for index, credits in enumerate(("12.5", "30")):
        posted = run(schema, url, admin, allocate, {"input": {
            "organisationId": organisation, "credits": credits, "idempotencyKey": f"check-{index}",
            "priceMinorUnits": "1250", "memo": "client check"}})["allocateCredits"]
        if posted["userErrors"] or posted["transaction"]["credits"] != credits:
            fail(f"allocateCredits {credits}: {posted}")
    refused = run(schema, url, admin, allocate, {"input": {
        "organisationId": "no-such-organisation", "credits": "1", "idempotencyKey": "check-x",
        "memo": "client check"}})["allocateCredits"]
    if refused != {"transaction": None, "userErrors": [{
            "code": "organisationNotFound", "field": ["input", "organisationId"], "message": "Organisation not found."}]}:
        fail(f"an unknown organisation answered {refused}")

    # A float is not credits: refused while coercing the variable, with extensions.code.
    status, _, answer = call(url, admin, {"query": allocate, "variables": {"input": {
        "organisationId": organisation, "credits": 1.5, "idempotencyKey": "check-float"}}})
    codes = [error.get("extensions", {}).get("code") for error in answer.get("errors", [])]
    if "data" in answer and answer["data"] is not None or codes != ["BAD_USER_INPUT"]:
        fail(f"credits as a float answered {status} {answer}")

    # Paging a connection with its opaque cursors.
    page = (
        "query Page($org: ID!, $after: String) { transactions(organisationId: $org, first: 1, after: $after) "
        "{ edges { cursor node { credits } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    seen, after = [], None
    while True:
        connection = run(schema, url, key, page, {"org": organisation, "after": after})["transactions"]
        seen += [edge["node"]["credits"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    if seen[-2:] != ["12.5", "30"]:
        fail(f"paging transactions gave {seen}")


def main():
    url, key, organisation, admin = sys.argv[1:5]
    status, content_type, answer = call(url, key, {"query": get_introspection_query(descriptions=True, specified_by_url=True)})
    if status != 200 or "errors" in answer:
        fail(f"the standard introspection query was refused: {status} {answer}")
    if not (content_type or "").startswith(MEDIA_TYPE):
        fail(f"asked for {MEDIA_TYPE}, got {content_type}")
    schema = build_client_schema(answer["data"])
    printed = print_schema(schema)
    query_type = schema.query_type
    for field in ("creditBalance", "transactions", "organisation", "usage"):
        if field not in query_type.fields:
            fail(f"Query.{field} is missing from the built schema")

    # Every type, field, argument and enum value is described.
    undescribed = []
    for name, named_type in schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not named_type.description:
            undescribed.append(name)
        for field_name, field in getattr(named_type, "fields", {}).items():
            if not field.description:
                undescribed.append(f"{name}.{field_name}")
            for argument_name, argument in getattr(field, "args", {}).items():
                if not argument.description:
                    undescribed.append(f"{name}.{field_name}({argument_name})")
        for value_name, value in getattr(named_type, "values", {}).items():
            if not value.description:
                undescribed.append(f"{name}.{value_name}")
    if undescribed:
        fail(f"undescribed in the schema: {', '.join(undescribed)}")
    check_scalars(schema)
    check_mutations(schema)
    check_connections(schema)

    # The documented maximum page, every field selected, validated by graphql-core against the built
    # schema, then run.
    transaction = schema.get_type("Transaction")
    page = (
        f'{{ transactions(organisationId: "{organisation}", first: 100) '
        f"{{ edges {{ cursor node {{ {every_leaf(transaction)} }} }} pageInfo {{ {every_leaf(schema.get_type('PageInfo'))} }} }} }}"
    )
    errors = validate(schema, parse(page))
    if errors:
        fail(f"graphql-core finds the page query invalid: {errors}")
    status, _, answer = call(url, key, {"query": page})
    if status != 200 or "errors" in answer:
        fail(f"a page of 100 with every field was refused: {status} {answer}")

    # GET for queries; a mutation over GET is 405 with Allow: POST.
    query = urllib.parse.urlencode({"query": "{ health }"})
    status, _, answer = call(f"{url}?{query}", key, method="GET")
    if status != 200 or answer != {"data": {"health": "ok"}}:
        fail(f"GET {{ health }}: {status} {answer}")
    mutation = (
        'mutation { purchaseCreditPackage(input: {organisationId: "x", packageId: "p", idempotencyKey: "k"}) '
        "{ purchase { reference } userErrors { code } } }"
    )
    status, _, answer = call(f"{url}?{urllib.parse.urlencode({'query': mutation})}", key, method="GET")
    if status != 405:
        fail(f"a mutation over GET answered {status} {answer}, not 405")

    # A document that fails validation: 422 with errors and no data under graphql-response+json.
    status, _, answer = call(url, key, {"query": "{ noSuchField }"})
    if status != 422 or "data" in answer or not answer.get("errors"):
        fail(f"an invalid document answered {status} {answer}")

    check_documents(schema, url, key, organisation, admin)

    types = len([name for name in schema.type_map if not name.startswith("__")])
    print(f"graphql client check: ok (graphql-core built {types} types, {len(printed.splitlines())} lines of SDL)")


if __name__ == "__main__":
    main()
