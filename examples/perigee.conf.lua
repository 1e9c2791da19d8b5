-- Perigee example configuration: two workers on a TAP device whose kernel
-- side is 198.18.0.1/24 (scripts/netlab sets it up in a network namespace).
return {
  name = "example",
  workers = { 0, 1 },                    -- one worker per CPU listed
  dpdk = {
    devices = { "net_tap0,iface=pg0" },  -- --vdev arguments; the first is served
    eal_args = {},                       -- extra EAL arguments
    mbufs = 8191,                        -- mbufs per worker pool
  },
  interface = {
    address = "198.18.0.2",
    prefix = 24,
    gateway = "198.18.0.1",
    mtu = 1500,
  },
  listen = { 8080 },                     -- HTTP/1.1 ports
  app = "hello/app.lua",                 -- the Lua application (relative
                                         -- to this file)
  log = { level = "info", file = "stderr" },
  -- res:sendfile and app:static read files through a cache per worker
  -- (docs/configuration.md, "Static files"); these are the defaults.
  files = { cache_mb = 64, chunk_kb = 256, readahead = 2,
            open_cache = 1024, open_valid_ms = 1000 },
  hugepages = 256,                       -- MB of 2 MB hugepages
}
