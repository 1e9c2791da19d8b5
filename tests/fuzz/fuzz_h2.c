/*
 * fuzz_h2: libFuzzer target for the HTTP/2 server (http/pg_h2.c).
 *
 * One input is one connection: the client preface is given, then the
 * input's bytes are fed as frames, in chunks whose sizes come from the
 * first byte; between chunks the clock moves, the server's output is
 * drained (not always: a peer that does not read) and the application
 * answers, aborts or reads what it holds, as the second byte says. At the
 * end the server is destroyed: every exchange the application held must
 * have been answered or told on_close, and every mbuf must be back in the
 * pool. Any violation aborts, so libFuzzer keeps the input.
 *
 *   make fuzz && build/fuzz/fuzz_h2 tests/fuzz/corpus/h2
 */
#include <stdio.h>
#include <stdlib.h>

#include "http/pg_h2.h"
#include "net/pg_netif.h"
#include "tests/tools/pg_tool_net.h"
#include "tests/unit/net/pg_stream_fake.h"

#define PG_FUZZ_MBUFS  1023
#define PG_FUZZ_HELD   16

#define pg_fuzz_bug(...)                                                    \
	do {                                                                \
		fprintf(stderr, "fuzz_h2: BUG: " __VA_ARGS__);              \
		fputc('\n', stderr);                                        \
		abort();                                                    \
	} while (0)

struct pg_fuzz_h2 {
	struct pg_netif nif;
	struct pg_h2_server *srv;
	struct pg_stream_fake fs;
	struct pg_http_xchg *held[PG_FUZZ_HELD];
	uint8_t acts;                /* what the application does */
};

static struct pg_fuzz_h2 F;
static struct rte_mempool *pg_fuzz_pool;

/* --- the application ----------------------------------------------------- */

static void
pg_fuzz_answer(struct pg_http_xchg *x, int stream)
{
	static const char body[] = "fuzzed and answered";
	struct pg_http_field f[] = { { { "X-A", 3 }, { "1", 1 } },
				     { { "x-t", 3 }, { "2", 1 } } };
	struct pg_http_msg r = { .status = 200, .fields = f, .nheaders = 1,
				 .ntrailers = stream != 0 };
	const char *err;

	if (pg_http_xchg_respond(x, &r, stream ? -1 : (int64_t)sizeof(body),
				 0, &err) != PG_OK)
		return;
	pg_http_xchg_write(x, body, 5, 0);
	pg_http_xchg_write(x, body + 5, sizeof(body) - 5, 1);
}

static void
pg_fuzz_hold(struct pg_http_xchg *x)
{
	for (int i = 0; i < PG_FUZZ_HELD; i++)
		if (F.held[i] == NULL || F.held[i] == x) {
			F.held[i] = x;
			return;
		}
	pg_http_xchg_abort(x);           /* no room: give up at once */
}

static void
pg_fuzz_forget(struct pg_http_xchg *x)
{
	for (int i = 0; i < PG_FUZZ_HELD; i++)
		if (F.held[i] == x)
			F.held[i] = NULL;
}

static void
pg_fuzz_on_request(struct pg_http_xchg *x, struct pg_http_msg *req)
{
	if (req->method_name.len == 0)
		pg_fuzz_bug("request without a method");
	pg_fuzz_hold(x);
}

static void
pg_fuzz_on_request_end(struct pg_http_xchg *x)
{
	if (F.acts & 1) {
		pg_fuzz_forget(x);
		pg_fuzz_answer(x, F.acts & 2);
	}
}

static void
pg_fuzz_on_close(struct pg_http_xchg *x)
{
	int found = 0;

	for (int i = 0; i < PG_FUZZ_HELD; i++)
		found |= F.held[i] == x;
	if (!found)
		pg_fuzz_bug("on_close for an exchange the application "
			    "does not hold");
	pg_fuzz_forget(x);
}

static const struct pg_http_xchg_handler pg_fuzz_handler = {
	.on_request = pg_fuzz_on_request,
	.on_request_end = pg_fuzz_on_request_end,
	.on_close = pg_fuzz_on_close,
};

