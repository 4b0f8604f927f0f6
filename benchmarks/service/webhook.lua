-- wrk script: POST /webhooks/revolut with pre-signed ORDER_COMPLETED deliveries (sign_webhooks.py),
-- read from $WEBHOOKS_FILE, every delivery a new order: each one is verified, fetched from the Revolut
-- stub and credited once.
-- Each thread sends its own block of lines, so no two threads send the same order. `thread_index` is a
-- global because wrk's thread:set() writes globals (a local would shadow it); the thread count comes from
-- $WRK_THREADS because wrk starts each thread before it has set up the next one.
local deliveries = {}
local threads = 0
local next_index = 0
local last_index = 0

function setup(thread)
    thread:set("thread_index", threads)
    threads = threads + 1
end

function init(args)
    for line in io.lines(os.getenv("WEBHOOKS_FILE")) do
        local timestamp, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
        deliveries[#deliveries + 1] = { timestamp, signature, body }
    end
    local block = math.floor(#deliveries / tonumber(os.getenv("WRK_THREADS")))
    next_index = thread_index * block + 1
    last_index = next_index + block - 1
end

function request()
    local delivery = deliveries[math.min(next_index, last_index)]
    next_index = next_index + 1 -- past the block: the last one again (a duplicate, answered 204, credited once)
    return wrk.format("POST", "/webhooks/revolut", {
        ["Content-Type"] = "application/json",
        ["Revolut-Request-Timestamp"] = delivery[1],
        ["Revolut-Signature"] = delivery[2],
    }, delivery[3])
end
