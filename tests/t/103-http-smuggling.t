# Strict HTTP/1.1 parsing on the real server: every message whose framing
# or head could be read two ways (request smuggling, RFC 9112 6.3 and
# 11.2) is refused with 400 (505 for HTTP/2.0) and the connection closed.
# Each block sends the bad request followed by a second, well-formed one
# on the same connection: the answer must be the 400 alone, then the end
# of the connection, so the second request is never answered. Covered:
# Content-Length with Transfer-Encoding (both orders), duplicate
# Content-Length (same and different values, in one field or two),
# malformed Content-Length (sign, space inside, hex, empty, over 2^64),
# Transfer-Encoding other than one final chunked (chunked, identity /
# gzip / identity / xchunked / a second field, chunked twice), bad chunk
# framing (size not hex, over 2^64, followed by a space or a bare LF, data
# not followed by CRLF), an answer the application gave before such a
# body (it arrives whole, then the connection closes), bare LF or CR in
# the request line or the header section, missing and duplicate Host on
# HTTP/1.1, obs-fold, a space before the colon, invalid and empty field
# names, NUL in a value; and that HTTP/1.0 without Host is served. Each
# refusal is counted under its reason in `perigee status`, and the
# application never sees the request. (Perigee::HttpTest: one block per
# connection.)
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

# The request smuggled behind the bad one: it must never be answered.
our $NEXT = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
# The whole answer: one 400 with Connection: close, then nothing.
our $ONLY_400 = '\AHTTP/1\.1 400 Bad Request\r\n(?:[^\r\n]+\r\n)*'
	. 'Connection: close\r\n(?:[^\r\n]+\r\n)*\r\n400 Bad Request\n\z';

Perigee::HttpTest::run();

__DATA__

=== TEST 1: Content-Length then Transfer-Encoding
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_cl_te: 1
http.requests: 0

=== TEST 2: Transfer-Encoding then Content-Length
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_cl_te: 1
http.requests: 0

=== TEST 3: duplicate Content-Length, same value
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 4: duplicate Content-Length, different values
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 33\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 5: two values in one Content-Length field
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 6: Content-Length with a plus sign
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 7: negative Content-Length
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 8: a space inside Content-Length
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1 0\r\n\r\n0123456789" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 9: hexadecimal Content-Length
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 10: empty Content-Length
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.requests: 0

=== TEST 11: Content-Length over 2^64 (not wrapped round to a small one)
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551620\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_content_length: 1
http.err_body_size: 0
http.requests: 0

=== TEST 12: Transfer-Encoding: chunked, identity
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 13: Transfer-Encoding: gzip
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 14: Transfer-Encoding: identity
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 15: Transfer-Encoding: xchunked is not chunked
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 16: chunked, then identity in a second Transfer-Encoding field
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 17: chunked twice
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_transfer_encoding: 1
http.requests: 0

=== TEST 18: a chunk size that is not hexadecimal
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_chunk: 1

=== TEST 19: a chunk size over 2^64
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_chunk: 1
http.err_body_size: 0

=== TEST 20: chunk data not followed by CRLF
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_chunk: 1

=== TEST 21: a bare LF after the chunk size
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_chunk: 1

=== TEST 22: a space after the chunk size
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_chunk: 1

=== TEST 23: an answer given before a body with bad chunks arrives whole, then the connection closes
--- app
local app = require("perigee").app()
app:post("/early", function(req, res) return res:send("early") end)
return app
--- raw_request eval
"POST /early HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" . $::NEXT
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nearly\z
--- connection_end: eof
--- status_delta
http.err_chunk: 1
http.requests: 1

=== TEST 24: a bare LF ends the request line
--- raw_request eval
"GET /a HTTP/1.1\nHost: x\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 25: a bare LF ends a header field
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\nX-Hidden: 1\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 26: a bare LF ends the header section
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\n\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 27: a bare CR inside the request line
--- raw_request eval
"GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 28: a bare CR inside a header value
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\rX-B: 2\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 29: HTTP/1.1 without Host
--- raw_request eval
"GET /a HTTP/1.1\r\nX-A: 1\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_host: 1
http.requests: 0

=== TEST 30: two Host fields
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_host: 1
http.requests: 0

=== TEST 31: obsolete line folding
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_line_ending: 1
http.requests: 0

=== TEST 32: a space between the field name and the colon
--- raw_request eval
"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length : 4\r\n\r\nabcd" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_syntax: 1
http.requests: 0

=== TEST 33: a field name with a character outside tchar
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nX(Y: 1\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_syntax: 1
http.requests: 0

=== TEST 34: an empty field name
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_header_name: 1
http.requests: 0

=== TEST 35: a NUL in a field value
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n" . $::NEXT
--- error_code: 400
--- raw_response_like eval
$::ONLY_400
--- connection_end: closed
--- status_delta
http.err_syntax: 1
http.requests: 0

=== TEST 36: HTTP/2.0 in an HTTP/1.1 connection is 505, then close
--- raw_request eval
"GET /a HTTP/2.0\r\nHost: x\r\n\r\n" . $::NEXT
--- error_code: 505
--- raw_response_like
\AHTTP/1\.1 505 [^\r]*\r\n(?:[^\r\n]+\r\n)*Connection: close\r\n(?:[^\r\n]+\r\n)*\r\n505 [^\r\n]+\n\z
--- connection_end: closed
--- status_delta
http.err_version: 1
http.requests: 0

=== TEST 37: HTTP/1.0 without Host is served
--- app
local app = require("perigee").app()
app:get("/a", function(req, res)
  return res:send(("version %s host %s"):format(req.http_version, tostring(req.headers.host)))
end)
return app
--- raw_request eval
"GET /a HTTP/1.0\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.[01] 200 .*\r\n\r\nversion 1\.0 host nil\z
--- connection_end: closed
--- status_delta
http.requests: 1
http.err_host: 0