/* Between chunks: act on one held exchange as byte k says. */
static void
pg_fuzz_act(uint8_t k)
{
	struct pg_http_xchg *x = F.held[k % PG_FUZZ_HELD];
	uint8_t buf[512];

	if (x == NULL)
		return;
	switch ((k >> 4) & 3) {
	case 0:
		pg_http_xchg_body_read(x, buf, sizeof(buf));
		break;
	case 1:
		F.held[k % PG_FUZZ_HELD] = NULL;
		pg_fuzz_answer(x, k & 0x40);
		break;
	case 2:
		F.held[k % PG_FUZZ_HELD] = NULL;
		pg_http_xchg_abort(x);
		break;
	default:
		break;
	}
}

/* --- one input ----------------------------------------------------------- */

static void
pg_fuzz_drain(void)
{
	struct rte_mbuf *m;

	while ((m = pg_stream_fake_pop(&F.fs)) != NULL)
		pg_mbuf_free(m);
	pg_stream_fake_drained(&F.fs);
	pg_stream_fake_retry(&F.fs);
}

static void
pg_fuzz_setup(uint8_t acts)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct pg_h2_conf conf;
	const char *err;

	memset(&F, 0, sizeof(F));
	F.acts = acts;
	F.nif.pool = pg_fuzz_pool;
	F.nif.holder = 1;
	F.nif.now_ns = UINT64_C(1000000000000);
	F.nif.sim_clock = 1;
	pg_h2_conf_default(&conf);
	conf.max_concurrent_streams = 8;
	conf.max_body = 4096;
	conf.send_buffer = 32768;
	conf.stream_buffer = 4096;
	F.srv = pg_h2_server_create(&F.nif, &conf, &pg_fuzz_handler, NULL,
				    NULL, &err);
	if (F.srv == NULL)
		pg_fuzz_bug("server: %s", err);
	pg_stream_fake_init(&F.fs, pg_fuzz_pool, 16384, 8192);
	if (pg_h2_attach(F.srv, &F.fs.st, preface, sizeof(preface) - 1)
	    != PG_OK)
		pg_fuzz_bug("attach refused");
}

static void
pg_fuzz_teardown(void)
{
	pg_h2_server_destroy(F.srv);
	for (int i = 0; i < PG_FUZZ_HELD; i++)
		if (F.held[i] != NULL)
			pg_fuzz_bug("exchange %d held after the server died "
				    "without on_close", i);
	pg_stream_fake_fini(&F.fs);
	unsigned avail = rte_mempool_avail_count(pg_fuzz_pool);
	if (avail != PG_FUZZ_MBUFS)
		pg_fuzz_bug("%u mbufs leaked", PG_FUZZ_MBUFS - avail);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pg_tool_eal("pg-fuzz-h2", 256);
	pg_fuzz_pool = pg_mbuf_pool_create("pg_fuzz_pool", PG_FUZZ_MBUFS, 0);
	if (pg_fuzz_pool == NULL) {
		fprintf(stderr, "fuzz_h2: cannot create the mbuf pool\n");
		exit(1);
	}
	return 0;
}

/*
 * Input: a chunk byte (bits 0-5: chunk size - 1; 6: the peer reads only
 * every other chunk; 7: clock jumps of 10 s instead of 100 ms), an
 * application byte (bit 0: answer at request end; 1: with trailers), then
 * the frames. After each chunk one more byte of input, if any, is an act
 * of the application (pg_fuzz_act) taken from the chunk's last byte.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return -1;
	uint32_t chunk = (data[0] & 63) + 1u;
	uint64_t jump = (data[0] & 128) ? UINT64_C(10000000000)
					: UINT64_C(100000000);
	pg_fuzz_setup(data[1]);
	for (size_t off = 2, n = 0; off < size; off += chunk, n++) {
		uint32_t k = (uint32_t)RTE_MIN((size_t)chunk, size - off);
		if (pg_stream_fake_offer(&F.fs, data + off, k) != PG_OK)
			pg_fuzz_bug("mbufs ran out in the fake stream");
		if (!(data[0] & 64) || (n & 1))
			pg_fuzz_drain();
		pg_fuzz_act(data[off + k - 1]);
		F.nif.now_ns += jump;
		pg_h2_server_poll(F.srv);
		if (F.fs.closed)
			break;
	}
	pg_fuzz_drain();
	pg_fuzz_teardown();
	return 0;
}
