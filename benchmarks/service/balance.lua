-- wrk script: the GraphQL balance query with an organisation's bearer key (CREDITS_KEY).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CREDITS_KEY")
wrk.body = '{"query":"query Balance($org: ID!) { creditBalance(organisationId: $org) { available spendable currency } }","variables":{"org":"met-police"}}'
