# The application suite (Perigee::HttpTest::APP_SUITE: the blocks of
# 100-http-lua.t, 101-http-shared.t and 105-http-lua-api.t) over
# HTTP/2 over TLS (ALPN h2): the same handlers must give the same
# answers. Blocks that cannot be asked this way are skipped with their
# reason (see "Transports" in Perigee::HttpTest).
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run(transport => 'h2tls',
		       data => [Perigee::HttpTest::APP_SUITE]);
