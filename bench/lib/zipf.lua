-- bench/lib/zipf.lua: a Zipf-distributed sequence of existing ids, reproducible.
--
-- Owns: reading the id list bench/run.sh wrote, and drawing ranks from Zipf(s) over
-- 1..N (exact inverse CDF by binary search over the harmonic partial sums) with LuaJIT's
-- deterministic math.random under a fixed seed. Rank r maps to ids[(r-1)*P mod N + 1]
-- (P a prime > N, so a permutation): the hot ids are spread over the table, not the first
-- rows. Same seed, same N: same sequence on every run.
local Z = {}

local PRIME = 2654435761

function Z.load_ids(path)
    local ids = {}
    for line in io.lines(path) do
        local id = tonumber(line)
        if id then
            ids[#ids + 1] = id
        end
    end
    assert(#ids > 0, "no ids in " .. path)
    return ids
end

-- sequence(ids, s, count, seed): count ids drawn by Zipf(s) rank.
function Z.sequence(ids, s, count, seed)
    local n = #ids
    local cdf, sum = {}, 0
    for i = 1, n do
        sum = sum + 1 / (i ^ s)
        cdf[i] = sum
    end
    math.randomseed(seed)
    local out = {}
    for k = 1, count do
        local u = math.random() * sum
        local lo, hi = 1, n
        while lo < hi do
            local mid = math.floor((lo + hi) / 2)
            if cdf[mid] < u then
                lo = mid + 1
            else
                hi = mid
            end
        end
        out[k] = ids[((lo - 1) * PRIME) % n + 1]
    end
    return out
end

return Z
