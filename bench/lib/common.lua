-- bench/lib/common.lua: what every wrk scenario script of bench/run.sh shares.
--
-- Owns: counting every response by status (and by X-Cache value, and by kind for the
-- mixes) in each wrk thread, aggregating the threads in done(), deciding pass/fail, and
-- writing one JSON result file. Throughput counts ONLY the expected statuses: any other
-- status, any socket error or timeout, or an X-Cache value the scenario forbids makes the
-- run fail (bench/run.sh turns that into a loud message and a non-zero exit).
--
-- Environment (set by bench/run.sh for one wrk invocation):
--   BENCH_OUT      result file (JSON)                       required
--   BENCH_EXPECT   statuses that count, e.g. "200" or "200,201"     [200]
--   BENCH_TOLERATE statuses that are correct answers but not throughput, e.g. "409"  [none]
--   BENCH_XCACHE   if set, the only X-Cache value allowed (e.g. BYPASS)             [none]
--   BENCH_THREADS  wrk -t (thread ids are 0..BENCH_THREADS-1)
-- wrk's own "Non-2xx" line is not used: it would count a 304 as an error and a 429 as
-- nothing in particular.
local M = {}

local threads = {}

function M.env(name, default)
    local v = os.getenv(name)
    if v == nil or v == "" then
        return default
    end
    return v
end

local function set_of(list)
    local s = {}
    for x in string.gmatch(list or "", "[^,%s]+") do
        s[tonumber(x) or x] = true
    end
    return s
end

