-- wrk script: POST /v1/usage with a unique event id per request (thread id + counter), so every
-- request records and charges one new cost event through the credit gate.
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"event_id":"bench-%d-%d-%d","organisation_id":"met-police","team":"cyber-crime",'
            .. '"investigation":"op-kestrel","operation":"ocr","credits":"0.5","occurred_at":"2026-11-24T10:00:00Z"}',
        os.time(), thread_id, counter)
    return wrk.format("POST", "/v1/usage", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. os.getenv("CREDITS_KEY"),
    }, body)
end
