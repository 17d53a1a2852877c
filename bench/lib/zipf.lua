-- bench/lib/zipf.lua: a Zipf-distributed sequence of existing ids, reproducible and cheap.
--
-- Owns: reading the ids bench/run.sh wrote, as ranges of consecutive ids ("first last" a
-- line: seeded ids come in long runs, so a million ids are a few lines), and drawing ranks
-- from Zipf(s) over 1..N by rejection-inversion (Hoermann & Derflinger 1996, as in Apache
-- Commons' RejectionInversionZipfSampler): exact, O(1) per draw, no table of N entries.
-- LuaJIT's math.random is deterministic under a fixed seed: same seed, same N, same
-- sequence on every run. Rank r maps to the ((r-1)*P mod N)+1-th id (P a prime > N, so a
-- permutation): the hot ids are spread over the table rather than being its first rows.
-- Why cheap matters: wrk initialises its threads one after the other and each starts
-- sending at once, while the measured duration starts after the last; a slow init would
-- let the first threads' extra requests inflate req/s.
-- A library, not a wrk script: it sends nothing and counts nothing. Its users
-- (user_zipf.lua, mix.lua) count every response's status through common.lua; run as a
-- script of its own (wrk -s zipf.lua) it refuses, so no run can measure throughput
-- without looking at the statuses.
if select("#", ...) == 0 then
    error("bench/lib/zipf.lua is a library for user_zipf.lua and mix.lua, not a wrk script")
end

local Z = {}

local PRIME = 2654435761
local log, exp, floor = math.log, math.exp, math.floor

-- load_ranges(path): {first = {...}, last = {...}, before = {...}, n = total ids}
function Z.load_ranges(path)
    local r = {first = {}, last = {}, before = {}, n = 0}
    for line in io.lines(path) do
        local a, b = string.match(line, "^%s*(%d+)%s+(%d+)")
        if a then
            a, b = tonumber(a), tonumber(b)
            local k = #r.first + 1
            r.first[k], r.last[k], r.before[k] = a, b, r.n
            r.n = r.n + (b - a + 1)
        end
    end
    assert(r.n > 0, "no ids in " .. path)
    return r
end

-- id_at(r, i): the i-th id (1-based) of the ranges.
function Z.id_at(r, i)
    local lo, hi = 1, #r.first
    while lo < hi do
        local mid = floor((lo + hi + 1) / 2)
        if r.before[mid] < i then
            lo = mid
        else
            hi = mid - 1
        end
    end
    return r.first[lo] + (i - r.before[lo] - 1)
end

-- log(1+x)/x and (exp(x)-1)/x without cancellation near 0 (Lua has no log1p/expm1).
local function helper1(x)
    if math.abs(x) > 1e-8 then
        return log(1 + x) / x
    end
    return 1 - x * (0.5 - x / 3)
end

local function helper2(x)
    if math.abs(x) > 1e-8 then
        return (exp(x) - 1) / x
    end
    return 1 + x * 0.5 * (1 + x / 3)
end

-- sampler(n, s): a function returning ranks 1..n with P(k) proportional to k^-s.
function Z.sampler(n, s)
    local function h(x) return exp(-s * log(x)) end
    local function hint(x) -- integral of h: (x^(1-s) - 1)/(1-s), log(x) when s = 1
        local lx = log(x)
        return helper2((1 - s) * lx) * lx
    end
    local function hint_inv(x)
        local t = x * (1 - s)
        if t < -1 then t = -1 end -- rounding guard: the result stays >= 1
        return exp(helper1(t) * x)
    end
    local hx1 = hint(1.5) - 1
    local hn = hint(n + 0.5)
    local cut = 2 - hint_inv(hint(2.5) - h(2))
    return function()
        while true do
            local u = hn + math.random() * (hx1 - hn)
            local x = hint_inv(u)
            local k = floor(x + 0.5)
            if k < 1 then k = 1 elseif k > n then k = n end
            if k - x <= cut or u >= hint(k + 0.5) - h(k) then
                return k
            end
        end
    end
end

-- sequence(ranges, s, count, seed): count ids drawn by Zipf(s) rank.
function Z.sequence(ranges, s, count, seed)
    local n = ranges.n
    math.randomseed(seed)
    local draw = Z.sampler(n, s)
    local out = {}
    for k = 1, count do
        out[k] = Z.id_at(ranges, ((draw() - 1) * PRIME) % n + 1)
    end
    return out
end

-- load_ids(path): a plain list, one id a line (the write pool of the mixes).
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

return Z