-- setup(thread) runs in wrk's main Lua state, once per thread, before that thread's init.
function M.setup(thread)
    thread:set("tid", #threads)
    threads[#threads + 1] = thread
end

-- Per-thread state (globals of the thread's Lua state, read back by done()).
function M.init()
    statuses = {}
    xcache = {}
    kinds = {}
    notes = {}
end

local function header(headers, name)
    return headers[name] or headers[string.lower(name)]
end

-- count(status, headers[, kind]): one response. Returns the X-Cache value (or nil).
function M.count(status, headers, kind)
    statuses[status] = (statuses[status] or 0) + 1
    local x = header(headers, "X-Cache")
    if x then
        xcache[x] = (xcache[x] or 0) + 1
    end
    if kind then
        local k = kind .. ":" .. status
        kinds[k] = (kinds[k] or 0) + 1
    end
    return x
end

-- note(name[, n]): a per-thread counter for the result (requests sent per kind, ...).
function M.note(name, n)
    notes[name] = (notes[name] or 0) + (n or 1)
end

-- ---- JSON (flat enough for our results: tables of numbers, strings, booleans) ----------

local function json_string(s)
    return '"' .. string.gsub(s, '[%c"\\]', function(c)
        return string.format("\\u%04x", string.byte(c))
    end) .. '"'
end

local function json(v)
    local t = type(v)
    if t == "table" then
        local parts, is_array = {}, #v > 0
        if is_array then
            for _, x in ipairs(v) do
                parts[#parts + 1] = json(x)
            end
            return "[" .. table.concat(parts, ",") .. "]"
        end
        local keys = {}
        for k in pairs(v) do
            keys[#keys + 1] = tostring(k)
        end
        table.sort(keys)
        for _, k in ipairs(keys) do
            local x = v[k]
            if x == nil then
                x = v[tonumber(k)]
            end
            parts[#parts + 1] = json_string(k) .. ":" .. json(x)
        end
        return "{" .. table.concat(parts, ",") .. "}"
    elseif t == "number" then
        if v ~= v or v == math.huge or v == -math.huge then
            return "null"
        end
        if v == math.floor(v) and math.abs(v) < 1e15 then
            return string.format("%d", v)
        end
        return string.format("%.6g", v)
    elseif t == "boolean" then
        return tostring(v)
    elseif t == "string" then
        return json_string(v)
    end
    return "null"
end
M.json = json

local function add_into(dst, src)
    for k, n in pairs(src or {}) do
        dst[k] = (dst[k] or 0) + n
    end
end

local function sorted_counts(t)
    local keys, parts = {}, {}
    for k in pairs(t) do
        keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
        parts[#parts + 1] = tostring(k) .. "=" .. t[k]
    end
    return table.concat(parts, " ")
end

-- done(summary, latency, requests): aggregate the threads, decide, write BENCH_OUT.
function M.done(summary, latency, _requests)
    local expect = set_of(M.env("BENCH_EXPECT", "200"))
    local tolerate = set_of(M.env("BENCH_TOLERATE", ""))
    local only_xcache = M.env("BENCH_XCACHE", nil)
    local st, xc, kd, nt = {}, {}, {}, {}

    for _, t in ipairs(threads) do
        add_into(st, t:get("statuses"))
        add_into(xc, t:get("xcache"))
        add_into(kd, t:get("kinds"))
        add_into(nt, t:get("notes"))
    end

    local good, tolerated, wrong = 0, 0, 0
    local status_json = {}
    for s, n in pairs(st) do
        status_json[tostring(s)] = n
        if expect[s] then
            good = good + n
        elseif tolerate[s] then
            tolerated = tolerated + n
        else
            wrong = wrong + n
        end
    end
    local e = summary.errors
    local socket_errors = e.connect + e.read + e.write + e.timeout
    local xcache_wrong = 0
    if only_xcache then
        for v, n in pairs(xc) do
            if v ~= only_xcache then
                xcache_wrong = xcache_wrong + n
            end
        end
    end
    local reads = 0
    for _, n in pairs(xc) do
        reads = reads + n
    end
    local secs = summary.duration / 1e6

    local problems = {}
    if wrong > 0 then
        problems[#problems + 1] = string.format("%d responses with a status other than %s",
            wrong, M.env("BENCH_EXPECT", "200"))
    end
    if socket_errors > 0 then
        problems[#problems + 1] = string.format(
            "socket errors: connect=%d read=%d write=%d timeout=%d",
            e.connect, e.read, e.write, e.timeout)
    end
    if xcache_wrong > 0 then
        problems[#problems + 1] = string.format("%d responses with X-Cache other than %s",
            xcache_wrong, only_xcache)
    end
    if good == 0 then
        problems[#problems + 1] = "no response with an expected status"
    end

    local result = {
        pass = #problems == 0,
        problem = table.concat(problems, "; "),
        message = "statuses: " .. sorted_counts(st) .. (next(xc) and ("; X-Cache: " ..
            sorted_counts(xc)) or ""),
        statuses = status_json,
        xcache = xc,
        kinds = kd,
        notes = nt,
        good = good,
        tolerated = tolerated,
        wrong = wrong,
        responses = summary.requests,
        errors = {connect = e.connect, read = e.read, write = e.write, timeout = e.timeout,
                  status = e.status},
        duration_s = secs,
        rps = good / secs,
        hit_rate = reads > 0 and (xc["HIT"] or 0) / reads or nil,
        latency_ms = {
            p50 = latency:percentile(50) / 1000,
            p90 = latency:percentile(90) / 1000,
            p99 = latency:percentile(99) / 1000,
            p999 = latency:percentile(99.9) / 1000,
            max = latency.max / 1000,
            mean = latency.mean / 1000,
        },
        threads = #threads,
    }
    local out = M.env("BENCH_OUT", nil)
    if out then
        local f = assert(io.open(out, "w"))
        f:write(json(result), "\n")
        f:close()
    end
    io.write(string.format("[bench]   %s  %.0f req/s (expected statuses only), p50 %.2f ms, p99 %.2f ms%s\n",
        result.pass and "ok  " or "FAIL", result.rps, result.latency_ms.p50, result.latency_ms.p99,
        result.pass and "" or ("  -- " .. table.concat(problems, "; "))))
    io.write("[bench]         ", result.message, "\n")
end

-- install(): wrk's setup, response and done globals, wired to this module, for a script
-- whose responses need no classifying (every script but the mix). One place defines how a
-- scenario counts, so no script can forget to look at the status.
function M.install()
    setup = function(thread) M.setup(thread) end
    response = function(status, headers, _body) M.count(status, headers) end
    done = function(summary, latency, requests) M.done(summary, latency, requests) end
end

return M
