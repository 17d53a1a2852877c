-- bench/lib/user_zipf.lua: GET /api/users/{id}, ids of existing users drawn by Zipf(s).
-- Environment: BENCH_IDS (ranges "first last", one a line), BENCH_ZIPF_S [1.0], BENCH_ZIPF_SAMPLES [100000],
-- BENCH_SEED [9]; each thread draws its own sequence (seed + thread id) and cycles it.
package.path = os.getenv("BENCH_LIB") .. "/?.lua;" .. package.path
local common = require("common")
common.install() -- setup, response (counts every status), done
local zipf = require("zipf")

local seq, pos

function init(_args)
    common.init()
    local ids = zipf.load_ranges(common.env("BENCH_IDS", nil))
    seq = zipf.sequence(ids, tonumber(common.env("BENCH_ZIPF_S", "1.0")),
        tonumber(common.env("BENCH_ZIPF_SAMPLES", "100000")),
        tonumber(common.env("BENCH_SEED", "9")) + tid)
    for i = 1, #seq do
        seq[i] = wrk.format("GET", "/api/users/" .. seq[i])
    end
    pos = 0
end

function request()
    pos = pos % #seq + 1
    return seq[pos]
end
