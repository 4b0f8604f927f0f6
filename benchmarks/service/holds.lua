-- wrk script: hold create + settle pairs (issue 18). Each connection alternates: POST /v1/holds with a
-- new idempotency key, then POST /v1/holds/{id}/settle of the id that answer gave, with a settlement of
-- 0.4 for an estimate of 0.5 (below the estimate: the rest is released by the settlement).
-- wrk calls request() per connection without saying which, so settles wait in a per-thread queue of
-- created holds: a request settles the oldest created hold when there is one, else creates one. Every
-- create is eventually settled, except at most one per connection when the run stops. `done()` prints
-- the counts by status, so pairs per second = settled / duration.
local counter = 0
local threads = {}
local run_id = os.time()
local created = {}
local first = 1
local last = 0

function setup(thread)
    thread:set("thread_id", #threads)
    table.insert(threads, thread)
end

function init(args)
    created_count, settled_count, other_count = 0, 0, 0
end

function request()
    local key = "Bearer " .. os.getenv("CREDITS_KEY")
    if first <= last then
        local id = created[first]
        created[first] = nil
        first = first + 1
        return wrk.format("POST", "/v1/holds/" .. id .. "/settle",
            {["Content-Type"] = "application/json", ["Authorization"] = key}, '{"credits":"0.4"}')
    end
    counter = counter + 1
    local body = string.format(
        '{"organisation_id":"met-police","team":"cyber-crime","investigation":"op-kestrel","operation":"ocr",'
            .. '"credits":"0.5","idempotency_key":"bench-%d-%d-%d","expires_in_seconds":600}',
        run_id, thread_id, counter)
    return wrk.format("POST", "/v1/holds", {["Content-Type"] = "application/json", ["Authorization"] = key}, body)
end

function response(status, headers, body)
    local id = body:match('"hold_id"%s*:%s*(%d+)')
    if status == 201 and id and not body:match('"status"%s*:%s*"settled"') then
        last = last + 1
        created[last] = id
        created_count = created_count + 1
    elseif status == 201 then
        settled_count = settled_count + 1
    else
        other_count = other_count + 1
    end
end

function done(summary, latency, requests)
    local created_total, settled_total, other_total = 0, 0, 0
    for _, thread in ipairs(threads) do
        created_total = created_total + thread:get("created_count")
        settled_total = settled_total + thread:get("settled_count")
        other_total = other_total + thread:get("other_count")
    end
    local seconds = summary.duration / 1e6
    io.write(string.format("holds created %d, settled %d, other answers %d; %.1f pairs/s\n",
        created_total, settled_total, other_total, settled_total / seconds))
end
