/*
 * The TCP test service: what proves the stack against other TCPs.
 *
 *   echo     (RFC 862) sends back what it receives, zero copy; when the
 *            send queue reaches the high-water mark it refuses data
 *            (PG_AGAIN) until on_writable.
 *   discard  (RFC 863) consumes; at EOF logs the byte count and the
 *            SHA-256 of what it received, then closes.
 *   source   sends source_bytes of the pattern below to each client as
 *            fast as on_writable allows, then closes.
 *   client   (worker 0, test_service.connect) connects, sends bytes of the
 *            pattern, half-closes, reads until EOF and logs what it sent,
 *            what it received and the SHA-256 of the latter.
 *
 * Log lines (notice level), one per connection, for tests to read:
 *   testsvc discard A.B.C.D:PORT: received N bytes sha256 HEX in S s
 *   testsvc client A.B.C.D:PORT: sent N bytes, received M bytes sha256 HEX in S s
 *   testsvc client A.B.C.D:PORT: failed after sending N bytes: REASON
 */
#ifndef PG_TESTSVC_H
#define PG_TESTSVC_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "core/pg_config.h"
#include "net/pg_tcp.h"

struct pg_testsvc;

/*
 * Listen on the ports cfg->testsvc sets on stack s and, when client is
 * nonzero and a connect address is set, open the client connection. The
 * data it sends comes from pool, tagged holder. NULL on failure (err says
 * why); a configuration without any service still gets an (idle) object.
 */
struct pg_testsvc *pg_testsvc_start(struct pg_tcp_stack *s,
				    const struct pg_config *cfg,
				    struct rte_mempool *pool, uint16_t holder,
				    int client, const char **err);

/* Stop listening, reset the connections still open, free everything. */
void pg_testsvc_stop(struct pg_testsvc *t);

/*
 * The test pattern: the stream is the 64-bit big-endian integers 0, 1, 2,
 * ... one after the other, so that every 8-byte word says where it belongs
 * and any byte moved, lost or repeated changes the digest. Fills len bytes
 * starting at stream offset off. (Inline: the test tools use it too.)
 */
static inline void
pg_testsvc_pattern(uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t word = off >> 3;
		unsigned i = (unsigned)(off & 7);
		for (; i < 8 && len > 0; i++, len--, off++)
			*p++ = (uint8_t)(word >> (56 - 8 * i));
	}
}

#endif
