"""Fetches the schema of a running `credits serve` the way standard GraphQL clients do, and builds it.

graphql-core (the reference implementation's Python port, what gql and many code generators use) sends
its standard introspection query and builds a client schema from the answer; this check fails if the
service refuses that query, answers something graphql-core cannot build, or refuses a documented
maximum page with every field. It also checks GraphQL over HTTP from a client's side: the
`application/graphql-response+json` media type, GET for queries, 405 for a mutation over GET.

Usage: graphql_client_check.py URL KEY ORGANISATION
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
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


def main():
    url, key, organisation = sys.argv[1:4]
    status, content_type, answer = call(url, key, {"query": get_introspection_query(descriptions=True)})
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
    mutation = 'mutation { purchaseCreditPackage(organisationId: "x", packageId: "p", idempotencyKey: "k") { reference } }'
    status, _, answer = call(f"{url}?{urllib.parse.urlencode({'query': mutation})}", key, method="GET")
    if status != 405:
        fail(f"a mutation over GET answered {status} {answer}, not 405")

    # A document that fails validation: 422 with errors and no data under graphql-response+json.
    status, _, answer = call(url, key, {"query": "{ noSuchField }"})
    if status != 422 or "data" in answer or not answer.get("errors"):
        fail(f"an invalid document answered {status} {answer}")

    types = len([name for name in schema.type_map if not name.startswith("__")])
    print(f"graphql client check: ok (graphql-core built {types} types, {len(printed.splitlines())} lines of SDL)")


if __name__ == "__main__":
    main()
