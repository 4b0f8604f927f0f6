-- wrk script: POST /v1/usage with a unique event id per request (run start, thread, counter), so every
-- request records and charges one new cost event through the credit gate.
-- `thread_id` is a global on purpose: wrk's thread:set() writes globals, which a local would shadow
-- (an earlier version did that, so both threads sent the same ids and half the requests were duplicates).
local counter = 0
local threads = 0
local run_id = os.time()
-- Set apart the ids of several wrk processes started in the same second (benchmarks/service/replicas.sh).
local prefix = os.getenv("WRK_EVENT_PREFIX") or ""

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"event_id":"bench-%s%d-%d-%d","organisation_id":"met-police","team":"cyber-crime",'
            .. '"investigation":"op-kestrel","operation":"ocr","credits":"0.5","occurred_at":"2026-11-24T10:00:00Z"}',
        prefix, run_id, thread_id, counter)
    return wrk.format("POST", "/v1/usage", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. os.getenv("CREDITS_KEY"),
    }, body)
end
