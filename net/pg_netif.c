/*
 * The per-worker network interface: the receive burst, the transmit batch.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "core/pg_shm.h"
#include "net/pg_netif.h"
#include "net/pg_steer.h"

void
pg_netif_init(struct pg_netif *nif, unsigned worker, unsigned nworkers,
	      const struct rte_ether_addr *mac, uint32_t addr, unsigned prefix,
	      uint32_t gateway, unsigned mtu)
{
	nif->worker = worker;
	nif->nworkers = nworkers;
	nif->holder = (uint16_t)(worker + 1);
	nif->mac = *mac;
	nif->addr = addr;
	nif->mask = rte_cpu_to_be_32(prefix == 0 ? 0 : ~0u << (32 - prefix));
	nif->gateway = gateway;
	nif->mtu = mtu;
	nif->now_ns = pg_now_ns();
}

void
pg_netif_tx(struct pg_netif *nif, struct rte_mbuf *m)
{
	if (nif->tx_len == PG_BURST)
		pg_netif_flush(nif);
	nif->tx[nif->tx_len++] = m;
}

void
pg_netif_flush(struct pg_netif *nif)
{
	uint16_t n = nif->tx_len;
	if (n == 0)
		return;
	/* Lengths first: the driver may free what it sends. */
	uint32_t len[PG_BURST];
	for (uint16_t i = 0; i < n; i++)
		len[i] = nif->tx[i]->pkt_len;
	uint16_t sent = pg_driver_tx(nif->drv, nif->tx, n);
	PG_STAT_ADD(nif->stats, tx_pkts, sent);
	for (uint16_t i = 0; i < sent; i++)
		PG_STAT_ADD(nif->stats, tx_bytes, len[i]);
	for (uint16_t i = sent; i < n; i++)
		pg_netif_drop(nif, nif->tx[i], PG_DROP_tx_full);
	nif->tx_len = 0;
}

unsigned
pg_netif_poll(struct pg_netif *nif)
{
	struct rte_mbuf *pkts[PG_BURST];

	unsigned total = 0;
	if (!nif->sim_clock)
		nif->now_ns = pg_now_ns();
	/* Frames another worker received for us first: they are usually the
	 * older ones of their flow (a peer's queue choice can change in the
	 * middle of a connection), and TCP prefers them in order. */
	if (nif->nworkers > 1)
		total += pg_steer_drain(nif);
	uint16_t n = pg_driver_rx(nif->drv, pkts, PG_BURST);
	for (uint16_t i = 0; i < n; i++) {
		PG_STAT_INC(nif->stats, rx_pkts);
		PG_STAT_ADD(nif->stats, rx_bytes, pkts[i]->pkt_len);
		pg_eth_input(nif, pkts[i]);
	}
	total += n;
	pg_netif_flush(nif);
	return total;
}

void
pg_netif_close(struct pg_netif *nif)
{
	for (uint16_t i = 0; i < nif->tx_len; i++)
		pg_mbuf_free(nif->tx[i]);
	nif->tx_len = 0;
}
