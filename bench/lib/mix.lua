-- bench/lib/mix.lua: a read/write mix (BENCH_WRITE_PCT percent writes, default 5).
--
-- Reads (no token, all cacheable, X-Cache counted):
--   50% GET /api/users/{id}            id of an existing user drawn by Zipf(s), see zipf.lua
--   20% GET /api/analytics/users/stats
--   20% GET /api/analytics/leaderboard?limit=10
--   10% GET /api/analytics/missions/stats
-- Writes (admin Bearer BENCH_TOKEN, on the write pool: users no read above targets, whose
-- only progress row when the run starts is mission 13 -- bench/run.sh resets them before
-- every run):
--   40% POST /api/users/{id}/missions/ {"mission_id": m}    m in 1..6, expect 201
--   40% POST /api/users/{id}/missions/{m}/complete?score=S   m in 7..12, expect 200
--   20% PUT  /api/users/{id} {"full_name": "..."}             expect 200
-- Every (user, mission) pair is written at most once: in run r (BENCH_RUN of BENCH_RUNS)
-- thread t owns the pool users at positions k where k mod (T*R) = t + T*(r-1), T threads,
-- R runs: the runs never share a user, so a write of the previous run still in flight in
-- the pool when this one starts (wrk stops waiting, the responders do not) cannot collide
-- with this run's. Its n-th start goes to user n/6 of its slice, mission n%6+1, its n-th
-- completion to user n/6, mission 7+n%6. Starting and completing never share a pair, so
-- concurrent connections cannot race into a 409. A thread that runs out of pairs sends
-- updates instead and says so (note pool_exhausted).
-- Statuses: 200 and 201 count; 409 (mission already started/completed) is tolerated and
-- reported, never counted as throughput; anything else fails the run.
-- Environment: BENCH_IDS, BENCH_WRITE_IDS, BENCH_WRITE_PCT, BENCH_TOKEN, BENCH_THREADS,
-- BENCH_RUN, BENCH_RUNS, BENCH_SEED, BENCH_ZIPF_S, BENCH_ZIPF_SAMPLES.
package.path = os.getenv("BENCH_LIB") .. "/?.lua;" .. package.path
local common = require("common")
local zipf = require("zipf")

local write_pct, users_seq, upos, slice, nstart, ncomplete, nupdate
local read_hdrs, json_hdrs, auth_hdrs
local STATS = "/api/analytics/users/stats"
local LEADERBOARD = "/api/analytics/leaderboard?limit=10"
local MISSIONS = "/api/analytics/missions/stats"

function setup(thread)
    common.setup(thread)
end

function init(_args)
    common.init()
    local seed = tonumber(common.env("BENCH_SEED", "9")) + tid
    write_pct = tonumber(common.env("BENCH_WRITE_PCT", "5"))
    users_seq = zipf.sequence(zipf.load_ranges(common.env("BENCH_IDS", nil)),
        tonumber(common.env("BENCH_ZIPF_S", "1.0")),
        tonumber(common.env("BENCH_ZIPF_SAMPLES", "100000")), seed)
    upos = 0
    local pool = zipf.load_ids(common.env("BENCH_WRITE_IDS", nil))
    local nthreads = tonumber(common.env("BENCH_THREADS", "1"))
    local run, runs = tonumber(common.env("BENCH_RUN", "1")), tonumber(common.env("BENCH_RUNS", "1"))
    slice = {}
    for j = tid + nthreads * (run - 1) + 1, #pool, nthreads * runs do
        slice[#slice + 1] = pool[j]
    end
    nstart, ncomplete, nupdate = 0, 0, 0
    local token = common.env("BENCH_TOKEN", "")
    read_hdrs = {}
    auth_hdrs = {["Authorization"] = "Bearer " .. token}
    json_hdrs = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
    math.randomseed(seed * 7919) -- the read/write choices, after zipf's draws
end

local function update()
    local id = slice[nupdate % #slice + 1]
    nupdate = nupdate + 1
    common.note("sent_write_update")
    return wrk.format("PUT", "/api/users/" .. id, json_hdrs,
        string.format('{"full_name":"Bench %d-%d"}', tid, nupdate))
end

local function write()
    local r = math.random(100)
    if r <= 40 then
        local u = math.floor(nstart / 6) + 1
        if u > #slice then
            common.note("pool_exhausted")
            return update()
        end
        local m = nstart % 6 + 1
        nstart = nstart + 1
        common.note("sent_write_start")
        return wrk.format("POST", "/api/users/" .. slice[u] .. "/missions/", json_hdrs,
            string.format('{"mission_id":%d}', m))
    elseif r <= 80 then
        local u = math.floor(ncomplete / 6) + 1
        if u > #slice then
            common.note("pool_exhausted")
            return update()
        end
        local m = 7 + ncomplete % 6
        ncomplete = ncomplete + 1
        common.note("sent_write_complete")
        return wrk.format("POST", string.format("/api/users/%d/missions/%d/complete?score=%d",
            slice[u], m, 40 + ncomplete % 61), auth_hdrs, "")
    end
    return update()
end

local function read()
    local r = math.random(100)
    if r <= 50 then
        upos = upos % #users_seq + 1
        common.note("sent_read_user")
        return wrk.format("GET", "/api/users/" .. users_seq[upos], read_hdrs)
    elseif r <= 70 then
        common.note("sent_read_stats")
        return wrk.format("GET", STATS, read_hdrs)
    elseif r <= 90 then
        common.note("sent_read_leaderboard")
        return wrk.format("GET", LEADERBOARD, read_hdrs)
    end
    common.note("sent_read_missions")
    return wrk.format("GET", MISSIONS, read_hdrs)
end

function request()
    if math.random() * 100 < write_pct then
        return write()
    end
    return read()
end

-- Cacheable GETs always carry X-Cache, write answers never do: that tells the kinds apart
-- (wrk does not say which request a response answers).
function response(status, headers, _body)
    local kind = "write"
    if headers["X-Cache"] or headers["x-cache"] then
        kind = "read"
    end
    common.count(status, headers, kind)
end

function done(summary, latency, requests)
    common.done(summary, latency, requests)
end
