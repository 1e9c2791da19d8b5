/*
 * Development reloads (lua = { auto_reload = true }): the primary looks at
 * the application's files every lua.watch_ms and reloads when they have
 * changed and then stayed the same for one more look (an editor's save in
 * several writes makes one reload, not a reload of half a file). "The
 * application's files" are the *.lua files under the app file's directory,
 * a few levels deep.
 */
#ifndef PG_APPWATCH_H
#define PG_APPWATCH_H

#include <stdint.h>

struct pg_appwatch;

/* Watch the files beside app; NULL when out of memory. */
struct pg_appwatch *pg_appwatch_new(const char *app, unsigned watch_ms);

/* Look if it is time; 1 when the files changed and have settled. */
int pg_appwatch_poll(struct pg_appwatch *aw, uint64_t now_ns);

void pg_appwatch_free(struct pg_appwatch *aw);

#endif
