# The application suite (Perigee::HttpTest::APP_SUITE: the blocks of
# 100-http-lua.t, 101-http-shared.t and 105-http-lua-api.t) over
# HTTP/1.1 over TLS (ALPN http/1.1): the same handlers must give the same
# answers. Blocks that cannot be asked this way are skipped with their
# reason (see "Transports" in Perigee::HttpTest).
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run(transport => 'h1tls',
		       data => [Perigee::HttpTest::APP_SUITE]);
