/*
 * Software flow steering (DESIGN §1). The owner of a TCP or UDP flow is a
 * pure function of its 4-tuple: the Toeplitz hash a NIC would compute with
 * our RSS key, mapped through a 128-entry redirection table filled round
 * robin. When the NIC already delivered to the owner nothing moves;
 * otherwise the receiving worker hands the mbuf over through the owner's
 * ring (multi-producer, single consumer).
 */
#ifndef PG_STEER_H
#define PG_STEER_H

#include <stdint.h>

#include "net/pg_netif.h"

#define PG_RSS_KEY_LEN   40
#define PG_RETA_SIZE     128
#define PG_STEER_RING    1024

extern const uint8_t pg_rss_key[PG_RSS_KEY_LEN];

/*
 * Owner of the flow of a packet from saddr:sport to daddr:dport (all in
 * network order) among nworkers.
 */
unsigned pg_steer_owner(uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, unsigned nworkers);

/*
 * Hand m (data at the IPv4 header) to worker owner's ring. Consumes m:
 * when the ring is full it is dropped and counted.
 */
void pg_steer_handoff(struct pg_netif *nif, struct rte_mbuf *m,
		      unsigned owner);

/* Deliver what other workers handed to us; returns how many. */
unsigned pg_steer_drain(struct pg_netif *nif);

#endif
