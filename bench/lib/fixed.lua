-- bench/lib/fixed.lua: one fixed request, over and over (the URL given to wrk, wrk's -H
-- headers). Used by every scenario that is not a mix or a distribution.
-- Environment: BENCH_METHOD [GET], BENCH_BODY [none]; see common.lua for the rest.
-- No request() function: wrk then sends its prebuilt request, the cheapest path.
package.path = os.getenv("BENCH_LIB") .. "/?.lua;" .. package.path
local common = require("common")
common.install() -- setup, response (counts every status), done

wrk.method = common.env("BENCH_METHOD", "GET")
wrk.body = common.env("BENCH_BODY", nil)

function init(_args)
    common.init()
end
