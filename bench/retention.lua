-- wrk script for bench/retention.sh: /mixed/{route}/{n} with n counting per thread (so n % 100 == 0 fails and
-- n % 200 == 1 is slow in the app) and routes of very uneven traffic (the last ones rare).
local routes = { "orders", "users", "search", "cart", "catalog", "prices", "stock", "reviews", "sessions", "images",
  "shipping", "returns", "coupons", "wishlist", "payments", "invoices", "reports", "exports", "admin", "audit" }
-- Per 10 000 requests: cumulative upper bounds for each route.
local bounds = { 4000, 6000, 7000, 7600, 8100, 8500, 8800, 9050, 9250, 9420, 9560, 9680, 9780, 9860, 9920, 9960, 9985, 9995, 9999, 10000 }
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local counter = 0
function route_of(c)
  local r = c % 10000
  for i = 1, #bounds do
    if r < bounds[i] then return routes[i] end
  end
  return routes[#routes]
end
request = function()
  counter = counter + 1
  local n = tid * 1000000000000 + counter
  return wrk.format("GET", "/mixed/" .. route_of(counter) .. "/" .. n)
end
